using System.IO.Compression;
using System.Net;
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

        protected override async Task ServeAsync(TcpClient client, int index)
        {
            using var _ = client;
            try
            {
                await using var tls = new SslStream(client.GetStream());
                await tls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificate = Certificate });
                while (await ReadRequestAsync(tls, CorrelationVectors))
                {
                    Interlocked.Increment(ref _requests);
                    await tls.WriteAsync(Answer);
                    if (After is { } after) await after(tls);
                    await tls.FlushAsync();
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
