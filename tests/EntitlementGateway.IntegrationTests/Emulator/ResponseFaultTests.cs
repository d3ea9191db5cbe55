using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using EntitlementGateway.IntegrationTests.Infrastructure;
using StoreWireCodes = EntitlementGateway.Store.StoreWire;

namespace EntitlementGateway.IntegrationTests.Emulator;

/// <summary>Faults a raw HttpClient sees in the answer itself: stalled, reset or foreign bodies, slow headers, Retry-After forms.</summary>
public sealed class ResponseFaultTests(EmulatorFixture fixture) : IClassFixture<EmulatorFixture>, IAsyncLifetime
{
    private readonly EmulatorClient _client = fixture.Client;

    public async Task InitializeAsync() => (await _client.Http.DeleteAsync("emulator/faults")).Dispose();

    public Task DisposeAsync() => InitializeAsync();

    private async Task PutFaultsAsync(JsonObject faults)
    {
        using var response = await _client.Http.PutAsJsonAsync("emulator/faults", faults);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    private async Task<(string Token, string Ucid)> NewUserAsync()
    {
        var userId = EmulatorClient.NewUserId();
        await _client.SeedAsync(userId, Items.Item("a", "P1"), Items.Item("b", "P2"));
        return (await _client.GetTokenAsync(), await _client.MintUcidAsync(userId));
    }

    /// <summary>A query whose answer is returned as soon as its headers arrive, the body left unread.</summary>
    private static async Task<HttpResponseMessage> QueryHeadersAsync(HttpClient http, string token, string ucid, Version? version = null,
        CancellationToken ct = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, EmulatorClient.QueryPath)
        {
            Version = version ?? HttpVersion.Version11,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = EmulatorClient.Json(new JsonObject
            {
                ["beneficiaries"] = new JsonArray(new JsonObject { ["identitytype"] = "b2b", ["identityValue"] = ucid }),
                ["market"] = "neutral",
            }),
        };
        request.Headers.Authorization = new("Bearer", token);
        return await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
    }

    [Fact]
    public async Task StallBody_SendsJsonHeadersThenNeverFinishesTheBody()
    {
        var (token, ucid) = await NewUserAsync();
        await PutFaultsAsync(new JsonObject { ["failNext"] = 1, ["mode"] = "StallBody" });

        using var response = await QueryHeadersAsync(_client.Http, token, ucid);
        using var patience = new CancellationTokenSource(TimeSpan.FromMilliseconds(700));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal("utf-8", response.Content.Headers.ContentType.CharSet);
        Assert.True(response.Content.Headers.ContentLength > "{\"items\":[".Length);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => response.Content.ReadAsStringAsync(patience.Token));
    }

    [Fact]
    public async Task StallBody_WithLatency_AbortsTheConnectionAfterIt()
    {
        var (token, ucid) = await NewUserAsync();
        await PutFaultsAsync(new JsonObject { ["failNext"] = 1, ["mode"] = "StallBody", ["latencyMs"] = 300 });
        var watch = Stopwatch.StartNew();

        using var response = await QueryHeadersAsync(_client.Http, token, ucid);
        var read = await Record.ExceptionAsync(() => response.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(read is HttpRequestException or IOException, $"reading the body gave {read?.GetType().Name ?? "no exception"}");
        Assert.True(watch.ElapsedMilliseconds >= 290, $"aborted after {watch.ElapsedMilliseconds} ms");
    }

    [Fact]
    public async Task ResetBody_SendsHeadersThenResetsTheConnection()
    {
        var (token, ucid) = await NewUserAsync();
        await PutFaultsAsync(new JsonObject { ["failNext"] = 1, ["mode"] = "ResetBody" });

        using var response = await QueryHeadersAsync(_client.Http, token, ucid);
        var read = await Record.ExceptionAsync(() => response.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(read is HttpRequestException or IOException, $"reading the body gave {read?.GetType().Name ?? "no exception"}");
        using var after = await _client.QueryAsync(token, ucid);
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
    }

    [Fact]
    public async Task RefuseStreams_OverHttp2_ResetsEachStreamOfItsConnection_WithTheCode_AndAnswersOnAnother()
    {
        var (token, ucid) = await NewUserAsync();
        using var first = Http2Client();
        using var second = Http2Client();
        // The connection has answered before: it goes on refusing while staying open.
        using (var warm = await QueryHeadersAsync(first, token, ucid, HttpVersion.Version20)) Assert.Equal(HttpStatusCode.OK, warm.StatusCode);
        await PutFaultsAsync(new JsonObject { ["failNext"] = 5, ["mode"] = "RefuseStreams", ["streamErrorCode"] = 11 });

        for (var i = 0; i < 2; i++)
        {
            var refused = await Assert.ThrowsAsync<HttpRequestException>(() => QueryHeadersAsync(first, token, ucid, HttpVersion.Version20));
            Assert.Equal(0xb, StoreWireCodes.Http2ErrorOf(refused));
        }
        using var answered = await QueryHeadersAsync(second, token, ucid, HttpVersion.Version20);

        Assert.Equal(HttpStatusCode.OK, answered.StatusCode);
        Assert.Equal(HttpVersion.Version20, answered.Version);
        Assert.Equal(3, (await _client.Http.GetFromJsonAsync<JsonObject>("emulator/faults"))!["failNext"]!.GetValue<int>());
    }

    [Fact]
    public async Task RefuseStreams_OverHttp11_AbortsTheConnection()
    {
        var (token, ucid) = await NewUserAsync();
        await PutFaultsAsync(new JsonObject { ["failNext"] = 1, ["mode"] = "RefuseStreams" });

        await Assert.ThrowsAsync<HttpRequestException>(() => QueryHeadersAsync(_client.Http, token, ucid));
        using var after = await _client.QueryAsync(token, ucid);
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
    }

    /// <summary>A client of its own, so its own connection.</summary>
    private HttpClient Http2Client() =>
        new(EntitlementGateway.Emulator.EmulatorTls.CreateTrustingHandler(fixture.Server.Certificate)) { BaseAddress = fixture.Server.HttpsBaseAddress };

    [Fact]
    public async Task EndlessBody_SendsJsonWithoutALengthAndKeepsWritingPastAnyLimit()
    {
        var (token, ucid) = await NewUserAsync();
        await PutFaultsAsync(new JsonObject { ["failNext"] = 1, ["mode"] = "EndlessBody" });

        using var response = await QueryHeadersAsync(_client.Http, token, ucid);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType!.MediaType);
        Assert.Null(response.Content.Headers.ContentLength);
        await using var body = await response.Content.ReadAsStreamAsync();
        var start = new byte[10];
        await body.ReadExactlyAsync(start);
        Assert.Equal("{\"items\":[", Encoding.ASCII.GetString(start));
        // 8 MiB more, twice what the gateway reads, and still going.
        var buffer = new byte[64 * 1024];
        for (var read = 0L; read < 8L * 1024 * 1024; read += buffer.Length) await body.ReadExactlyAsync(buffer);
        Assert.All(buffer, b => Assert.Equal((byte)' ', b));
    }

    [Fact]
    public async Task NullBody_Answers200WithJsonNull()
    {
        var (token, ucid) = await NewUserAsync();
        await PutFaultsAsync(new JsonObject { ["failNext"] = 1, ["mode"] = "NullBody" });

        using var response = await _client.QueryAsync(token, ucid);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal("null", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task CompressedBody_SendsTheRealAnswerGzipped_WithItsCompressedLength()
    {
        var (token, ucid) = await NewUserAsync();
        await PutFaultsAsync(new JsonObject { ["failNext"] = 1, ["mode"] = "CompressedBody" });

        // The fixture's client decompresses nothing and sends no Accept-Encoding: the bytes are as sent.
        using var response = await _client.QueryAsync(token, ucid);
        var sent = await response.Content.ReadAsByteArrayAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(["gzip"], response.Content.Headers.ContentEncoding);
        Assert.Equal(sent.Length, response.Content.Headers.ContentLength);
        await using var gzip = new System.IO.Compression.GZipStream(new MemoryStream(sent), System.IO.Compression.CompressionMode.Decompress);
        Assert.Equal(2, (await JsonSerializer.DeserializeAsync<JsonObject>(gzip))!["items"]!.AsArray().Count);
    }

    [Fact]
    public async Task HugeHeaders_SendsTheRealAnswerBehindMoreHeadersThanAClientReads()
    {
        var (token, ucid) = await NewUserAsync();
        await PutFaultsAsync(new JsonObject { ["failNext"] = 2, ["mode"] = "HugeHeaders" });

        // A client with the default 64 KiB limit refuses the answer; one that reads more gets the real page.
        var refused = await Assert.ThrowsAsync<HttpRequestException>(() => QueryHeadersAsync(_client.Http, token, ucid));
        Assert.Equal(HttpRequestError.ConfigurationLimitExceeded, refused.HttpRequestError);
        using var http = new HttpClient(new SocketsHttpHandler
        {
            MaxResponseHeadersLength = 256,
            SslOptions = EntitlementGateway.Emulator.EmulatorTls.CreateTrustingSslOptions(fixture.Server.Certificate),
        }) { BaseAddress = _client.Http.BaseAddress };
        using var response = await QueryHeadersAsync(http, token, ucid);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(response.Headers.NonValidated.Count() >= 80);
        Assert.Equal(2, (await response.Content.ReadFromJsonAsync<JsonObject>())!["items"]!.AsArray().Count);
    }

    [Fact]
    public async Task GarbageBody_Answers200WithAProxysHtmlPageInsteadOfJson()
    {
        var (token, ucid) = await NewUserAsync();
        await PutFaultsAsync(new JsonObject { ["failNext"] = 1, ["mode"] = "GarbageBody" });

        using var response = await _client.QueryAsync(token, ucid);
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal(Encoding.UTF8.GetByteCount(body), response.Content.Headers.ContentLength);
        Assert.Contains("<h1>502 Bad Gateway</h1>", body, StringComparison.Ordinal);
        Assert.ThrowsAny<JsonException>(() => JsonNode.Parse(body));
    }

    [Fact]
    public async Task Redirect_Answers307ToTheConfiguredUrl_ThenTheNextCallIsNormal()
    {
        var (token, ucid) = await NewUserAsync();
        await PutFaultsAsync(new JsonObject { ["failNext"] = 1, ["mode"] = "Redirect", ["redirectTo"] = "https://127.0.0.1:9/elsewhere" });
        using var http = new HttpClient(new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            SslOptions = global::EntitlementGateway.Emulator.EmulatorTls.CreateTrustingSslOptions(fixture.Server.Certificate),
        }) { BaseAddress = _client.Http.BaseAddress };

        using (var response = await QueryHeadersAsync(http, token, ucid))
        {
            Assert.Equal(HttpStatusCode.TemporaryRedirect, response.StatusCode);
            Assert.Equal("https://127.0.0.1:9/elsewhere", response.Headers.Location!.OriginalString);
        }
        using var after = await QueryHeadersAsync(http, token, ucid);
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
    }

    [Fact]
    public async Task SlowHeaders_DelaysByLatencyThenAnswersTheRealPage()
    {
        var (token, ucid) = await NewUserAsync();
        await PutFaultsAsync(new JsonObject { ["failNext"] = 1, ["mode"] = "SlowHeaders", ["latencyMs"] = 400 });
        var watch = Stopwatch.StartNew();

        using var response = await _client.QueryAsync(token, ucid);
        var elapsed = watch.ElapsedMilliseconds;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(elapsed >= 390, $"answered after {elapsed} ms");
        var page = await response.Content.ReadFromJsonAsync<JsonObject>();
        Assert.Equal(["a", "b"], page!["items"]!.AsArray().Select(i => i!["id"]!.GetValue<string>()));
    }

    [Fact]
    public async Task SlowHeaders_LatencyDelaysOnlyTheFailedCalls()
    {
        var (token, ucid) = await NewUserAsync();
        const int latencyMs = 2000;
        await PutFaultsAsync(new JsonObject { ["failNext"] = 1, ["mode"] = "SlowHeaders", ["latencyMs"] = latencyMs });
        (await _client.QueryAsync(token, ucid)).Dispose();
        var watch = Stopwatch.StartNew();

        using var unfailed = await _client.QueryAsync(token, ucid);

        Assert.Equal(HttpStatusCode.OK, unfailed.StatusCode);
        // A delayed call takes at least the latency; the whole of it is margin for a busy machine (1.5 s was not always).
        Assert.True(watch.ElapsedMilliseconds < latencyMs, $"an unfailed call took {watch.ElapsedMilliseconds} ms");
    }

    [Fact]
    public async Task RetryAfterFormatHttpDate_SendsADateRetryAfterSecondsAhead()
    {
        var (token, ucid) = await NewUserAsync();
        await PutFaultsAsync(new JsonObject
        {
            ["failNext"] = 1, ["failureStatus"] = 503, ["retryAfterSeconds"] = 120, ["retryAfterFormat"] = "HttpDate",
        });

        using var response = await _client.QueryAsync(token, ucid);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        var retryAfter = response.Headers.RetryAfter!;
        Assert.Null(retryAfter.Delta);
        Assert.NotNull(retryAfter.Date);
        Assert.Equal(TimeSpan.FromSeconds(120), retryAfter.Date!.Value - response.Headers.Date!.Value);
        var ahead = retryAfter.Date.Value - DateTimeOffset.UtcNow;
        Assert.InRange(ahead.TotalSeconds, 110, 121);
    }

    [Fact]
    public async Task RetryAfterFormatHttpDate_TakesDateAndRetryAfterFromTheEmulatorsClock()
    {
        var clock = new ManualTimeProvider(new DateTimeOffset(2030, 1, 2, 3, 4, 5, TimeSpan.Zero));
        await using var server = await EntitlementGateway.Emulator.EmulatorServer.StartAsync(new EntitlementGateway.Emulator.EmulatorOptions
        {
            TimeProvider = clock,
            Faults = new() { FailNext = 1, FailureStatus = 429, RetryAfterSeconds = 30, RetryAfterFormat = EntitlementGateway.Emulator.RetryAfterFormat.HttpDate },
        });
        using var client = new EmulatorClient(server);

        using var response = await client.QueryAsync("any", "any");

        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Equal(new DateTimeOffset(2030, 1, 2, 3, 4, 5, TimeSpan.Zero), response.Headers.Date);
        Assert.Equal(new DateTimeOffset(2030, 1, 2, 3, 4, 35, TimeSpan.Zero), response.Headers.RetryAfter!.Date);
    }

    [Fact]
    public async Task RetryAfterFormatNone_Sends429WithoutRetryAfter()
    {
        var (token, ucid) = await NewUserAsync();
        await PutFaultsAsync(new JsonObject { ["failNext"] = 1, ["failureStatus"] = 429, ["retryAfterFormat"] = "None" });

        using var response = await _client.QueryAsync(token, ucid);

        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.False(response.Headers.Contains("Retry-After"));
    }

    [Fact]
    public async Task Faults_Get_ReturnsTheNewSettings()
    {
        await PutFaultsAsync(new JsonObject
        {
            ["mode"] = "GarbageBody", ["retryAfterFormat"] = "HttpDate", ["loopContinuation"] = true, ["rejectServiceTokens"] = true,
        });

        var faults = await _client.GetJsonAsync("emulator/faults");

        Assert.Equal("GarbageBody", faults["mode"]!.GetValue<string>());
        Assert.Equal("HttpDate", faults["retryAfterFormat"]!.GetValue<string>());
        Assert.True(faults["loopContinuation"]!.GetValue<bool>());
        Assert.True(faults["rejectServiceTokens"]!.GetValue<bool>());
    }

    [Theory]
    [InlineData("{\"retryAfterFormat\": \"Minutes\"}")]
    [InlineData("{\"retryAfterFormat\": 7}")]
    [InlineData("{\"mode\": 42}")]
    [InlineData("{\"mode\": \"StallHeaders\"}")]
    [InlineData("{\"loopContinuation\": \"yes\"}")]
    [InlineData("{\"mode\": \"Redirect\"}")]
    [InlineData("{\"mode\": \"Redirect\", \"redirectTo\": \"/relative\"}")]
    public async Task Faults_PutWithInvalidNewSettings_Returns400(string json)
    {
        using var content = new StringContent(json, Encoding.UTF8, "application/json");

        using var response = await _client.Http.PutAsync("emulator/faults", content);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }
}
