using System.Net;
using EntitlementGateway.Emulator;
using EntitlementGateway.IntegrationTests.Infrastructure;
using static EntitlementGateway.IntegrationTests.Infrastructure.GatewayQueries;

namespace EntitlementGateway.IntegrationTests.Consumables;

/// <summary>The consume ledger in a real redis-server, shared by two gateway replicas.</summary>
public sealed class SharedLedgerTests : IAsyncLifetime
{
    private const string Coins = "9NCOINS00001";
    private readonly RedisServerFixture _redis = new();

    public Task InitializeAsync() => _redis.InitializeAsync();

    public Task DisposeAsync() => _redis.DisposeAsync();

    private static async Task<(string User, string Ucid)> PlayerWithTenCoinsAsync(StoreWorld store)
    {
        var user = NewUser();
        await store.SeedAsync(user, StoreWorld.Consumable(Coins, 10, "order-1"));
        return (user, await store.MintUcidAsync(user));
    }

    [Fact]
    public async Task TwoReplicas_ConsumingWithOneTrackingIdAtOnce_MakeOneStoreCall_AndGiveTheSameAnswer()
    {
        await using var emulator = await EmulatorServer.StartAsync(new EmulatorOptions());
        using var store = new StoreWorld(emulator);
        var settings = new Dictionary<string, string?> { ["Redis:ConnectionString"] = _redis.ConnectionString, ["Redis:OperationTimeoutMs"] = "3000" };
        await using var first = GatewayApplication.Live(emulator, settings);
        await using var second = GatewayApplication.Live(emulator, settings);
        using var firstClient = first.CreateClient();
        using var secondClient = second.CreateClient();
        var (user, ucid) = await PlayerWithTenCoinsAsync(store);
        // Warm both replicas (token, connection) so the race is about the consume, then slow the Store so the calls overlap.
        using (await QueryAsync(firstClient, ucid)) { }
        using (await QueryAsync(secondClient, ucid)) { }
        await store.SetFaultsAsync(new { latencyMs = 700 });
        var trackingId = Guid.NewGuid();

        var responses = await Task.WhenAll(
            ConsumeAsync(firstClient, ucid, Coins, 3, trackingId),
            ConsumeAsync(secondClient, ucid, Coins, 3, trackingId));

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        var bodies = await Task.WhenAll(responses.Select(async r => (await BodyAsync(r)).ToJsonString()));
        Assert.Equal(bodies[0], bodies[1]);
        Assert.Equal(1, await store.ConsumesAsync(user));
        Assert.Equal(7, emulator.State.GetEntitlements(user).Sum(i => i["quantity"]!.GetValue<int>()));
        foreach (var r in responses) r.Dispose();
    }

    [Fact]
    public async Task AResendOnAnotherReplica_OfATrackingIdWhoseOutcomeWasUnknown_TakesTheStoresConflictAsTheFirstConsumeInFlight()
    {
        await using var emulator = await EmulatorServer.StartAsync(new EmulatorOptions());
        using var store = new StoreWorld(emulator);
        var settings = new Dictionary<string, string?>
        {
            ["Redis:ConnectionString"] = _redis.ConnectionString, ["Redis:OperationTimeoutMs"] = "3000",
            ["Resilience:AttemptTimeoutSeconds"] = "0.5", ["Resilience:MaxRetries"] = "0",
        };
        await using var first = GatewayApplication.Live(emulator, settings);
        await using var second = GatewayApplication.Live(emulator, settings);
        using var firstClient = first.CreateClient();
        using var secondClient = second.CreateClient();
        var (user, ucid) = await PlayerWithTenCoinsAsync(store);
        await store.SetFaultsAsync(new { consumeApplyMs = 2500 });
        var trackingId = Guid.NewGuid();
        using (var unknown = await ConsumeAsync(firstClient, ucid, Coins, 3, trackingId))
            Assert.Equal(HttpStatusCode.GatewayTimeout, unknown.StatusCode);

        // The second replica's ledger is the same Redis hash: it knows the trackingId went out, outcome unknown.
        using var resent = await ConsumeAsync(secondClient, ucid, Coins, 3, trackingId);

        await AssertProblemAsync(resent, HttpStatusCode.Conflict, "consume_in_progress");
        var until = DateTime.UtcNow.AddSeconds(10);
        while (Balance() != 7 && DateTime.UtcNow < until) await Task.Delay(50);
        Assert.Equal(7, Balance());
        await store.SetFaultsAsync(new { });
        using var again = await ConsumeAsync(secondClient, ucid, Coins, 3, trackingId);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal(7, (await BodyAsync(again))["newQuantity"]!.GetValue<int>());
        Assert.Equal(7, Balance());

        int Balance() => emulator.State.GetEntitlements(user).Sum(i => i["quantity"]!.GetValue<int>());
    }

    [Fact]
    public async Task AReplayAfterARestart_IsAnsweredFromTheRedisLedger_OnceTheStoreAcceptsTheUcidInAQuery_NeverConsumingAgain()
    {
        await using var emulator = await EmulatorServer.StartAsync(new EmulatorOptions());
        using var store = new StoreWorld(emulator);
        var settings = new Dictionary<string, string?> { ["Redis:ConnectionString"] = _redis.ConnectionString, ["Redis:OperationTimeoutMs"] = "3000" };
        var (user, ucid) = await PlayerWithTenCoinsAsync(store);
        var trackingId = Guid.NewGuid();
        await using (var before = GatewayApplication.Live(emulator, settings))
        {
            using var client = before.CreateClient();
            Assert.Equal(HttpStatusCode.OK, (await ConsumeAsync(client, ucid, Coins, 3, trackingId)).StatusCode);
        }

        await using var after = GatewayApplication.Live(emulator, settings);
        using var restarted = after.CreateClient();
        using var replay = await ConsumeAsync(restarted, ucid, Coins, 3, trackingId);

        Assert.Equal(HttpStatusCode.OK, replay.StatusCode);
        Assert.Equal("true", replay.Headers.GetValues("Idempotent-Replayed").Single());
        Assert.Equal(7, (await BodyAsync(replay))["newQuantity"]!.GetValue<int>());
        // The restarted replica had never seen this UCID accepted: the Store saw it in one query first; the consume was
        // never sent again, and the balance shows one consume.
        Assert.Equal(1, await store.ConsumesAsync(user));
        Assert.Equal(1, await store.QueriesAsync(user));
        Assert.Equal(7, emulator.State.GetEntitlements(user).Sum(i => i["quantity"]!.GetValue<int>()));
        // Now it has: the next replay is the ledger's alone.
        using var again = await ConsumeAsync(restarted, ucid, Coins, 3, trackingId);
        Assert.Equal("true", again.Headers.GetValues("Idempotent-Replayed").Single());
        Assert.Equal(1, await store.ConsumesAsync(user));
        Assert.Equal(1, await store.QueriesAsync(user));
    }

    [LocalRedisFact]
    public async Task AClaimThatTimedOutInAStalledRedis_IsReleased_SoTheRetryItAsksForIsNotHeldUp()
    {
        await using var emulator = await EmulatorServer.StartAsync(new EmulatorOptions());
        using var store = new StoreWorld(emulator);
        // Nothing waits for a pending claim: one still held answers 409 consume_in_progress at once.
        await using var gateway = GatewayApplication.Live(emulator, new Dictionary<string, string?>
        {
            ["Redis:ConnectionString"] = _redis.ConnectionString, ["Redis:OperationTimeoutMs"] = "300", ["Consume:WaitForPendingSeconds"] = "0",
        });
        using var client = gateway.CreateClient();
        var (user, ucid) = await PlayerWithTenCoinsAsync(store);
        using (var warm = await ConsumeAsync(client, ucid, Coins, 1, Guid.NewGuid())) Assert.Equal(HttpStatusCode.OK, warm.StatusCode);
        var trackingId = Guid.NewGuid();

        var stall = _redis.StallAsync(TimeSpan.FromSeconds(1.5));
        await _redis.WaitUntilStalledAsync();
        using (var during = await ConsumeAsync(client, ucid, Coins, 3, trackingId))
            await AssertProblemAsync(during, HttpStatusCode.ServiceUnavailable, "consume_ledger_unavailable");
        await stall;

        // Redis ran the timed-out claim when it woke, and the release sent after it.
        using var retry = await ConsumeAsync(client, ucid, Coins, 3, trackingId);
        Assert.Equal(HttpStatusCode.OK, retry.StatusCode);
        Assert.Equal(6, (await BodyAsync(retry))["newQuantity"]!.GetValue<int>());
        Assert.Equal(2, await store.ConsumesAsync(user));
    }
}
