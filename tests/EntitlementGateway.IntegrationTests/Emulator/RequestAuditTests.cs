using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using EntitlementGateway.Emulator;
using EntitlementGateway.IntegrationTests.Infrastructure;

namespace EntitlementGateway.IntegrationTests.Emulator;

/// <summary>GET /emulator/requests: what reached the Store endpoints, headers and body, refused calls included.</summary>
public sealed class RequestAuditTests : IAsyncLifetime
{
    private EmulatorServer _server = null!;
    private EmulatorClient _client = null!;
    private StoreWorld _world = null!;

    public async Task InitializeAsync()
    {
        _server = await EmulatorServer.StartAsync(new EmulatorOptions());
        _client = new EmulatorClient(_server);
        _world = new StoreWorld(_server);
    }

    public async Task DisposeAsync()
    {
        _world.Dispose();
        _client.Dispose();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task Audit_RecordsHeadersBodyAndStatusOfAQuery_WithoutTheToken()
    {
        var userId = EmulatorClient.NewUserId();
        await _client.SeedAsync(userId, Items.Item("a", "P1"));
        var token = await _client.GetTokenAsync();
        var ucid = await _client.MintUcidAsync(userId);
        var json = new JsonObject
        {
            ["beneficiaries"] = new JsonArray(new JsonObject { ["identitytype"] = "b2b", ["identityValue"] = ucid }),
            ["market"] = "neutral",
        }.ToJsonString();
        using var request = new HttpRequestMessage(HttpMethod.Post, EmulatorClient.QueryPath)
        {
            Content = new StringContent(json, Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new("Bearer", token);
        request.Headers.UserAgent.ParseAdd("EntitlementGateway/1.0");
        request.Headers.Add("MS-CV", "cv-base.7");
        request.Headers.Add("MS-CorrelationId", "corr-42");

        using var response = await _client.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var audit = await _world.RequestsAsync();
        var record = Assert.Single(audit)!.AsObject();
        Assert.Equal("POST", record["method"]!.GetValue<string>());
        Assert.Equal("/" + EmulatorClient.QueryPath, record["path"]!.GetValue<string>());
        Assert.Equal(Encoding.UTF8.GetByteCount(json), record["contentLength"]!.GetValue<long>());
        Assert.Null(record["transferEncoding"]);
        Assert.True(record.ContainsKey("transferEncoding"), "nulls are written, not left out");
        Assert.Equal("application/json; charset=utf-8", record["contentType"]!.GetValue<string>());
        Assert.Equal("EntitlementGateway/1.0", record["userAgent"]!.GetValue<string>());
        Assert.Equal("cv-base.7", record["msCv"]!.GetValue<string>());
        Assert.Equal("corr-42", record["msCorrelationId"]!.GetValue<string>());
        Assert.Equal("Bearer", record["authorizationScheme"]!.GetValue<string>());
        Assert.False(record["hasSignature"]!.GetValue<bool>());
        Assert.Equal(json, record["body"]!.GetValue<string>());
        Assert.Equal(200, record["status"]!.GetValue<int>());
        Assert.True(DateTimeOffset.TryParse(record["at"]!.GetValue<string>(), out _));
        Assert.DoesNotContain(token, audit.ToJsonString(), StringComparison.Ordinal);
        Assert.Equal(json, _server.State.GetRequests().Single().Body);
    }

    [Fact]
    public async Task Audit_RecordsARefusedChunkedCall_WithItsTransferEncodingAnd411()
    {
        using var response = await _client.Http.PostAsJsonAsync(EmulatorClient.QueryPath, new JsonObject { ["market"] = "neutral" });

        Assert.Equal(HttpStatusCode.LengthRequired, response.StatusCode);
        var record = Assert.Single(_server.State.GetRequests());
        Assert.Null(record.ContentLength);
        Assert.Equal("chunked", record.TransferEncoding);
        Assert.Equal(411, record.Status);
        Assert.Equal("{\"market\":\"neutral\"}", record.Body);
    }

    [Fact]
    public async Task Audit_KeepsTheFirst64KBOfALargerBody_AndEachCallItsOwnBody()
    {
        // Larger than the audit's bound, so the bound decides what is kept; then a small body, which must not carry any
        // of the first one's bytes (the audit reads through a buffer it reuses).
        var large = "{\"market\":\"" + new string('m', StoreRequestLog.MaxBodyBytes + 5_000) + "\"}";
        using var first = new HttpRequestMessage(HttpMethod.Post, EmulatorClient.QueryPath)
        {
            Content = new StringContent(large, Encoding.UTF8, "application/json"),
        };
        using var firstResponse = await _client.Http.SendAsync(first);
        using var second = new HttpRequestMessage(HttpMethod.Post, EmulatorClient.QueryPath)
        {
            Content = new StringContent("{}", Encoding.UTF8, "application/json"),
        };
        using var secondResponse = await _client.Http.SendAsync(second);

        var records = _server.State.GetRequests();
        Assert.Equal(2, records.Count);
        Assert.Equal(large[..StoreRequestLog.MaxBodyBytes], records[0].Body);
        Assert.Equal(large.Length, records[0].ContentLength);
        Assert.Equal("{}", records[1].Body);
    }

    [Fact]
    public async Task Audit_RecordsXblSchemeAndSignature_ButNotTheCredentials()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, EmulatorClient.QueryPath)
        {
            Content = EmulatorClient.Json(new JsonObject()),
        };
        request.Headers.TryAddWithoutValidation("Authorization", "XBL3.0 x=12345;secret-xsts-token");
        request.Headers.Add("Signature", "AAAAAQHZ");

        using var response = await _client.Http.SendAsync(request);

        var record = Assert.Single(_server.State.GetRequests());
        Assert.Equal("XBL3.0", record.AuthorizationScheme);
        Assert.True(record.HasSignature);
        Assert.Equal((int)response.StatusCode, record.Status);
        Assert.DoesNotContain("secret-xsts-token", (await _world.RequestsAsync()).ToJsonString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Audit_RecordsStatus0_WhenTheConnectionWasDropped()
    {
        await _world.SetFaultsAsync(new { failNext = 1, mode = "Drop" });

        await Assert.ThrowsAsync<HttpRequestException>(() => _client.QueryAsync("token", "ucid"));

        // The client sees the reset before the server has finished the call and written its record.
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (_server.State.GetRequests().Count == 0 && DateTime.UtcNow < deadline) await Task.Delay(20);
        var record = Assert.Single(_server.State.GetRequests());
        Assert.Equal(0, record.Status);
    }

    [Fact]
    public async Task Audit_KeepsOnlyStoreCalls_AndReset_ClearsIt()
    {
        (await _client.QueryAsync(null, "ucid")).Dispose(); // 401, recorded
        await _client.GetTokenAsync();                        // not a Store endpoint

        Assert.Equal(401, Assert.Single(_server.State.GetRequests()).Status);
        (await _client.Http.PostAsync("emulator/reset", null)).Dispose();
        Assert.Empty(await _world.RequestsAsync());
    }

    [Fact]
    public async Task Audit_KeepsTheLast500Requests_OldestFirst()
    {
        for (var i = 0; i < 505; i++)
        {
            using var response = await _client.Http.PostAsync(EmulatorClient.RenewPath,
                EmulatorClient.Json(new JsonObject { ["key"] = $"k{i}" }));
        }

        var records = _server.State.GetRequests();

        Assert.Equal(500, records.Count);
        Assert.Equal("{\"key\":\"k5\"}", records[0].Body);
        Assert.Equal("{\"key\":\"k504\"}", records[^1].Body);
    }
}
