using System.Net;
using EntitlementGateway.Emulator;
using EntitlementGateway.IntegrationTests.Infrastructure;
using static EntitlementGateway.IntegrationTests.Infrastructure.GatewayQueries;

namespace EntitlementGateway.IntegrationTests.Store;

/// <summary>
/// A Store front end that keeps its HTTP/2 connection open but resets every new stream on it (at a per-connection memory
/// or stream limit, as Node's own HTTP/2 server does): every call sent there fails, while a new connection would be
/// answered. The gateway must move to a new connection rather than wait for the old one's lifetime to end, and a stream
/// refused unprocessed costs the player nothing.
/// </summary>
public sealed class StoreRefusedStreamTests : IAsyncLifetime
{
    private EmulatorServer _emulator = null!;
    private GatewayApplication _gateway = null!;
    private HttpClient _client = null!;
    private StoreWorld _world = null!;

    public async Task InitializeAsync()
    {
        _emulator = await EmulatorServer.StartAsync(new EmulatorOptions());
        _world = new StoreWorld(_emulator);
        var settings = GatewayApplication.LiveSettings(_emulator);
        settings["Store:HttpVersion"] = "2";
        settings["Resilience:MaxRetries"] = "2";
        settings["Resilience:BaseDelayMs"] = "10";
        _gateway = new GatewayApplication(settings);
        _client = _gateway.CreateClient();
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        _world.Dispose();
        await _gateway.DisposeAsync();
        await _emulator.DisposeAsync();
    }

    private bool Renewed() => _gateway.Logs.Any(log => log.Message.StartsWith("Store connections replaced", StringComparison.Ordinal));

    private async Task<(HttpResponseMessage Response, string User)> QueryOwnerAsync()
    {
        var user = NewUser();
        await _world.SeedAsync(user, StoreWorld.Item("9N30KZZF4BR9"));
        return (await QueryAsync(_client, await _world.MintUcidAsync(user)), user);
    }

    [Theory]
    [InlineData(7)] // REFUSED_STREAM
    [InlineData(11)] // ENHANCE_YOUR_CALM
    public async Task A_connection_that_resets_every_stream_is_replaced_and_the_query_is_answered_on_a_new_one(int errorCode)
    {
        // One answered query first: the connection is established and has worked.
        var (warm, _) = await QueryOwnerAsync();
        using (warm) Assert.Equal(HttpStatusCode.OK, warm.StatusCode);
        var connectionsBefore = _emulator.State.GetRequests().Select(r => r.ConnectionId).Distinct().Count();
        await _world.SetFaultsAsync(new { mode = "RefuseStreams", failNext = 1000, streamErrorCode = errorCode });

        var (response, _) = await QueryOwnerAsync();

        using (response)
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("upstream", await ServedFromAsync(response));
        }
        Assert.True(Renewed());
        var answered = _emulator.State.GetRequests().Where(r => r.Status == 200).Select(r => r.ConnectionId).Distinct().Count();
        Assert.Equal(connectionsBefore + 1, answered);

        // The next query goes straight to the new connection: nothing more is refused.
        var refusedSoFar = _emulator.State.GetRequests().Count(r => r.Status != 200);
        var (next, _) = await QueryOwnerAsync();
        using (next) Assert.Equal(HttpStatusCode.OK, next.StatusCode);
        Assert.Equal(refusedSoFar, _emulator.State.GetRequests().Count(r => r.Status != 200));
        // A stream reset is no protocol error: the calls stay on HTTP/2.
        Assert.All(_emulator.State.GetRequests(), r => Assert.Equal("HTTP/2", r.Protocol));
        Assert.DoesNotContain(_gateway.Logs, log => log.Message.StartsWith("The Store's HTTP/2 connection broke the protocol", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(7)]
    [InlineData(11)]
    public async Task A_burst_reset_on_the_old_connection_does_not_open_the_circuit(int errorCode)
    {
        // Two dozen queries at once, all sent on the connection that starts refusing: more than the circuit's minimum
        // throughput of failures if each counted. Only those of the connection still in use count; the rest are the
        // replaced connection's, and their retries are answered on the new one.
        var (warm, _) = await QueryOwnerAsync();
        using (warm) Assert.Equal(HttpStatusCode.OK, warm.StatusCode);
        await _world.SetFaultsAsync(new { mode = "RefuseStreams", failNext = 1000, streamErrorCode = errorCode });

        var responses = await Task.WhenAll(Enumerable.Range(0, 24).Select(_ => QueryOwnerAsync()));

        foreach (var (response, _) in responses)
            using (response) Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.DoesNotContain(_gateway.Logs, log => log.Message.StartsWith("Store circuit opened", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(7, 1)] // REFUSED_STREAM says the request was not processed: those two attempts give their units back
    [InlineData(11, 3)] // ENHANCE_YOUR_CALM does not: those attempts stay spent
    public async Task Attempts_whose_streams_were_refused_unprocessed_give_their_units_back(int errorCode, int unitsSpent)
    {
        await _world.SetFaultsAsync(new { mode = "RefuseStreams", failNext = 1000, streamErrorCode = errorCode });

        var (response, user) = await QueryOwnerAsync();

        // Three attempts: two reset on the first connection, the third answered on a new one.
        using (response) Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(unitsSpent, await UnitsUsedAsync(_gateway, user));
    }
}
