using System.IO.Compression;
using System.Net;
using System.Net.Http.Json;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using EntitlementGateway.Emulator;
using EntitlementGateway.IntegrationTests.Infrastructure;
using static EntitlementGateway.IntegrationTests.Infrastructure.GatewayQueries;

namespace EntitlementGateway.IntegrationTests.Store;

/// <summary>
/// Answers that Kestrel never writes, so the emulator cannot: two Content-Length headers, no status line, 64 KiB of
/// headers, an endless body. Written byte for byte by a loopback TLS server with the emulator's certificate; the gateway
/// gets its service token from the emulator and sends the query here. Each is a 502 that names the fault, after one
/// Store call: none of them is retried, since the next attempt would get the same answer and spend another unit.
/// </summary>
public sealed class StoreRawAnswerTests : IAsyncLifetime
{
    private const string Page = StorePages.OneDurable;

    private const long StoreLimit = EntitlementGateway.Store.Resilience.StoreResilienceHandler.MaxBodyBytes;

    private EmulatorServer _emulator = null!;
    private RawStore _store = null!;
    private GatewayApplication _gateway = null!;
    private HttpClient _client = null!;
    private string _user = "";

    public async Task InitializeAsync()
    {
        _emulator = await EmulatorServer.StartAsync(new EmulatorOptions());
        _store = new RawStore(_emulator.Certificate);
        var settings = GatewayApplication.LiveSettings(_emulator);
        settings["Store:CollectionsBaseUrl"] = $"https://127.0.0.1:{_store.Port}/store";
        settings["Resilience:MaxRetries"] = "2";
        settings["Resilience:BaseDelayMs"] = "10";
        // The fuzz test's broken answers would open the circuit, and then no answer would be read at all.
        settings["Resilience:CircuitMinimumThroughput"] = "100000";
        settings["ClientLimits:PermitLimit"] = "0"; // and its hundreds of queries would meet the per-IP limit
        _gateway = new GatewayApplication(settings);
        _client = _gateway.CreateClient();
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _gateway.DisposeAsync();
        _store.Dispose();
        await _emulator.DisposeAsync();
    }

    private Task<HttpResponseMessage> QueryWithAnswerAsync(string head) =>
        QueryWithRawAnswerAsync(Encoding.UTF8.GetBytes("HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=utf-8\r\n" + head + "\r\n" + Page));

    private async Task<HttpResponseMessage> QueryWithRawAnswerAsync(byte[] answer, Func<Stream, Task>? after = null)
    {
        _store.Answer = answer;
        _store.After = after;
        _user = NewUser();
        var ucid = await new StoreWorld(_emulator).MintUcidAsync(_user);
        return await QueryAsync(_client, ucid);
    }

    [Fact]
    public async Task Two_Content_Length_headers_that_disagree_are_a_502_and_are_not_retried()
    {
        var length = Encoding.UTF8.GetByteCount(Page);
        using var response = await QueryWithAnswerAsync($"Content-Length: {length}\r\nContent-Length: {length - 10}\r\n");

        var problem = await AssertProblemAsync(response, HttpStatusCode.BadGateway, "upstream_error");
        Assert.Contains("Content-Length headers that disagree", problem["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(1, _store.Requests);
        Assert.Contains(_gateway.Logs, log => log.Message.Contains("failed (answer not read)", StringComparison.Ordinal));
    }

    [Fact]
    public async Task One_Content_Length_list_whose_values_disagree_is_a_502()
    {
        var length = Encoding.UTF8.GetByteCount(Page);
        using var response = await QueryWithAnswerAsync($"Content-Length: {length}, {length + 5}\r\n");

        await AssertProblemAsync(response, HttpStatusCode.BadGateway, "upstream_error");
    }

    [Theory]
    [InlineData("-1")]
    [InlineData("12abc")]
    [InlineData("99999999999999999999")]
    public async Task A_Content_Length_that_is_not_a_length_is_a_502_and_is_not_retried(string value)
    {
        // Whole, and then closed: the handler, which drops a length it cannot read, would take the body up to the close.
        _store.CloseAfterAnswer = true;
        using var response = await QueryWithAnswerAsync($"Content-Length: {value}\r\n");

        var problem = await AssertProblemAsync(response, HttpStatusCode.BadGateway, "upstream_error");
        Assert.Contains("a Content-Length that is not a number of bytes", problem["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.DoesNotContain(value, problem["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(1, _store.Requests);
    }

    [Fact]
    public async Task Content_Length_repeated_with_the_same_value_is_one_length_and_the_answer_is_read()
    {
        // HTTP lets a recipient take identical repeats as one value: this is the control that the raw Store answers well.
        var length = Encoding.UTF8.GetByteCount(Page);
        using var response = await QueryWithAnswerAsync($"Content-Length: {length}\r\nContent-Length: {length}\r\n");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await BodyAsync(response);
        Assert.Equal("9N30KZZF4BR9", body["entitlements"]![0]!["productId"]!.GetValue<string>());
        Assert.Equal(1, _store.Requests);
    }

    [Fact]
    public async Task JSON_labelled_text_plain_is_read()
    {
        // What a Store front end or framework that guesses the type of what it writes sends (Go's server does, for JSON).
        var length = Encoding.UTF8.GetByteCount(Page);
        using var response = await QueryWithRawAnswerAsync(Encoding.UTF8.GetBytes(
            $"HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {length}\r\n\r\n{Page}"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("9N30KZZF4BR9", (await BodyAsync(response))["entitlements"]![0]!["productId"]!.GetValue<string>());
    }

    [Fact]
    public async Task Text_labelled_text_plain_that_is_not_JSON_is_a_502()
    {
        const string text = "Service is up.";
        using var response = await QueryWithRawAnswerAsync(Encoding.UTF8.GetBytes(
            $"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {text.Length}\r\n\r\n{text}"));

        var problem = await AssertProblemAsync(response, HttpStatusCode.BadGateway, "upstream_error");
        Assert.Equal("The Store answered with a body that is not the documented JSON.", problem["detail"]!.GetValue<string>());
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_byte_order_mark_before_the_JSON_is_read_past(bool chunked)
    {
        // A Store written with a UTF-8 encoding that emits its preamble: JSON lets a reader ignore the mark.
        var page = new byte[] { 0xEF, 0xBB, 0xBF }.Concat(Encoding.UTF8.GetBytes(Page)).ToArray();
        var head = chunked
            ? $"HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=utf-8\r\nTransfer-Encoding: chunked\r\n\r\n{page.Length:x}\r\n"
            : $"HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: {page.Length}\r\n\r\n";
        var tail = chunked ? "\r\n0\r\n\r\n" : "";
        using var response = await QueryWithRawAnswerAsync([.. Encoding.ASCII.GetBytes(head), .. page, .. Encoding.ASCII.GetBytes(tail)]);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await BodyAsync(response);
        Assert.Equal("9N30KZZF4BR9", body["entitlements"]![0]!["productId"]!.GetValue<string>());
        Assert.Equal(1, _store.Requests);
    }

    /// <summary><paramref name="body"/> with each coding applied in turn, as a header listing them in that order says.</summary>
    private static byte[] Encoded(byte[] body, params string[] codings)
    {
        foreach (var coding in codings)
        {
            using var packed = new MemoryStream();
            using (Stream encoder = coding switch
            {
                "gzip" => new GZipStream(packed, CompressionLevel.Fastest, leaveOpen: true),
                "deflate" => new ZLibStream(packed, CompressionLevel.Fastest, leaveOpen: true),
                _ => new BrotliStream(packed, CompressionLevel.Fastest, leaveOpen: true),
            })
                encoder.Write(body);
            body = packed.ToArray();
        }
        return body;
    }

    private Task<HttpResponseMessage> QueryWithEncodedAnswerAsync(string header, byte[] body, bool chunked = false) =>
        QueryWithRawAnswerAsync([
            .. Encoding.ASCII.GetBytes("HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=utf-8\r\nContent-Encoding: " + header + "\r\n" +
                (chunked ? $"Transfer-Encoding: chunked\r\n\r\n{body.Length:x}\r\n" : $"Content-Length: {body.Length}\r\n\r\n")),
            .. body,
            .. Encoding.ASCII.GetBytes(chunked ? "\r\n0\r\n\r\n" : ""),
        ]);

    [Theory]
    [InlineData("gzip", "gzip", false)]
    [InlineData("gzip", "gzip", true)]
    [InlineData("x-gzip", "gzip", false)]
    [InlineData("GZip", "gzip", false)]
    [InlineData("deflate", "deflate", false)]
    [InlineData("br", "br", true)]
    [InlineData("identity, gzip", "gzip", false)]
    [InlineData("gzip, br", "gzip br", false)]
    public async Task An_answer_in_a_coding_nobody_asked_for_is_decoded_and_read(string header, string applied, bool chunked)
    {
        // The gateway sends no Accept-Encoding, and HTTP then lets the server choose any coding.
        using var response = await QueryWithEncodedAnswerAsync(header, Encoded(Encoding.UTF8.GetBytes(Page), applied.Split(' ')), chunked);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("9N30KZZF4BR9", (await BodyAsync(response))["entitlements"]![0]!["productId"]!.GetValue<string>());
        Assert.Equal(1, _store.Requests);
    }

    public static TheoryData<string, string, string> UnreadableCodings => new()
    {
        { "compress", "", "is in a content coding the gateway does not read (it reads gzip, deflate and br)" },
        { "gzip, zstd", "gzip", "is in a content coding the gateway does not read" },
        { "gzip", "none", "is labelled gzip but its bytes are not" },
        { "br", "gzip", "is labelled br but its bytes are not" },
    };

    [Theory]
    [MemberData(nameof(UnreadableCodings))]
    public async Task An_answer_in_a_coding_the_gateway_does_not_read_or_not_in_its_coding_is_a_502_not_retried(string header, string applied, string detail)
    {
        var page = Encoding.UTF8.GetBytes(Page);
        using var response = await QueryWithEncodedAnswerAsync(header, applied is "" or "none" ? page : Encoded(page, applied));

        var problem = await AssertProblemAsync(response, HttpStatusCode.BadGateway, "upstream_error");
        Assert.Contains(detail, problem["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(1, _store.Requests);
    }

    [Fact]
    public async Task A_small_answer_that_decodes_past_the_limit_is_a_502_and_is_not_buffered_whole()
    {
        // A few KiB on the wire, more than the limit once decoded: the limit holds for the decoded bytes too.
        var bomb = Encoded([.. "{\"items\":["u8, .. Enumerable.Repeat((byte)' ', (int)StoreLimit + 1), .. "]}"u8], "gzip");
        Assert.True(bomb.Length < 64 * 1024);

        using var response = await QueryWithEncodedAnswerAsync("gzip", bomb);

        var problem = await AssertProblemAsync(response, HttpStatusCode.BadGateway, "upstream_error");
        Assert.Contains("decodes (gzip) to more than the 4 MiB the gateway reads", problem["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(1, _store.Requests);
    }

    private const string TwoItemPage =
        """{"continuationToken":null,"items":[{"acquiredDate":"2021-08-30T21:53:08.1234567","acquisitionType":"Single","endDate":"9999-12-31T23:59:59.9999999","productId":"9N30KZZF4BR9","productKind":"Durable","quantity":3,"satisfiedByProductIds":["9MXL21XPWWWK"],"skuId":"0010","startDate":"2021-08-30T21:53:07","status":"Active","trialData":{"isInTrialPeriod":true,"isTrial":true,"trialTimeRemaining":"12:00:00"}},{"productId":"9MXL21XPWWWK","productType":"Game","quantity":1,"skuId":"0010","startDate":"2020-01-01T00:00:00Z","endDate":"2030-01-01T00:00:00Z","status":"Active","trialData":{"trialTimeRemaining":"P1DT2H"}}]}""";

    private static readonly string[] Statuses =
    [
        "201 Created", "204 No Content", "206 Partial Content", "301 Moved Permanently", "304 Not Modified", "400 Bad Request",
        "401 Unauthorized", "403 Forbidden", "404 Not Found", "408 Request Timeout", "409 Conflict", "429 Too Many Requests",
        "500 Internal Server Error", "503 Service Unavailable", "504 Gateway Timeout", "599 Odd", "999 Whatever", "2OO OK", "200",
    ];

    private static readonly string[] ExtraHeaders =
    [
        "Retry-After: -1", "Retry-After: 99999999999999999999", "Retry-After: Fri, 31 Dec 9999 23:59:59 GMT", "Retry-After: Thu, 01 Jan 1970 00:00:00 GMT",
        "Retry-After: soon", "Retry-After: 0", "Content-Encoding: gzip", "Content-Encoding: br", "Content-Encoding: ,", "Content-Encoding: identity",
        "Content-Type: text/html", "Content-Type: application/json; charset=utf-16", "Content-Type: application/json; charset=bogus",
        "Content-Type: ", "Content-Type: text/plain", "Content-Type: application/problem+json", "Content-Length: 0", "Content-Length: -1",
        "Content-Length: 99999999999999999999", "Transfer-Encoding: chunked", "Transfer-Encoding: gzip, chunked", "Connection: keep-alive",
        "MS-RequestId: " + new string('r', 5000), "MS-CorrelationId: \u00ff\u00fe", "MS-CV: ", "Date: yesterday", "X-Odd: a\u0000b", "NoColonHere",
        " folded: continuation",
    ];

    private static readonly string[] Tokens =
    [
        "null", "-1", "1e400", "\"\"", "[", "{", "}", "]", ",", ":", "\"9999-12-31T23:59:59.9999999-14:00\"", "\"0001-01-01T00:00:00+14:00\"",
        "\"\\ud800\"", "99999999999999999999", "\"items\"", "true", "\"Active\"", "\"\\u0000\"",
    ];

    /// <summary>A valid answer broken a few random ways: its status, headers, framing and JSON body, then its raw bytes.</summary>
    private static byte[] MutatedAnswer(Random random, string page)
    {
        var body = Encoding.UTF8.GetBytes(page).ToList();
        for (var m = random.Next(4); m > 0; m--)
        {
            var at = random.Next(body.Count);
            switch (random.Next(4))
            {
                case 0: body[at] = (byte)random.Next(256); break;
                case 1: body.RemoveRange(at, Math.Min(body.Count - at, random.Next(1, 20))); break;
                case 2: body.InsertRange(at, Encoding.UTF8.GetBytes(Tokens[random.Next(Tokens.Length)])); break;
                default: body.InsertRange(at, body.GetRange(at, Math.Min(body.Count - at, random.Next(1, 40)))); break;
            }
        }
        var status = random.Next(4) == 0 ? Statuses[random.Next(Statuses.Length)] : "200 OK";
        var chunked = random.Next(4) == 0;
        var headers = new List<string> { "Content-Type: application/json; charset=utf-8" };
        headers.Add(chunked ? "Transfer-Encoding: chunked" : $"Content-Length: {body.Count + (random.Next(6) == 0 ? random.Next(-5, 6) : 0)}");
        for (var m = random.Next(3); m > 0; m--)
        {
            if (random.Next(3) == 0 && headers.Count > 0) headers.RemoveAt(random.Next(headers.Count));
            else headers.Insert(random.Next(headers.Count + 1), ExtraHeaders[random.Next(ExtraHeaders.Length)]);
        }
        var answer = new List<byte>(Encoding.Latin1.GetBytes($"HTTP/1.1 {status}\r\n{string.Join("\r\n", headers)}\r\n\r\n"));
        if (chunked)
        {
            var size = body.Count + (random.Next(6) == 0 ? random.Next(-5, 6) : 0);
            answer.AddRange(Encoding.ASCII.GetBytes($"{Math.Max(size, 0):x}\r\n"));
            answer.AddRange(body);
            answer.AddRange(Encoding.ASCII.GetBytes(random.Next(6) == 0 ? "\r\n" : "\r\n0\r\n\r\n"));
        }
        else
        {
            answer.AddRange(body);
        }
        if (random.Next(8) == 0) answer[random.Next(answer.Count)] = (byte)random.Next(256);
        if (random.Next(8) == 0) answer.RemoveRange(random.Next(answer.Count), 1);
        return [.. answer];
    }

    /// <summary>As the request fuzz test: the UTC date by default, so each day's run tries other answers; FUZZ_SEED replays one.</summary>
    private static int FuzzSeed() =>
        int.Parse(Environment.GetEnvironmentVariable("FUZZ_SEED") ?? DateTime.UtcNow.ToString("yyyyMMdd", System.Globalization.CultureInfo.InvariantCulture),
            System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The README's answers to what the Store said: the UCID refused (its 401), the player's limit, the Store's fault.</summary>
    private static readonly (int Status, string Code)[] StoreFaultProblems =
        [(400, "invalid_user_collections_id"), (429, "budget_exhausted"), (502, "upstream_error"), (503, "upstream_unavailable"), (504, "upstream_timeout")];

    /// <summary>Those, and the consume refusals.</summary>
    private static readonly (int Status, string Code)[] ConsumeProblems =
        [.. StoreFaultProblems, (400, "product_not_consumable"), (409, "insufficient_quantity"), (409, "tracking_id_reused"), (409, "consume_in_progress")];

    /// <summary>A problem whose status and code are one of <paramref name="documented"/>, with a detail: its code and body.</summary>
    private static async Task<(string Code, System.Text.Json.Nodes.JsonObject Problem)> AssertDocumentedProblemAsync(
        HttpResponseMessage response, string why, (int Status, string Code)[] documented)
    {
        Assert.True(response.Content.Headers.ContentType?.MediaType == "application/problem+json", why);
        var problem = (await response.Content.ReadFromJsonAsync<System.Text.Json.Nodes.JsonObject>())!;
        var code = problem["code"]?.GetValue<string>() ?? "";
        Assert.True(documented.Contains(((int)response.StatusCode, code)), why + "\n" + problem);
        Assert.False(string.IsNullOrWhiteSpace(problem["detail"]?.GetValue<string>()), why);
        return (code, problem);
    }

    /// <summary>
    /// Hundreds of Store answers broken at random (status, headers, framing, body, raw bytes; each answer followed by the
    /// connection's close, so a short body ends). Whatever the Store sends, the client gets the entitlements or a problem
    /// with a code and a detail: never a 500 or a status the gateway does not document.
    /// </summary>
    [Fact]
    public async Task Broken_answers_at_random_are_never_a_500_always_entitlements_or_a_problem()
    {
        var seed = FuzzSeed();
        var random = new Random(seed);
        _store.CloseAfterAnswer = true;
        var statuses = new Dictionary<int, int>();
        for (var i = 0; i < 400; i++)
        {
            var answer = MutatedAnswer(random, random.Next(2) == 0 ? Page : TwoItemPage);
            using var response = await QueryWithRawAnswerAsync(answer);
            var status = (int)response.StatusCode;
            statuses[status] = statuses.GetValueOrDefault(status) + 1;
            var why = $"case {i} (seed {seed}) answered {status} to: {Encoding.Latin1.GetString(answer)}";
            if (status == 200)
            {
                Assert.NotNull((await BodyAsync(response))["entitlements"]!.AsArray());
                continue;
            }
            await AssertDocumentedProblemAsync(response, why, StoreFaultProblems);
        }
        // Both kinds of outcome occur: the mutations leave many answers readable and break many others.
        Assert.True(statuses.GetValueOrDefault(200) is >= 40 and <= 360 && statuses.GetValueOrDefault(502) is >= 40 and <= 360,
            $"seed {seed}: " + string.Join(", ", statuses.Select(s => $"{s.Value} x {s.Key}")));
    }

    /// <summary>
    /// The same for consume, where money moves: a receipt or a Store refusal (the documented shapes, with this call's
    /// trackingId) broken at random. Each consume ends with a receipt or a documented problem, never a 500; a refusal the
    /// gateway records is one the Store really gave (an answer it could read); and when the outcome was not read, the
    /// same request again goes back to the Store rather than answering from a record.
    /// </summary>
    [Fact]
    public async Task Broken_consume_answers_at_random_are_never_a_500_always_a_receipt_or_a_problem()
    {
        var seed = FuzzSeed();
        var random = new Random(seed);
        _store.CloseAfterAnswer = true;
        var statuses = new Dictionary<int, int>();
        for (var i = 0; i < 250; i++)
        {
            var bytes = new byte[16];
            random.NextBytes(bytes);
            var trackingId = new Guid(bytes);
            var refusal = random.Next(3) switch { 0 => "InsufficientQuantity", 1 => "ProductNotConsumable", _ => "TrackingIdConflict" };
            var page = random.Next(3) == 0
                ? "{\"code\":\"" + refusal + "\",\"message\":\"refused\",\"innererror\":{\"code\":\"" + refusal + "\",\"message\":\"refused\"}}"
                : $$"""{"itemId":"1046015f83a8478397064c915224e5d3","newQuantity":6,"productId":"9NBLGGH4TNNR","trackingId":"{{trackingId}}","orderTransactions":[{"orderId":"a5d1b8ac","orderLineItemId":"5b4c8e2a","quantityConsumed":4}]}""";
            var answer = MutatedAnswer(random, page);
            _store.Answer = answer;
            var ucid = await new StoreWorld(_emulator).MintUcidAsync(NewUser());
            using var response = await ConsumeAsync(_client, ucid, "9NBLGGH4TNNR", 4, trackingId);
            var status = (int)response.StatusCode;
            statuses[status] = statuses.GetValueOrDefault(status) + 1;
            var why = $"case {i} (seed {seed}) answered {status} to: {Encoding.Latin1.GetString(answer)}";
            if (status == 200)
            {
                Assert.Equal(6, (await BodyAsync(response))["newQuantity"]!.GetValue<int>());
                continue;
            }
            var (code, problem) = await AssertDocumentedProblemAsync(response, why, ConsumeProblems);
            if (code is "insufficient_quantity" or "product_not_consumable" or "tracking_id_reused")
                Assert.True(page.StartsWith("{\"code\"", StringComparison.Ordinal), why + "\n" + problem);
            // (A 503 may be the Store's 429, which blocks the player until its Retry-After.)
            if (status is 502 or 504)
            {
                // Not read, so not recorded: the same request is the Store's to answer again, now with a clean receipt.
                _store.Answer = Encoding.UTF8.GetBytes($"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {Encoding.UTF8.GetByteCount(page.Replace("\"newQuantity\":6", "\"newQuantity\":5", StringComparison.Ordinal))}\r\n\r\n" +
                    page.Replace("\"newQuantity\":6", "\"newQuantity\":5", StringComparison.Ordinal));
                if (page.StartsWith("{\"code\"", StringComparison.Ordinal)) continue;
                var before = _store.Requests;
                using var again = await ConsumeAsync(_client, ucid, "9NBLGGH4TNNR", 4, trackingId);
                Assert.True(again.StatusCode == HttpStatusCode.OK, why + "\n" + problem + " then " + (int)again.StatusCode + await again.Content.ReadAsStringAsync());
                Assert.Equal(5, (await BodyAsync(again))["newQuantity"]!.GetValue<int>());
                Assert.True(_store.Requests > before, why);
            }
        }
        Assert.True(statuses.GetValueOrDefault(200) >= 20 && statuses.GetValueOrDefault(502) >= 20,
            $"seed {seed}: " + string.Join(", ", statuses.Select(s => $"{s.Value} x {s.Key}")));
    }

    [Fact]
    public async Task An_answer_that_is_not_HTTP_is_named_so()
    {
        using var response = await QueryWithRawAnswerAsync(Encoding.ASCII.GetBytes("HELLO STORE\r\n\r\n"));

        var problem = await AssertProblemAsync(response, HttpStatusCode.BadGateway, "upstream_error");
        Assert.Equal("The Store's answer was not valid HTTP.", problem["detail"]!.GetValue<string>());
        Assert.Equal(1, _store.Requests);
    }

    [Fact]
    public async Task More_than_64_KiB_of_headers_are_named_so()
    {
        var padding = string.Concat(Enumerable.Range(0, 80).Select(i => $"X-Padding-{i}: {new string('a', 1000)}\r\n"));
        using var response = await QueryWithAnswerAsync(padding + $"Content-Length: {Encoding.UTF8.GetByteCount(Page)}\r\n");

        var problem = await AssertProblemAsync(response, HttpStatusCode.BadGateway, "upstream_error");
        Assert.Contains("more headers than the gateway reads", problem["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(1, _store.Requests);
    }

    [Fact]
    public async Task A_declared_length_over_the_limit_is_not_read()
    {
        using var response = await QueryWithAnswerAsync($"Content-Length: {StoreLimit + 1}\r\n");

        var problem = await AssertProblemAsync(response, HttpStatusCode.BadGateway, "upstream_error");
        Assert.Contains("larger than the 4 MiB the gateway reads", problem["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(1, _store.Requests);
    }

    [Fact]
    public async Task An_endless_chunked_body_is_cut_at_the_limit_and_named_too_large()
    {
        var chunk = Encoding.ASCII.GetBytes($"10000\r\n{new string(' ', 0x10000)}\r\n");
        using var response = await QueryWithRawAnswerAsync(
            Encoding.ASCII.GetBytes("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"),
            async stream =>
            {
                // 64 MiB at most: far past the limit, and a bound if the gateway kept reading.
                for (var i = 0; i < 1024; i++) await stream.WriteAsync(chunk);
            });

        var problem = await AssertProblemAsync(response, HttpStatusCode.BadGateway, "upstream_error");
        Assert.Contains("larger than the 4 MiB the gateway reads", problem["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(1, _store.Requests);
    }

    [Theory]
    [InlineData("null", "The Store answered 200 with JSON null, not the documented object.")]
    [InlineData("", "The Store answered 200 with an empty body.")]
    public async Task A_null_or_empty_body_is_named_so(string body, string detail)
    {
        using var response = await QueryWithRawAnswerAsync(Encoding.ASCII.GetBytes(
            $"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {body.Length}\r\n\r\n{body}"));

        var problem = await AssertProblemAsync(response, HttpStatusCode.BadGateway, "upstream_error");
        Assert.Equal(detail, problem["detail"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_certificate_that_is_not_the_trusted_one_is_named_and_not_retried()
    {
        using var other = EmulatorTls.CreateSelfSignedCertificate();
        _store.Certificate = other;

        using var response = await QueryWithAnswerAsync($"Content-Length: {Encoding.UTF8.GetByteCount(Page)}\r\n");

        var problem = await AssertProblemAsync(response, HttpStatusCode.ServiceUnavailable, "upstream_unavailable");
        Assert.Contains("its certificate is not trusted", problem["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(0, _store.Requests);
        Assert.Equal(1, _store.Connections);
        // The request is sent only after the handshake: the Store never saw it, so its unit went back.
        Assert.Equal(0, await UnitsUsedAsync(_gateway, _user));
    }

    [Fact]
    public async Task A_Store_nobody_listens_for_is_retried_and_costs_the_player_nothing()
    {
        var closedPort = LoopbackPort.Free();
        var settings = GatewayApplication.LiveSettings(_emulator);
        settings["Store:CollectionsBaseUrl"] = $"https://127.0.0.1:{closedPort}/store";
        settings["Resilience:MaxRetries"] = "2";
        settings["Resilience:BaseDelayMs"] = "10";
        await using var gateway = new GatewayApplication(settings);
        using var client = gateway.CreateClient();
        var user = NewUser();

        using var response = await QueryAsync(client, await new StoreWorld(_emulator).MintUcidAsync(user));

        var problem = await AssertProblemAsync(response, HttpStatusCode.ServiceUnavailable, "upstream_unavailable");
        Assert.Equal("The Store could not be reached.", problem["detail"]!.GetValue<string>());
        // Three attempts (connection refused is transient), each unit refunded: no connection, no Store call.
        Assert.Equal(2, gateway.Logs.Count(log => log.Message.StartsWith("Store call attempt failed (HttpRequestException)", StringComparison.Ordinal)));
        Assert.Equal(0, await UnitsUsedAsync(gateway, user));
    }

    /// <summary>A query through a gateway whose attempts time out after half a second (three attempts, 10 ms apart).</summary>
    private async Task<(HttpResponseMessage Response, GatewayApplication Gateway, string User)> QueryWithShortAttemptsAsync()
    {
        var settings = GatewayApplication.LiveSettings(_emulator);
        settings["Store:CollectionsBaseUrl"] = $"https://127.0.0.1:{_store.Port}/store";
        settings["Resilience:MaxRetries"] = "2";
        settings["Resilience:BaseDelayMs"] = "10";
        settings["Resilience:AttemptTimeoutSeconds"] = "0.5";
        var gateway = new GatewayApplication(settings);
        using var client = gateway.CreateClient();
        var user = NewUser();
        return (await QueryAsync(client, await new StoreWorld(_emulator).MintUcidAsync(user)), gateway, user);
    }

    [Fact]
    public async Task A_Store_whose_TLS_handshake_stalls_times_out_and_costs_the_player_nothing()
    {
        _store.StallHandshake = true;

        var (response, gateway, user) = await QueryWithShortAttemptsAsync();
        await using var _ = gateway;
        using var __ = response;

        await AssertProblemAsync(response, HttpStatusCode.GatewayTimeout, "upstream_timeout");
        // Reached over TCP (so not a refused connection, refunded before this change), never past the handshake.
        Assert.True(_store.Connections >= 1);
        Assert.Equal(0, _store.Requests);
        // The request is sent only once the handshake is done: the Store never had it, so no attempt's unit stays spent,
        // and the answer's RateLimit header says so.
        Assert.Equal(0, await UnitsUsedAsync(gateway, user));
        Assert.StartsWith("\"upstream\";r=100;", response.Headers.GetValues("RateLimit").Single());
    }

    [Fact]
    public async Task A_Store_that_reads_the_request_and_never_answers_keeps_each_attempts_unit()
    {
        // The control for the refunds above, with the same failure (the attempt's timeout): the Store had each request.
        _store.Answer = [];
        _store.After = _ => Task.Delay(Timeout.Infinite);

        var (response, gateway, user) = await QueryWithShortAttemptsAsync();
        await using var _ = gateway;
        using var __ = response;

        await AssertProblemAsync(response, HttpStatusCode.GatewayTimeout, "upstream_timeout");
        // Each attempt the Store had keeps its unit. (On a loaded machine an attempt's half second may run out in its
        // TLS handshake, before the request went out: that one gives its unit back.)
        var received = _store.Requests;
        Assert.InRange(received, 1, 3);
        Assert.Equal(received, await UnitsUsedAsync(gateway, user));
        Assert.StartsWith($"\"upstream\";r={100 - received};", response.Headers.GetValues("RateLimit").Single());
    }

    /// <summary>A 200 whose body stops after 10 of its announced bytes, the connection then closed.</summary>
    private Task<HttpResponseMessage> QueryWithAnswerThatBreaksOffAsync() =>
        QueryWithRawAnswerAsync(Encoding.ASCII.GetBytes(
            $"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {Encoding.UTF8.GetByteCount(Page)}\r\n\r\n{Page[..10]}"),
            stream => { stream.Dispose(); return Task.CompletedTask; });

    [Fact]
    public async Task An_answer_that_breaks_off_after_reaching_the_Store_keeps_its_units()
    {
        // The control for the refunds above: the Store saw these requests, so each attempt's unit stays spent.
        using var response = await QueryWithAnswerThatBreaksOffAsync();

        await AssertProblemAsync(response, HttpStatusCode.BadGateway, "upstream_error");
        Assert.Equal(3, _store.Requests);
        Assert.Equal(3, await UnitsUsedAsync(_gateway, _user));
    }

    [Fact]
    public async Task A_retry_after_an_answer_that_broke_off_names_the_MS_CV_the_Store_received()
    {
        // No answer to read it from: the line must still name what was sent, the one id Microsoft's support can trace.
        using var response = await QueryWithAnswerThatBreaksOffAsync();

        await AssertProblemAsync(response, HttpStatusCode.BadGateway, "upstream_error");
        var received = _store.CorrelationVectors.ToArray();
        Assert.Equal(3, received.Length);
        var retries = _gateway.Logs.Where(log => log.Message.StartsWith("Store call attempt failed", StringComparison.Ordinal)).Select(log => log.Message).ToArray();
        Assert.Equal(2, retries.Length);
        Assert.Contains($"sent MS-CV {received[0]};", retries[0], StringComparison.Ordinal);
        Assert.Contains($"sent MS-CV {received[1]};", retries[1], StringComparison.Ordinal);
    }

    /// <summary>Reads each HTTP/1.1 request (head and Content-Length body) and writes <see cref="Answer"/>.</summary>
    private sealed class RawStore : LoopbackListener
    {
        private int _requests;

        public RawStore(X509Certificate2 certificate)
        {
            Certificate = certificate;
            Start();
        }

        public int Requests => Volatile.Read(ref _requests);

        /// <summary>The MS-CV header of each request, in the order they came.</summary>
        public System.Collections.Concurrent.ConcurrentQueue<string> CorrelationVectors { get; } = new();

        /// <summary>The certificate the TLS handshake presents.</summary>
        public X509Certificate2 Certificate { get; set; }

        /// <summary>The bytes written as the answer to each request.</summary>
        public byte[] Answer { get; set; } = [];

        /// <summary>Written after <see cref="Answer"/>, when set (an endless body).</summary>
        public Func<Stream, Task>? After { get; set; }

        /// <summary>Close the connection after each answer, so a body shorter than its framing ends there.</summary>
        public bool CloseAfterAnswer { get; set; }

        /// <summary>Accept connections and never answer the TLS handshake (held until the gateway closes them).</summary>
        public bool StallHandshake { get; set; }

        protected override async Task ServeAsync(TcpClient client, int index)
        {
            using var _ = client;
            try
            {
                if (StallHandshake)
                {
                    // Reads what the client sends (its hello) and answers nothing, until the client gives up and closes.
                    var hello = new byte[4096];
                    while (await client.GetStream().ReadAsync(hello) > 0) { }
                    return;
                }
                await using var tls = new SslStream(client.GetStream());
                await tls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificate = Certificate });
                while (await ReadRequestAsync(tls, CorrelationVectors))
                {
                    Interlocked.Increment(ref _requests);
                    await tls.WriteAsync(Answer);
                    if (After is { } after) await after(tls);
                    await tls.FlushAsync();
                    if (CloseAfterAnswer) break;
                }
            }
            catch (Exception ex) when (ex is IOException or ObjectDisposedException or System.Security.Authentication.AuthenticationException)
            {
                // The gateway closed the connection.
            }
        }

        private static async Task<bool> ReadRequestAsync(Stream stream, System.Collections.Concurrent.ConcurrentQueue<string> correlationVectors)
        {
            if (await RawHttp11Request.ReadAsync(stream) is not { } head) return false;
            foreach (var line in head)
                if (line.StartsWith("MS-CV:", StringComparison.OrdinalIgnoreCase)) correlationVectors.Enqueue(line[6..].Trim());
            return true;
        }
    }
}
