using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using EntitlementGateway.IntegrationTests.Infrastructure;

namespace EntitlementGateway.IntegrationTests.Emulator;

/// <summary>The Store's request header table, enforced on every Store endpoint: Content-Length, application/json.</summary>
public sealed class StoreProtocolTests(EmulatorFixture fixture) : IClassFixture<EmulatorFixture>, IAsyncLifetime
{
    private readonly EmulatorClient _client = fixture.Client;

    public async Task InitializeAsync() => (await _client.Http.DeleteAsync("emulator/faults")).Dispose();

    public Task DisposeAsync() => InitializeAsync();

    private async Task<(string Token, string Ucid)> NewUserAsync()
    {
        var userId = EmulatorClient.NewUserId();
        await _client.SeedAsync(userId, Items.Item("a", "P1"));
        return (await _client.GetTokenAsync(), await _client.MintUcidAsync(userId));
    }

    private static JsonObject QueryBody(string ucid) => new()
    {
        ["beneficiaries"] = new JsonArray(new JsonObject { ["identitytype"] = "b2b", ["identityValue"] = ucid }),
        ["market"] = "neutral",
    };

    private async Task<HttpResponseMessage> PostQueryAsync(string token, HttpContent content)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, EmulatorClient.QueryPath) { Content = content };
        request.Headers.Authorization = new("Bearer", token);
        return await _client.Http.SendAsync(request);
    }

    private async Task<long> ProtocolErrorsAsync() =>
        (await _client.GetJsonAsync("emulator/stats"))["protocolErrors"]!.GetValue<long>();

    [Fact]
    public async Task Query_WithChunkedBody_Returns411AndCountsAProtocolError()
    {
        var (token, ucid) = await NewUserAsync();
        var before = await ProtocolErrorsAsync();

        // JsonContent has no length of its own: HttpClient sends it with Transfer-Encoding: chunked.
        using var response = await PostQueryAsync(token, JsonContent.Create(QueryBody(ucid)));

        Assert.Equal(HttpStatusCode.LengthRequired, response.StatusCode);
        var error = await response.Content.ReadFromJsonAsync<JsonObject>();
        Assert.Equal("LengthRequired", error!["code"]!.GetValue<string>());
        Assert.Contains("chunked", error["message"]!.GetValue<string>(), StringComparison.OrdinalIgnoreCase);
        Assert.Equal(before + 1, await ProtocolErrorsAsync());
        Assert.Equal(before + 1, fixture.Server.State.ProtocolErrors);
    }

    [Fact]
    public async Task Renew_WithChunkedBody_Returns411()
    {
        var (token, ucid) = await NewUserAsync();

        using var response = await _client.Http.PostAsJsonAsync(EmulatorClient.RenewPath,
            new JsonObject { ["serviceTicket"] = token, ["key"] = ucid });

        Assert.Equal(HttpStatusCode.LengthRequired, response.StatusCode);
    }

    [Fact]
    public async Task Query_WithoutContentLength_Returns411()
    {
        var before = await ProtocolErrorsAsync();
        // HttpClient always frames a POST body (length or chunked), so this one is written by hand on the HTTP port.
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(fixture.Server.HttpBaseAddress.Host, fixture.Server.HttpBaseAddress.Port);
        await using var stream = tcp.GetStream();
        var head = $"POST /{EmulatorClient.QueryPath} HTTP/1.1\r\nHost: {fixture.Server.HttpBaseAddress.Authority}\r\n" +
                   "Content-Type: application/json\r\nConnection: close\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head));

        using var reader = new StreamReader(stream, Encoding.ASCII);
        var statusLine = await reader.ReadLineAsync();
        var rest = await reader.ReadToEndAsync();

        Assert.Equal("HTTP/1.1 411 Length Required", statusLine);
        Assert.Contains("Content-Length", rest, StringComparison.Ordinal);
        Assert.Equal(before + 1, await ProtocolErrorsAsync());
    }

    [Fact]
    public async Task Query_WithTextPlainBody_Returns415AndCountsAProtocolError()
    {
        var (token, ucid) = await NewUserAsync();
        var before = await ProtocolErrorsAsync();

        using var response = await PostQueryAsync(token, new StringContent(QueryBody(ucid).ToJsonString(), Encoding.UTF8, "text/plain"));

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Equal("UnsupportedMediaType", (await response.Content.ReadFromJsonAsync<JsonObject>())!["code"]!.GetValue<string>());
        Assert.Equal(before + 1, await ProtocolErrorsAsync());
    }

    [Fact]
    public async Task Query_WithoutContentType_Returns415()
    {
        var (token, ucid) = await NewUserAsync();
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes(QueryBody(ucid).ToJsonString()));

        using var response = await PostQueryAsync(token, content);

        Assert.Null(content.Headers.ContentType);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
    }

    [Fact]
    public async Task Query_WithAnEmptyBodyWithoutContentType_PassesTheFraming_AndIsRefusedForItsContent()
    {
        var (token, _) = await NewUserAsync();
        var before = await ProtocolErrorsAsync();

        using var response = await PostQueryAsync(token, new ByteArrayContent([]));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(before, await ProtocolErrorsAsync());
    }

    [Fact]
    public async Task Query_WithAnEmptyBodyAndTextPlain_Returns415()
    {
        var (token, _) = await NewUserAsync();

        using var response = await PostQueryAsync(token, new StringContent("", Encoding.UTF8, "text/plain"));

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
    }

    [Theory]
    [InlineData("application/json; charset=utf-8")]
    [InlineData("application/json")]
    [InlineData("Application/JSON; charset=UTF-8")]
    public async Task Query_WithJsonMediaTypeAndContentLength_IsAccepted(string contentType)
    {
        var (token, ucid) = await NewUserAsync();
        var before = await ProtocolErrorsAsync();
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes(QueryBody(ucid).ToJsonString()));
        content.Headers.TryAddWithoutValidation("Content-Type", contentType);

        using var response = await PostQueryAsync(token, content);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Single((await response.Content.ReadFromJsonAsync<JsonObject>())!["items"]!.AsArray());
        Assert.Equal(before, await ProtocolErrorsAsync());
    }

    [Theory]
    [InlineData("application/json; charset=utf-8", HttpStatusCode.UnsupportedMediaType)]
    [InlineData("Application/JSON", HttpStatusCode.UnsupportedMediaType)]
    [InlineData("application/json ", HttpStatusCode.OK)] // the header's trailing white space is not part of its value
    [InlineData("application/json", HttpStatusCode.OK)]
    public async Task Query_UnderLiteralContentType_AcceptsOnlyTheTablesValueWordForWord(string contentType, HttpStatusCode expected)
    {
        (await _client.Http.PutAsJsonAsync("emulator/faults", new JsonObject { ["literalContentType"] = true })).Dispose();
        var (token, ucid) = await NewUserAsync();
        var before = await ProtocolErrorsAsync();
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes(QueryBody(ucid).ToJsonString()));
        content.Headers.TryAddWithoutValidation("Content-Type", contentType);

        using var response = await PostQueryAsync(token, content);

        Assert.Equal(expected, response.StatusCode);
        Assert.Equal(before + (expected == HttpStatusCode.OK ? 0 : 1), await ProtocolErrorsAsync());
        Assert.True((await _client.GetJsonAsync("emulator/faults"))["literalContentType"]!.GetValue<bool>());
    }

    [Fact]
    public async Task Query_WithChunkedBody_IsRefusedBeforeFaultsAndAuth()
    {
        (await _client.Http.PutAsJsonAsync("emulator/faults", new JsonObject { ["failNext"] = 1, ["failureStatus"] = 503 })).Dispose();
        var injectedBefore = fixture.Server.State.FaultsInjected;
        var rejectionsBefore = fixture.Server.State.ServiceTokenRejections;

        using var response = await PostQueryAsync("not-a-token", JsonContent.Create(QueryBody("not-a-ucid")));

        Assert.Equal(HttpStatusCode.LengthRequired, response.StatusCode);
        Assert.Equal(injectedBefore, fixture.Server.State.FaultsInjected);
        Assert.Equal(1, (await _client.GetJsonAsync("emulator/faults"))["failNext"]!.GetValue<int>());
        Assert.Equal(rejectionsBefore, fixture.Server.State.ServiceTokenRejections);
    }

    [Fact]
    public async Task UnknownStorePath_WithChunkedPost_IsRefusedToo()
    {
        using var response = await _client.Http.PostAsJsonAsync("emulator/store/v9.0/collections/publisherQuery", new JsonObject());

        Assert.Equal(HttpStatusCode.LengthRequired, response.StatusCode);
    }

    [Fact]
    public async Task AdminEndpoints_AcceptChunkedJson()
    {
        var before = await ProtocolErrorsAsync();

        using var faults = await _client.Http.PutAsJsonAsync("emulator/faults", new JsonObject { ["latencyMs"] = 0 });
        using var mint = await _client.Http.PostAsJsonAsync($"emulator/users/{EmulatorClient.NewUserId()}/collections-id", new JsonObject());

        Assert.Equal(HttpStatusCode.OK, faults.StatusCode);
        Assert.Equal(HttpStatusCode.OK, mint.StatusCode);
        Assert.Equal(before, await ProtocolErrorsAsync());
    }
}
