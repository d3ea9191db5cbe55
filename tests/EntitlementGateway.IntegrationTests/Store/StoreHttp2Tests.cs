using System.Net;
using System.Text;
using Microsoft.Extensions.Logging;
using EntitlementGateway.Emulator;
using EntitlementGateway.IntegrationTests.Infrastructure;
using static EntitlementGateway.IntegrationTests.Infrastructure.GatewayQueries;

namespace EntitlementGateway.IntegrationTests.Store;

/// <summary>
/// A Store that speaks HTTP/2 and misbehaves in ways only HTTP/2 allows, written frame by frame (Kestrel never writes
/// these): a connection that stalls while staying open, which would hold every later call since all of them share it,
/// and DATA that disagree with the content-length. The gateway gets its token from the emulator.
/// </summary>
public sealed class StoreHttp2Tests : IAsyncLifetime
{
    private const string Page = StorePages.OneDurable;

    private EmulatorServer _emulator = null!;
    private RawHttp2Store _store = null!;
    private GatewayApplication _gateway = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        _emulator = await EmulatorServer.StartAsync(new EmulatorOptions());
        _store = new RawHttp2Store(_emulator.Certificate) { Body = Encoding.UTF8.GetBytes(Page) };
        var settings = GatewayApplication.LiveSettings(_emulator);
        settings["Store:CollectionsBaseUrl"] = $"https://127.0.0.1:{_store.Port}/store";
        settings["Resilience:MaxRetries"] = "2";
        settings["Resilience:BaseDelayMs"] = "10";
        settings["Resilience:AttemptTimeoutSeconds"] = "0.5";
        settings["Resilience:TotalTimeoutSeconds"] = "5";
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

    private async Task<HttpResponseMessage> QueryNewPlayerAsync() =>
        await QueryAsync(_client, await new StoreWorld(_emulator).MintUcidAsync(NewUser()));

    private static async Task AssertOwnsTheDlcAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("9N30KZZF4BR9", (await BodyAsync(response))["entitlements"]![0]!["productId"]!.GetValue<string>());
    }

    private bool Renewed() => _gateway.Logs.Any(log => log.Message.StartsWith("Store connections replaced", StringComparison.Ordinal));

    [Fact]
    public async Task A_well_formed_answer_over_HTTP2_is_read()
    {
        // The control: the raw Store answers well, and the gateway takes HTTP/2 where it is offered.
        using var response = await QueryNewPlayerAsync();

        await AssertOwnsTheDlcAsync(response);
        Assert.Equal(1, _store.Http2Connections);
        Assert.Equal(1, _store.Requests);
    }

    [Fact]
    public async Task A_frame_of_a_type_HTTP2_does_not_define_moves_the_calls_to_HTTP11()
    {
        // The protocol says to ignore such a frame; .NET's HTTP/2 client ends the connection on it instead. A front end
        // that sends one (ORIGIN) would fail every call over HTTP/2: the gateway goes on over HTTP/1.1.
        _store.BehaviourOf = _ => Http2Behaviour.UnknownFrameAfterSettings;
        _store.ServesHttp11 = true;

        using (var first = await QueryNewPlayerAsync()) await AssertOwnsTheDlcAsync(first);
        var http2Connections = _store.Http2Connections;
        using (var second = await QueryNewPlayerAsync()) await AssertOwnsTheDlcAsync(second);

        // .NET's client sends a request the broken connection never took once more by itself, on a new connection: one
        // or two HTTP/2 connections, then none.
        Assert.InRange(http2Connections, 1, 2);
        Assert.Equal(http2Connections, _store.Http2Connections); // the second query went straight to HTTP/1.1
        Assert.Equal(2, _store.Http11Requests);
        Assert.Single(_gateway.Logs, log => log.Level == LogLevel.Warning && log.Message.StartsWith("The Store's HTTP/2 connection broke the protocol", StringComparison.Ordinal));
    }

    [Fact]
    public async Task When_the_connection_goes_silent_the_last_attempt_goes_out_on_a_new_one()
    {
        _store.BehaviourOf = n => n == 0 ? Http2Behaviour.Silent : Http2Behaviour.Answer;

        using var response = await QueryNewPlayerAsync();

        // Two attempts time out on the first connection; the third is sent on a second one and answered.
        await AssertOwnsTheDlcAsync(response);
        Assert.Equal(2, _store.Http2Connections);
        Assert.True(Renewed());
        Assert.Contains(_gateway.Logs, log => log.Level == LogLevel.Warning && log.Message.Contains("2 attempts in a row timed out", StringComparison.Ordinal));
    }

    [Fact]
    public async Task When_the_Store_closes_the_flow_control_window_the_connection_is_replaced()
    {
        _store.BehaviourOf = n => n == 0 ? Http2Behaviour.WindowClosedAfterFirstAnswer : Http2Behaviour.Answer;
        using (var first = await QueryNewPlayerAsync()) await AssertOwnsTheDlcAsync(first);

        using var response = await QueryNewPlayerAsync();

        // The second query's body could not be sent on the first connection; its last attempt went out on a new one.
        await AssertOwnsTheDlcAsync(response);
        Assert.Equal(2, _store.Http2Connections);
        Assert.Equal(2, _store.Requests);
        Assert.True(Renewed());
    }

    [Fact]
    public async Task A_timeout_followed_by_an_answer_keeps_the_connection()
    {
        // Each query: its first attempt is never answered, its retry is, on the same connection. The answer between two
        // timeouts means the connection works, so it is never replaced, however many such queries come.
        _store.BehaviourOf = _ => Http2Behaviour.EveryOtherRequestUnanswered;

        using (var first = await QueryNewPlayerAsync()) await AssertOwnsTheDlcAsync(first);
        using (var second = await QueryNewPlayerAsync()) await AssertOwnsTheDlcAsync(second);

        Assert.Equal(4, _store.Requests);
        Assert.Equal(1, _store.Connections);
        Assert.False(Renewed());
    }

    [Fact]
    public async Task An_answer_shorter_than_its_content_length_is_a_502_and_is_not_cached()
    {
        // A body cut short can still be valid JSON with items missing: taken whole, the player would lose the DLC.
        _store.DeclaredLength = length => length + 40;
        var ucid = await new StoreWorld(_emulator).MintUcidAsync(NewUser());

        using (var response = await QueryAsync(_client, ucid))
        {
            var problem = await AssertProblemAsync(response, HttpStatusCode.BadGateway, "upstream_error");
            Assert.Contains($"ended after {Page.Length} of the {Page.Length + 40} bytes", problem["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        }
        Assert.Equal(3, _store.Requests); // like a body that broke off: retried

        _store.DeclaredLength = length => length;
        using var again = await QueryAsync(_client, ucid);
        await AssertOwnsTheDlcAsync(again);
        Assert.Equal("upstream", await ServedFromAsync(again));
    }

    [Fact]
    public async Task An_answer_longer_than_its_content_length_is_a_502_and_is_not_retried()
    {
        _store.DeclaredLength = length => length - 10;

        using var response = await QueryNewPlayerAsync();

        var problem = await AssertProblemAsync(response, HttpStatusCode.BadGateway, "upstream_error");
        Assert.Contains("where it ends is ambiguous", problem["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(1, _store.Requests);
        Assert.Contains(_gateway.Logs, log => log.Message.Contains("failed (answer not read)", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_consume_answer_naming_another_trackingId_is_not_recorded_as_this_ones_receipt()
    {
        var trackingId = Guid.NewGuid();
        var ucid = await new StoreWorld(_emulator).MintUcidAsync(NewUser());
        _store.Body = Encoding.UTF8.GetBytes($$"""{"newQuantity":7,"productId":"9NCOINS00001","trackingId":"{{Guid.NewGuid()}}"}""");

        using (var wrong = await ConsumeAsync(_client, ucid, "9NCOINS00001", 3, trackingId))
        {
            var problem = await AssertProblemAsync(wrong, HttpStatusCode.BadGateway, "upstream_error");
            Assert.Contains("does not match the request: another trackingId", problem["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        }

        // Nothing was recorded: the same request is sent to the Store again, and its matching answer is the receipt.
        _store.Body = Encoding.UTF8.GetBytes($$"""{"newQuantity":7,"productId":"9NCOINS00001","trackingId":"{{trackingId}}"}""");
        using var retry = await ConsumeAsync(_client, ucid, "9NCOINS00001", 3, trackingId);
        Assert.Equal(HttpStatusCode.OK, retry.StatusCode);
        Assert.False(retry.Headers.Contains("Idempotent-Replayed"));
        Assert.Equal(7, (await BodyAsync(retry))["newQuantity"]!.GetValue<int>());
        Assert.Equal(2, _store.Requests);
    }

    [Fact]
    public async Task A_refusal_of_a_later_page_is_not_blamed_on_the_UCID_the_first_page_was_answered_for()
    {
        var firstPage = Page.Replace("]}", "],\"continuationToken\":\"page-2\"}", StringComparison.Ordinal);
        _store.AnswerOf = n => n == 1 ? (200, Encoding.UTF8.GetBytes(firstPage)) : (401, """{"code":"Unauthorized"}"""u8.ToArray());

        using var response = await QueryNewPlayerAsync();

        var problem = await AssertProblemAsync(response, HttpStatusCode.BadGateway, "upstream_error");
        Assert.Contains("refused page 2 of this query after accepting the UserCollectionsId for page 1", problem["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(2, _store.Requests);
    }
}
