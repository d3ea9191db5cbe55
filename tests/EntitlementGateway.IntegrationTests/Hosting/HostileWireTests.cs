using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using EntitlementGateway.IntegrationTests.Infrastructure;

namespace EntitlementGateway.IntegrationTests.Hosting;

/// <summary>The built gateway as its own process on real Kestrel (embedded defaults, the ops API on), for bytes only a real server reads.</summary>
public sealed class HostileWireFixture : IAsyncLifetime
{
    public const string OpsKey = "hostile-wire-ops-key-0123456789abcdef";

    public GatewayProcess Gateway { get; private set; } = null!;
    public Uri Address { get; private set; } = null!;
    public HttpClient Client { get; } = new() { Timeout = TimeSpan.FromSeconds(30) };

    public async Task InitializeAsync()
    {
        Gateway = GatewayProcess.Start(new Dictionary<string, string?>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Development",
            ["ClientLimits__PermitLimit"] = "0",
            ["Ops__Enabled"] = "true",
            ["Ops__ApiKey"] = OpsKey,
        });
        Address = await Gateway.WaitUntilListeningAsync(TimeSpan.FromSeconds(60));
        Client.BaseAddress = Address;
    }

    public async Task DisposeAsync()
    {
        Client.Dispose();
        await Gateway.DisposeAsync();
    }

    /// <summary>Sends <paramref name="request"/> as raw bytes and reads the whole answer (the request asks to close).</summary>
    public async Task<(int Status, string Head, string Body)> RawAsync(string request)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(Address.Host, Address.Port);
        var stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request));
        using var read = new MemoryStream();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await stream.CopyToAsync(read, timeout.Token);
        var text = Encoding.UTF8.GetString(read.ToArray());
        var split = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        var head = split < 0 ? text : text[..split];
        return (int.Parse(head.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture), head, split < 0 ? "" : text[(split + 4)..]);
    }

    /// <summary>Waits until the gateway's output holds a line containing <paramref name="text"/> (log lines are written asynchronously).</summary>
    public async Task<string[]> LinesWithAsync(string text)
    {
        for (var i = 0; i < 50; i++)
        {
            var lines = Gateway.Output.Split('\n').Where(l => l.Contains(text, StringComparison.Ordinal)).ToArray();
            if (lines.Length > 0) return lines;
            await Task.Delay(100);
        }
        return [];
    }
}

/// <summary>
/// What a hostile client can send that only real Kestrel reads: broken chunked framing, control characters and tokens in
/// the URL. Each gets a 4xx problem that says what is wrong (never a 500), and nothing of it reaches the log raw.
/// </summary>
public sealed class HostileWireTests(HostileWireFixture fixture) : IClassFixture<HostileWireFixture>
{
    public static TheoryData<string> BodyEndpoints => new()
    {
        "/v1/entitlements/query", "/v1/consumables/consume", "/v1/subscriptions/game-pass", "/v1/user-collections-id/renew",
    };

    [Theory]
    [MemberData(nameof(BodyEndpoints))]
    public async Task AChunkSizeThatOverflows_Is400NamingTheFraming_OnEveryBodyEndpoint(string path)
    {
        var (status, head, body) = await fixture.RawAsync(
            $"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n" +
            "ffffffffffffffff\r\n{}\r\n0\r\n\r\n");

        Assert.Equal(400, status);
        Assert.Contains("application/problem+json", head, StringComparison.OrdinalIgnoreCase);
        var problem = JsonNode.Parse(body[body.IndexOf('{', StringComparison.Ordinal)..body.LastIndexOf('}')] + "}")!;
        Assert.Equal("invalid_request", problem["code"]!.GetValue<string>());
        Assert.Contains("transfer framing", problem["detail"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(BodyEndpoints))]
    public async Task AChunkedBodyOverTheLimit_Is413_NotAFramingError(string path)
    {
        var chunk = new string(' ', 4096);
        var chunks = string.Concat(Enumerable.Repeat($"1000\r\n{chunk}\r\n", 17));
        var (status, head, body) = await fixture.RawAsync(
            $"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n" +
            chunks + "0\r\n\r\n");

        Assert.Equal(413, status);
        Assert.Contains("application/problem+json", head, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("\"request_too_large\"", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ABodyThatStopsShortOfItsContentLength_Is408SayingItCameTooSlowly_NotAFramingError()
    {
        // 7 of 500 bytes, then nothing: the connection stays open until the server gives up on the body.
        var (status, head, body) = await fixture.RawAsync(
            "POST /v1/entitlements/query HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{\"user");

        Assert.Equal(408, status);
        Assert.Contains("application/problem+json", head, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("not sent in time", body, StringComparison.Ordinal);
        Assert.DoesNotContain("framing", body, StringComparison.Ordinal);
    }

    /// <summary>A body each endpoint reads through to its UCID check: a 400 invalid_user_collections_id shows it was read.</summary>
    private static string BodyFor(string path) => path switch
    {
        "/v1/entitlements/query" => """{"userCollectionsId":"a.b.c","products":[{"productId":"9N30KZZF4BR9"}]}""",
        "/v1/consumables/consume" => """{"userCollectionsId":"a.b.c","productId":"9NCOINS00001","quantity":1,"trackingId":"6f1c3b8e-4a52-4d8e-9d0c-2b7f1e9a3c44"}""",
        _ => """{"userCollectionsId":"a.b.c"}""",
    };

    private async Task<(HttpStatusCode Status, JsonObject Problem)> PostAsync(string path, byte[] body, string contentType)
    {
        var (status, answer) = await SendAsync(path, body, contentType);
        Assert.Equal("application/problem+json", answer.MediaType);
        return (status, answer.Body);
    }

    /// <summary>Posts <paramref name="body"/> as it is, with the ops key (which the player endpoints ignore).</summary>
    private async Task<(HttpStatusCode Status, (string? MediaType, JsonObject Body) Answer)> SendAsync(string path, byte[] body, string contentType)
    {
        using var content = new ByteArrayContent(body);
        content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(path, UriKind.Relative)) { Content = content };
        request.Headers.Add("X-Api-Key", HostileWireFixture.OpsKey);
        using var response = await fixture.Client.SendAsync(request);
        return (response.StatusCode, (response.Content.Headers.ContentType?.MediaType, (await response.Content.ReadFromJsonAsync<JsonObject>())!));
    }

    public static TheoryData<string> OpsActionEndpoints => new()
    {
        "/ops/budgets/user-wire/reset", "/ops/budgets/user-wire/unblock", "/ops/cache/players/user-wire/drop",
    };

    public static TheoryData<string, string> UnreadableCharsets()
    {
        var data = new TheoryData<string, string>();
        foreach (var path in (string[])["/v1/entitlements/query", "/v1/consumables/consume", "/v1/subscriptions/game-pass", "/v1/user-collections-id/renew",
                     "/ops/budgets/user-wire/reset", "/ops/budgets/user-wire/unblock", "/ops/cache/players/user-wire/drop"])
            foreach (var charset in (string[])["utf-7", "ebcdic", "\"bogus\"", "iso-8859-1", "us-ascii"])
                data.Add(path, charset);
        return data;
    }

    [Theory]
    [MemberData(nameof(UnreadableCharsets))]
    public async Task ACharsetTheGatewayWillNotRead_UTF7Included_Is415_OnEveryEndpointThatTakesABody(string path, string charset)
    {
        var body = path.StartsWith("/ops/", StringComparison.Ordinal) ? """{"reason":"wire test"}""" : BodyFor(path);
        var (status, problem) = await PostAsync(path, Encoding.UTF8.GetBytes(body), $"application/json; charset={charset}");

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, status);
        Assert.Equal("invalid_request", problem["code"]!.GetValue<string>());
        Assert.Contains("charset", problem["detail"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(OpsActionEndpoints))]
    public async Task AnOpsAction_ReadsItsBodyAsThePlayerEndpointsDo(string path)
    {
        var json = Encoding.UTF8.GetBytes("""{"reason":"wire test"}""");

        foreach (var (body, contentType) in new[] { (json, "application/json; charset=\"utf-8\""), (json, "application/json; charset="), ([0xEF, 0xBB, 0xBF, .. json], "application/json") })
            Assert.Equal(HttpStatusCode.OK, (await SendAsync(path, body, contentType)).Status);
        var (status, problem) = await PostAsync(path, Encoding.UTF8.GetBytes("""{"reason":7}"""), "application/json");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("invalid_request", problem["code"]!.GetValue<string>());
        Assert.Contains("reason", problem["detail"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(BodyEndpoints))]
    public async Task BytesThatAreNotUtf8_AreRefused_EvenInAFieldTheGatewayIgnores(string path)
    {
        var json = BodyFor(path);
        byte[] body = [.. Encoding.UTF8.GetBytes(json[..^1] + ",\"ignored\":\""), 0xC0, 0xAF, .. "\"}"u8];

        var (status, problem) = await PostAsync(path, body, "application/json");

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("invalid_request", problem["code"]!.GetValue<string>());
        Assert.Equal("The request body is not valid JSON.", problem["title"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("\"10\"")]
    [InlineData("\"1\"")]
    public async Task AConsumesQuantityWrittenAsText_IsRefusedNamingIt_NotReadAsANumber(string quantity)
    {
        var body = $$"""{"userCollectionsId":"a.b.c","productId":"9NCOINS00001","quantity":{{quantity}},"trackingId":"6f1c3b8e-4a52-4d8e-9d0c-2b7f1e9a3c44"}""";

        var (status, problem) = await PostAsync("/v1/consumables/consume", Encoding.UTF8.GetBytes(body), "application/json");

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("invalid_request", problem["code"]!.GetValue<string>());
        Assert.Contains("quantity", problem["detail"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    public static TheoryData<string, string, string, string> FieldsWrongInTheirOwnWay => new()
    {
        // A repeated field, in any letter case and nested too: the gateway would read the last, a proxy the first.
        { "/v1/consumables/consume", """{"userCollectionsId":"a.b.c","productId":"9NCOINS00001","quantity":1,"quantity":2,"trackingId":"6f1c3b8e-4a52-4d8e-9d0c-2b7f1e9a3c44"}""", "quantity", "quantity is given more than once" },
        { "/v1/consumables/consume", """{"userCollectionsId":"a.b.c","productId":"9NCOINS00001","quantity":1,"Quantity":3,"trackingId":"6f1c3b8e-4a52-4d8e-9d0c-2b7f1e9a3c44"}""", "Quantity", "Quantity is given more than once" },
        { "/v1/entitlements/query", """{"userCollectionsId":"x","userCollectionsId":"a.b.c"}""", "userCollectionsId", "userCollectionsId is given more than once" },
        { "/v1/entitlements/query", """{"userCollectionsId":"a.b.c","products":[{"productId":"9N30KZZF4BR9","productId":"9MXL21XPWWWK"}]}""", "products[0].productId", "products[0].productId is given more than once" },
        { "/v1/subscriptions/game-pass", """{"xbox":{"authorization":"a","authorization":"b"}}""", "xbox.authorization", "xbox.authorization is given more than once" },
        // A number the field cannot hold.
        { "/v1/consumables/consume", """{"userCollectionsId":"a.b.c","productId":"9NCOINS00001","quantity":2147483648,"trackingId":"6f1c3b8e-4a52-4d8e-9d0c-2b7f1e9a3c44"}""", "quantity", "quantity is not a whole number in the range it takes" },
        { "/v1/consumables/consume", """{"userCollectionsId":"a.b.c","productId":"9NCOINS00001","quantity":1.5,"trackingId":"6f1c3b8e-4a52-4d8e-9d0c-2b7f1e9a3c44"}""", "quantity", "quantity is not a whole number in the range it takes" },
        { "/v1/consumables/consume", """{"userCollectionsId":"a.b.c","productId":"9NCOINS00001","quantity":1e2,"trackingId":"6f1c3b8e-4a52-4d8e-9d0c-2b7f1e9a3c44"}""", "quantity", "quantity is not a whole number in the range it takes, written without a fraction or exponent" },
        // Text that is not Unicode.
        { "/v1/entitlements/query", """{"userCollectionsId":"\ud800"}""", "userCollectionsId", "userCollectionsId is not valid Unicode text" },
        { "/v1/user-collections-id/renew", """{"userCollectionsId":"a\udc00"}""", "userCollectionsId", "userCollectionsId is not valid Unicode text" },
        // The wrong type stays what it was.
        { "/v1/consumables/consume", """{"userCollectionsId":"a.b.c","productId":"9NCOINS00001","quantity":true,"trackingId":"6f1c3b8e-4a52-4d8e-9d0c-2b7f1e9a3c44"}""", "quantity", "quantity has a value of the wrong JSON type" },
    };

    [Theory]
    [MemberData(nameof(FieldsWrongInTheirOwnWay))]
    public async Task AFieldThatCannotBeRead_IsNamed_WithWhatIsWrongWithIt(string path, string body, string field, string what)
    {
        var (status, problem) = await PostAsync(path, Encoding.UTF8.GetBytes(body), "application/json");

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("invalid_request", problem["code"]!.GetValue<string>());
        var errors = problem["errors"]!.AsObject();
        Assert.Equal([field], errors.Select(e => e.Key));
        Assert.StartsWith(what, errors[field]![0]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(BodyEndpoints))]
    public async Task ABodyNestedTooDeep_Is400SayingSo(string path)
    {
        var body = BodyFor(path)[..^1] + ",\"ignored\":" + new string('[', 100) + new string(']', 100) + "}";

        var (status, problem) = await PostAsync(path, Encoding.UTF8.GetBytes(body), "application/json");

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.StartsWith("The body nests objects and arrays more than 64 levels deep", problem["detail"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(BodyEndpoints))]
    public async Task ACharsetTheGatewayDoesNotKnow_Is415NamingTheCharset_OnEveryBodyEndpoint(string path)
    {
        var (status, problem) = await PostAsync(path, Encoding.UTF8.GetBytes(BodyFor(path)), "application/json; charset=ebcdic");

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, status);
        Assert.Contains("charset", problem["detail"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(BodyEndpoints))]
    public async Task AQuotedUtf8Charset_AnEmptyOne_AndAByteOrderMark_AreRead_OnEveryBodyEndpoint(string path)
    {
        var json = Encoding.UTF8.GetBytes(BodyFor(path));

        var quoted = await PostAsync(path, json, "application/json; charset=\"utf-8\"");
        var empty = await PostAsync(path, json, "application/json; charset=");
        var quotedEmpty = await PostAsync(path, json, "application/json; charset=\"\"");
        var bom = await PostAsync(path, [0xEF, 0xBB, 0xBF, .. json], "application/json");

        Assert.All([quoted, empty, quotedEmpty, bom], answer =>
        {
            Assert.Equal(HttpStatusCode.BadRequest, answer.Status);
            Assert.Equal("invalid_user_collections_id", answer.Problem["code"]!.GetValue<string>());
        });
    }

    [Theory]
    [MemberData(nameof(BodyEndpoints))]
    public async Task ACompressedBody_Is415SayingItMustBeSentUncompressed_OnEveryBodyEndpoint(string path)
    {
        using var compressed = new MemoryStream();
        await using (var gzip = new System.IO.Compression.GZipStream(compressed, System.IO.Compression.CompressionLevel.Fastest, leaveOpen: true))
            await gzip.WriteAsync(Encoding.UTF8.GetBytes(BodyFor(path)));
        using var content = new ByteArrayContent(compressed.ToArray());
        content.Headers.TryAddWithoutValidation("Content-Type", "application/json");
        content.Headers.ContentEncoding.Add("gzip");

        using var response = await fixture.Client.PostAsync(new Uri(path, UriKind.Relative), content);

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Contains("uncompressed", (await response.Content.ReadFromJsonAsync<JsonObject>())!["detail"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(BodyEndpoints))]
    public async Task AnIdentityContentEncoding_IsRead(string path)
    {
        using var content = new ByteArrayContent(Encoding.UTF8.GetBytes(BodyFor(path)));
        content.Headers.TryAddWithoutValidation("Content-Type", "application/json");
        content.Headers.ContentEncoding.Add("identity");

        using var response = await fixture.Client.PostAsync(new Uri(path, UriKind.Relative), content);

        Assert.Equal("invalid_user_collections_id", (await response.Content.ReadFromJsonAsync<JsonObject>())!["code"]!.GetValue<string>());
    }

    [Fact]
    public async Task AUcidPastedIntoTheUrl_IsLoggedAsItsLengthAndHash_NeverWhole()
    {
        var ucid = await MintUcidAsync();

        using var response = await fixture.Client.GetAsync(new Uri("/v1/" + ucid, UriKind.Relative));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        var line = Assert.Single(await fixture.LinesWithAsync($"[{ucid.Length} characters, sha256 "));
        Assert.StartsWith("HTTP GET /v1/[", line[line.IndexOf("HTTP ", StringComparison.Ordinal)..], StringComparison.Ordinal);
        foreach (var part in ucid.Split('.')) Assert.DoesNotContain(part, fixture.Gateway.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AUcidSentAsTheMethod_IsLoggedAsOther_NeverWhole()
    {
        var ucid = await MintUcidAsync();

        var (status, _, body) = await fixture.RawAsync($"{ucid} /v1/entitlements/query HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");

        Assert.Equal(405, status);
        Assert.Contains("\"code\":\"method_not_allowed\"", body, StringComparison.Ordinal);
        Assert.NotEmpty(await fixture.LinesWithAsync("HTTP _OTHER /v1/entitlements/query responded 405"));
        foreach (var part in ucid.Split('.')) Assert.DoesNotContain(part, fixture.Gateway.Output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("post", "/v1/entitlements/query", "POST")]
    [InlineData("Post", "/v1/entitlements/query", "POST")]
    [InlineData("get", "/openapi/v1.json", "GET")]
    public async Task AMethodInAnotherLetterCase_Is405_NotRunAsTheMethod(string method, string path, string allowed)
    {
        var ucid = await MintUcidAsync();
        var body = $"{{\"userCollectionsId\":\"{ucid}\",\"products\":[{{\"productId\":\"9N30KZZF4BR9\"}}]}}";
        string Request(string m) =>
            $"{m} {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n{body}";
        // The same request with the method as written in the standard is served.
        Assert.Equal(200, (await fixture.RawAsync(Request(allowed))).Status);

        var (status, head, answer) = await fixture.RawAsync(Request(method));

        Assert.Equal(405, status);
        Assert.Contains($"\r\nAllow: {allowed}", head, StringComparison.Ordinal);
        Assert.Contains("\"code\":\"method_not_allowed\"", answer, StringComparison.Ordinal);
        Assert.Contains($"Methods are case-sensitive: this path accepts {allowed}.", answer, StringComparison.Ordinal);
        Assert.DoesNotContain("entitlements\":", answer, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ABodyTheClientBreaksOff_LeavesNoWarningOrStackTraceInTheLog()
    {
        var ucid = await MintUcidAsync();
        var start = $"{{\"userCollectionsId\":\"{ucid}\",\"products\":[";
        for (var i = 0; i < 3; i++)
        {
            // Part of the body arrives, in a read of its own, then the client closes the connection.
            using var tcp = new TcpClient();
            await tcp.ConnectAsync(fixture.Address.Host, fixture.Address.Port);
            var stream = tcp.GetStream();
            await stream.WriteAsync(Encoding.ASCII.GetBytes(
                $"POST /v1/entitlements/query HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {start.Length + 100}\r\n\r\n{start}"));
            await Task.Delay(300);
        }
        // Kestrel writes its warning as it reads the closed connection again, within moments of the request's end.
        await Task.Delay(1500);

        Assert.DoesNotContain("Connection processing ended abnormally", fixture.Gateway.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("Reading is already in progress", fixture.Gateway.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("automatic draining of the request body failed", fixture.Gateway.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ABodyThatStallsOneByteShortOfItsLength_IsA408WithinTheBodyDeadline_NotMinutesLater()
    {
        // Kestrel's minimum data rate is an average: after 2,000 bytes at once it would wait about 9 s for the last
        // one, after 60,000 over 4 minutes. The gateway's own deadline answers within 10 s whatever was sent.
        var body = "{\"userCollectionsId\":\"x\",\"other\":\"" + new string('x', 60_000) + "\"}";
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(fixture.Address.Host, fixture.Address.Port);
        var stream = tcp.GetStream();
        var started = System.Diagnostics.Stopwatch.StartNew();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(
            $"POST /v1/entitlements/query HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {body.Length + 1}\r\n\r\n{body}"));

        var answer = new StringBuilder();
        var buffer = new byte[4096];
        using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (!answer.ToString().Contains("\"code\":", StringComparison.Ordinal))
        {
            var read = await stream.ReadAsync(buffer, wait.Token);
            if (read == 0) break;
            answer.Append(Encoding.UTF8.GetString(buffer, 0, read));
        }

        Assert.StartsWith("HTTP/1.1 408 ", answer.ToString(), StringComparison.Ordinal);
        Assert.Contains("(it must arrive whole within 10 s)", answer.ToString(), StringComparison.Ordinal);
        Assert.InRange(started.Elapsed, TimeSpan.FromSeconds(9), TimeSpan.FromSeconds(20));
    }

    [Fact]
    public async Task HeadersSentTooSlowly_AreCutOffAfterTenSeconds_NotThirty()
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(fixture.Address.Host, fixture.Address.Port);
        var stream = tcp.GetStream();
        var started = System.Diagnostics.Stopwatch.StartNew();
        // The request line and one header, and never the blank line that ends the headers.
        await stream.WriteAsync(Encoding.ASCII.GetBytes("GET /health/live HTTP/1.1\r\nHost: x\r\n"));

        var buffer = new byte[1024];
        using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(25));
        var read = await stream.ReadAsync(buffer, wait.Token);

        Assert.StartsWith("HTTP/1.1 408 ", Encoding.ASCII.GetString(buffer, 0, read), StringComparison.Ordinal);
        Assert.InRange(started.Elapsed, TimeSpan.FromSeconds(9), TimeSpan.FromSeconds(15));
    }

    [Fact]
    public async Task ALineBreakInThePath_CannotForgeALogLine()
    {
        var marker = "FORGED" + Guid.NewGuid().ToString("N")[..8];

        var (status, _, _) = await fixture.RawAsync($"GET /v1/x%0D%0A16:00:00%20ERR%20{marker} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");

        Assert.Equal(404, status);
        var line = Assert.Single(await fixture.LinesWithAsync(marker));
        Assert.Contains("HTTP GET /v1/x%0D%0A16:00:00 ERR " + marker + " responded 404", line, StringComparison.Ordinal);
        Assert.DoesNotContain(fixture.Gateway.Output.Split('\n'), l => l.StartsWith("16:00:00 ERR " + marker, StringComparison.Ordinal));
    }

    [Fact]
    public async Task AnOpsCacheDrop_IsAuditedNamingTheOperator_AsWrittenByTheRealLogger()
    {
        var player = "user-audit-" + Guid.NewGuid().ToString("N")[..8];
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/ops/cache/players/{player}/drop") { Content = JsonContent.Create(new { reason = "TICKET-7 stale answer" }) };
        request.Headers.Add("X-Api-Key", HostileWireFixture.OpsKey);

        using var response = await fixture.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var line = Assert.Single(await fixture.LinesWithAsync($"AUDIT cached answers dropped for {player}"));
        Assert.Contains($"for {player} by ops-api-key (every replica: ", line, StringComparison.Ordinal);
        Assert.EndsWith("TICKET-7 stale answer", line.TrimEnd('\r'), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnOpsKeyWithAControlCharacter_Is400_AndWritesNoAuditLine()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/ops/cache/players/a%1B%5B31mred/drop") { Content = JsonContent.Create(new { reason = "x" }) };
        request.Headers.Add("X-Api-Key", HostileWireFixture.OpsKey);

        using var response = await fixture.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("control character", (await response.Content.ReadFromJsonAsync<JsonObject>())!["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.DoesNotContain("\u001b", fixture.Gateway.Output, StringComparison.Ordinal);
    }

    private async Task<string> MintUcidAsync()
    {
        using var minted = await fixture.Client.PostAsync(new Uri("/emulator/users/wire-" + Guid.NewGuid().ToString("N")[..8] + "/collections-id", UriKind.Relative), null);
        minted.EnsureSuccessStatusCode();
        return (await minted.Content.ReadFromJsonAsync<JsonObject>())!["userCollectionsId"]!.GetValue<string>();
    }
}
