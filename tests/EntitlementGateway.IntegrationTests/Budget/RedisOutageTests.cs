using System.Net;
using System.Net.Http.Json;
using EntitlementGateway.Budget;
using EntitlementGateway.Emulator;
using EntitlementGateway.Entitlements;
using EntitlementGateway.Entitlements.Caching;
using EntitlementGateway.IntegrationTests.Infrastructure;
using EntitlementGateway.Store;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using static EntitlementGateway.IntegrationTests.Infrastructure.GatewayQueries;
using static EntitlementGateway.IntegrationTests.Infrastructure.StoreWorld;

namespace EntitlementGateway.IntegrationTests.Budget;

/// <summary>
/// Redis dead or slow, through real gateways and a real redis-server: LocalShare across two replicas, a replica's own
/// recent calls, the one-second skip after a failure, the cache's Redis asleep, stale answers for budget_unavailable,
/// and the L2 entries' lifetime.
/// </summary>
public sealed class RedisOutageTests : IAsyncLifetime
{
    private readonly RedisServerFixture _redis = new();
    private EmulatorServer _emulator = null!;
    private StoreWorld _store = null!;

    public async Task InitializeAsync()
    {
        await _redis.InitializeAsync();
        _emulator = await EmulatorServer.StartAsync(new EmulatorOptions());
        _store = new StoreWorld(_emulator);
    }

    public async Task DisposeAsync()
    {
        _store.Dispose();
        await _emulator.DisposeAsync();
        await _redis.DisposeAsync();
    }

    private GatewayApplication Replica(string policy, int limit = 10, int replicas = 2, bool cache = false, string? maxStale = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Redis:ConnectionString"] = _redis.ConnectionString,
            ["Budget:Limit"] = limit.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Budget:Replicas"] = replicas.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Budget:WhenRedisUnavailable"] = policy,
            ["ClientLimits:PermitLimit"] = "0",
            ["Cache:Enabled"] = cache ? "true" : "false",
        };
        if (maxStale is not null) settings["Cache:MaxStale"] = maxStale;
        return GatewayApplication.Live(_emulator, settings);
    }

    private static async Task<List<HttpStatusCode>> QueryTimesAsync(HttpClient client, string ucid, int times)
    {
        var answers = new List<HttpStatusCode>();
        for (var i = 0; i < times; i++)
        {
            using var response = await QueryAsync(client, ucid);
            answers.Add(response.StatusCode);
        }

        return answers;
    }

    [LocalRedisFact]
    public async Task LocalShare_TwoReplicas_EachAllowsFloorOfLimitOverReplicas_SoTogetherTheyStayWithinTheLimit()
    {
        await using var first = Replica("LocalShare", limit: 10, replicas: 2);
        await using var second = Replica("LocalShare", limit: 10, replicas: 2);
        using var firstClient = first.CreateClient();
        using var secondClient = second.CreateClient();
        var user = NewUser();
        var ucid = await _store.MintUcidAsync(user);

        await _redis.StopAsync();
        var fromFirst = await QueryTimesAsync(firstClient, ucid, 7);
        var fromSecond = await QueryTimesAsync(secondClient, ucid, 7);

        Assert.Equal([.. Enumerable.Repeat(HttpStatusCode.OK, 5), HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests], fromFirst);
        Assert.Equal([.. Enumerable.Repeat(HttpStatusCode.OK, 5), HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests], fromSecond);
        Assert.Equal(10, await _store.QueriesAsync(user)); // the two shares together: exactly the limit
    }

    [Fact]
    public async Task OnePlayersKeyOfAnotherType_RefusesOnlyThatPlayer_NotEveryoneElse()
    {
        await using var gateway = Replica("Reject", limit: 10, replicas: 1);
        using var client = gateway.CreateClient();
        var (poisoned, other) = (NewUser(), NewUser());
        var (poisonedUcid, otherUcid) = (await _store.MintUcidAsync(poisoned), await _store.MintUcidAsync(other));
        using (var admin = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(_redis.ConnectionString))
            await admin.GetDatabase().StringSetAsync(BudgetKeys.For("user-" + poisoned).Log, "not a sorted set");

        using (var refused = await QueryAsync(client, poisonedUcid))
            await AssertProblemAsync(refused, HttpStatusCode.ServiceUnavailable, "budget_unavailable");
        // Right after: Redis answered, so it is not skipped for the next player.
        Assert.All(await QueryTimesAsync(client, otherUcid, 3), s => Assert.Equal(HttpStatusCode.OK, s));
        Assert.Equal(0, await _store.QueriesAsync(poisoned));
        Assert.Equal(3, await _store.QueriesAsync(other));
    }

    [LocalRedisFact]
    public async Task LocalShare_AReplicasOwnRecentCalls_CountAgainstItsShareWhenRedisGoes()
    {
        await using var gateway = Replica("LocalShare", limit: 10, replicas: 2);
        using var client = gateway.CreateClient();
        var user = NewUser();
        var ucid = await _store.MintUcidAsync(user);
        Assert.All(await QueryTimesAsync(client, ucid, 3), s => Assert.Equal(HttpStatusCode.OK, s)); // counted in Redis

        await _redis.StopAsync();
        var during = await QueryTimesAsync(client, ucid, 4);

        // Its share is 5 per window and it already made 3 calls in this window: 2 more, not 5.
        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests], during);
        Assert.Equal(5, await _store.QueriesAsync(user));
    }

    [LocalRedisFact]
    public async Task BudgetUnavailable_WithACachedAnswer_AnswersItStale()
    {
        await using var gateway = Replica("Reject", limit: 100, replicas: 1, cache: true);
        using var client = gateway.CreateClient();
        var user = NewUser();
        await _store.SeedAsync(user, Item("9N30KZZF4BR9"));
        var ucid = await _store.MintUcidAsync(user);
        using (var first = await QueryAsync(client, ucid)) Assert.Equal("upstream", await ServedFromAsync(first));

        await _redis.StopAsync();
        using var response = await QueryAsync(client, ucid, fresh: true);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("stale", await ServedFromAsync(response));
        Assert.Equal("budget_unavailable", response.Headers.GetValues(EntitlementGateway.Api.EntitlementsApi.StaleBecauseHeader).Single());
        Assert.Equal(1, await _store.QueriesAsync(user));
    }

    [LocalRedisFact]
    public async Task Query_WhenTheCachesRedisIsAsleep_IsAMissAnsweredByTheStore_NotAnErrorAndNotAWait()
    {
        await using var first = Replica("LocalShare", limit: 100, replicas: 1, cache: true);
        await using var second = Replica("LocalShare", limit: 100, replicas: 1, cache: true);
        using var firstClient = first.CreateClient();
        using var secondClient = second.CreateClient();
        var user = NewUser();
        await _store.SeedAsync(user, Item("9N30KZZF4BR9"));
        var ucid = await _store.MintUcidAsync(user);
        using (var stored = await QueryAsync(firstClient, ucid)) Assert.Equal("upstream", await ServedFromAsync(stored)); // now in Redis (L2)
        using (var warm = await QueryAsync(secondClient, await _store.MintUcidAsync(NewUser()))) Assert.Equal(HttpStatusCode.OK, warm.StatusCode);

        var stall = _redis.StallAsync(TimeSpan.FromSeconds(8));
        await _redis.WaitUntilStalledAsync(); // DEBUG SLEEP reached the server before the query does
        using var response = await QueryAsync(secondClient, ucid);
        await stall;

        // Had the gateway waited for Redis, L2 would have answered "cache" without a Store call.
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("upstream", await ServedFromAsync(response));
        Assert.Single((await BodyAsync(response))["entitlements"]!.AsArray());
        Assert.Equal(2, await _store.QueriesAsync(user));
    }

    [LocalRedisFact]
    public async Task CachedAnswer_InRedis_ExpiresAfterMaxStale_NotBeforeTheTtl()
    {
        await using var gateway = Replica("Reject", limit: 100, replicas: 1, cache: true, maxStale: "00:05:00");
        using var client = gateway.CreateClient();
        var user = NewUser();
        var ucidValue = await _store.MintUcidAsync(user);
        using (var response = await QueryAsync(client, ucidValue)) Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        var ucid = UserCollectionsId.TryParse(ucidValue, out _)!;
        var key = QueryCacheKey.For(new EntitlementQuery(ucid, ucid.BudgetKey, [new ProductSelector("9N30KZZF4BR9", null)], null, true));
        await using var admin = await RedisAdmin.ConnectAsync(_redis.AdminConnectionString);
        var ttl = await admin.Database.KeyTimeToLiveAsync("eg:cache:v2:" + QueryCacheKey.Hashed(key));

        Assert.NotNull(ttl);
        Assert.InRange(ttl.Value, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(5)); // past Cache:Ttl (1 min), at most MaxStale
    }

    [LocalRedisFact]
    public async Task AfterARedisFailure_RedisIsSkippedUntilASecondHasPassed_ThenAskedAgain()
    {
        await using var replica = new BudgetReplica(_redis.ConnectionString, limit: 100, windowSeconds: 60, operationTimeoutMs: 250);
        await using var admin = await RedisAdmin.ConnectAsync(_redis.AdminConnectionString);
        var clock = new SettableClock(DateTimeOffset.UtcNow);
        var budget = new FailoverUserBudget(replica.Budget,
            Options.Create(new BudgetOptions { Limit = 100, WindowSeconds = 60, WhenRedisUnavailable = RedisUnavailablePolicy.Reject }),
            clock, NullLogger<FailoverUserBudget>.Instance);
        Assert.True((await budget.TryAcquireAsync("k")).Allowed);

        // Redis asleep: a call gives up after the operation timeout, and the failure starts the one-second skip.
        var stall = _redis.StallAsync(TimeSpan.FromSeconds(2));
        await _redis.WaitUntilStalledAsync(); // not a guess at how long redis-cli takes to start
        await Assert.ThrowsAsync<BudgetUnavailableException>(async () =>
        {
            for (var i = 0; i < 50; i++)
            {
                await budget.TryAcquireAsync("k");
                await Task.Delay(50);
            }
        });
        await stall;
        await replica.Budget.GetAsync("k"); // Redis answers again (and has run what was queued before it slept)
        var before = await admin.CommandCallsAsync();

        var skipped = await Assert.ThrowsAsync<BudgetUnavailableException>(async () => await budget.TryAcquireAsync("k"));
        var whileSkipping = RedisAdmin.Delta(before, await admin.CommandCallsAsync());
        clock.Now += TimeSpan.FromSeconds(1);
        var probe = await budget.TryAcquireAsync("k");

        Assert.Contains("failing fast", skipped.Message);
        Assert.False(whileSkipping.ContainsKey("evalsha") || whileSkipping.ContainsKey("eval"), "the skipped call must not reach Redis");
        Assert.True(probe.Allowed);
    }

    private sealed class SettableClock(DateTimeOffset start) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = start;

        public override DateTimeOffset GetUtcNow() => Now;
    }
}
