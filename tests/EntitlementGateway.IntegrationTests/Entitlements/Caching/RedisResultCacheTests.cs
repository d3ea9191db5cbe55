using System.Net;
using EntitlementGateway.Entitlements.Caching;
using EntitlementGateway.Hosting;
using EntitlementGateway.Infrastructure.Redis;
using EntitlementGateway.IntegrationTests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using static EntitlementGateway.IntegrationTests.Infrastructure.GatewayQueries;
using static EntitlementGateway.IntegrationTests.Infrastructure.StoreWorld;

namespace EntitlementGateway.IntegrationTests.Entitlements.Caching;

/// <summary>L2: replicas share answers through Redis; a Redis that does not answer is a miss, never an error.</summary>
public sealed class RedisResultCacheTests(RedisServerFixture redis) : IClassFixture<RedisServerFixture>, IAsyncLifetime
{
    private EntitlementGateway.Emulator.EmulatorServer _emulator = null!;
    private StoreWorld _store = null!;

    public async Task InitializeAsync()
    {
        _emulator = await EntitlementGateway.Emulator.EmulatorServer.StartAsync(new EntitlementGateway.Emulator.EmulatorOptions());
        _store = new StoreWorld(_emulator);
    }

    public async Task DisposeAsync()
    {
        _store.Dispose();
        await _emulator.DisposeAsync();
    }

    [Fact]
    public async Task Query_AnsweredByOneReplica_IsACacheHitOnAnother()
    {
        var settings = new Dictionary<string, string?> { ["Redis:ConnectionString"] = redis.ConnectionString };
        await using var first = GatewayApplication.Live(_emulator, settings);
        await using var second = GatewayApplication.Live(_emulator, settings);
        var user = NewUser();
        await _store.SeedAsync(user, Item("9N30KZZF4BR9"));
        var ucid = await _store.MintUcidAsync(user);

        using var fromFirst = await QueryAsync(first.CreateClient(), ucid);
        using var fromSecond = await QueryAsync(second.CreateClient(), ucid);

        Assert.Equal("upstream", await ServedFromAsync(fromFirst));
        Assert.Equal("cache", await ServedFromAsync(fromSecond));
        Assert.Single((await BodyAsync(fromSecond))["entitlements"]!.AsArray());
        Assert.Equal(1, await _store.QueriesAsync(user));
    }

    [Fact]
    public async Task Query_WhenTheCachesRedisRefusesConnections_IsAMissNotAnError()
    {
        // The budget keeps its own (in-memory) store; only the cache's L2 points at a port where nothing listens.
        // A Redis that is there but asleep is tested through real gateways in RedisOutageTests.
        await using var gateway = GatewayApplication.Live(_emulator);
        var nowhere = new RedisOptions { ConnectionString = "127.0.0.1:1,connectTimeout=200", OperationTimeoutMs = 100 };
        await using var connection = new RedisConnection(Options.Create(nowhere));
        var cache = new ResultCache(Options.Create(new CacheOptions()), Options.Create(nowhere), TimeProvider.System,
            NullLogger<ResultCache>.Instance, connection);

        Assert.Null(await cache.GetAsync("some-key", "p", CancellationToken.None));
        await cache.SetAsync("some-key", "p", [], TimeProvider.System.GetUtcNow(), CancellationToken.None);
        Assert.NotNull(await cache.GetAsync("some-key", "p", CancellationToken.None)); // L1 still serves
        cache.Dispose();
        using var response = await QueryAsync(gateway.CreateClient(), await _store.MintUcidAsync(NewUser()));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [LocalRedisFact]
    public async Task WhileTheCachesRedisStalls_MissesDoNotAskItAgainForASecond()
    {
        var options = new RedisOptions { ConnectionString = redis.ConnectionString, OperationTimeoutMs = 200 };
        await using var connection = new RedisConnection(Options.Create(options));
        using var cache = new ResultCache(Options.Create(new CacheOptions()), Options.Create(options), TimeProvider.System,
            NullLogger<ResultCache>.Instance, connection);
        await using var admin = await RedisAdmin.ConnectAsync(redis.AdminConnectionString);
        // Connected and warm: on a cold process the first call can take longer than the 200 ms timeout, and its backoff
        // would then keep the misses below from asking Redis at all.
        for (var warm = 0; ; warm++)
        {
            var calls = await admin.CommandCallsAsync();
            Assert.Null(await cache.GetAsync("warm-up", "p", CancellationToken.None));
            if (RedisAdmin.Delta(calls, await admin.CommandCallsAsync()).GetValueOrDefault("mget") == 1) break;
            Assert.True(warm < 5, "the cache never reached Redis");
            await Task.Delay(TimeSpan.FromSeconds(1.1));
        }
        var before = await admin.CommandCallsAsync();

        var stall = redis.StallAsync(TimeSpan.FromSeconds(1.5));
        await redis.WaitUntilStalledAsync();
        var watch = System.Diagnostics.Stopwatch.StartNew();
        for (var i = 0; i < 20; i++) Assert.Null(await cache.GetAsync("miss-" + i, "p", CancellationToken.None));
        var elapsed = watch.Elapsed;
        await stall;

        // Only the first miss waited for Redis (its MGET ran once Redis woke up); the others did not ask it.
        Assert.Equal(1, RedisAdmin.Delta(before, await admin.CommandCallsAsync()).GetValueOrDefault("mget"));
        Assert.True(elapsed < TimeSpan.FromSeconds(1), $"20 misses took {elapsed}");
        await Task.Delay(TimeSpan.FromSeconds(1.1));
        Assert.Null(await cache.GetAsync("after", "p", CancellationToken.None));
        Assert.Equal(2, RedisAdmin.Delta(before, await admin.CommandCallsAsync()).GetValueOrDefault("mget"));
    }

    [Fact]
    public async Task DropPlayer_OnOneReplica_HidesTheAnswerFromAnothersMemoryAndFromRedis()
    {
        // A generous timeout: a Redis call that times out is a miss by design, and this machine may be busy.
        var options = new RedisOptions { ConnectionString = redis.ConnectionString, OperationTimeoutMs = 5000 };
        await using var connection = new RedisConnection(Options.Create(options));
        using var first = NewCache(options, connection);
        using var second = NewCache(options, connection);
        var player = "user-" + Guid.NewGuid().ToString("N");
        var key = "drop-" + player;
        await first.SetAsync(key, player, [], TimeProvider.System.GetUtcNow(), CancellationToken.None);
        await first.SetAsync(key + "-other", "someone-else", [], TimeProvider.System.GetUtcNow(), CancellationToken.None);
        Assert.NotNull(await second.GetAsync(key, player, CancellationToken.None)); // now in the second's memory too
        await Task.Delay(5); // the drop comes strictly after the fetch

        Assert.True(await first.DropPlayerAsync(player, CancellationToken.None));

        // The second replica hears of it on the channel: its fresh memory entry (which needs no Redis read) goes.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (await second.GetAsync(key, player, CancellationToken.None) is not null && DateTime.UtcNow < deadline) await Task.Delay(20);
        Assert.Null(await second.GetAsync(key, player, CancellationToken.None));
        // A replica that never heard of it reads the drop mark beside the entry in Redis.
        using var third = NewCache(options, connection);
        Assert.Null(await third.GetAsync(key, player, CancellationToken.None));
        Assert.NotNull(await third.GetAsync(key + "-other", "someone-else", CancellationToken.None));
    }

    [Fact]
    public async Task AnotherReplicasRefresh_ThatChangedNothing_KeepsThisReplicasObjects_AndOneThatChanged_ReplacesThem()
    {
        var options = new RedisOptions { ConnectionString = redis.ConnectionString, OperationTimeoutMs = 5000 };
        await using var connection = new RedisConnection(Options.Create(options));
        var time = new ManualTimeProvider(DateTimeOffset.UtcNow);
        using var first = NewCache(options, connection, time);
        using var second = NewCache(options, connection, time);
        var player = "user-" + Guid.NewGuid().ToString("N");
        var key = "refresh-" + player;
        EntitlementGateway.Entitlements.Entitlement Game(int quantity) => new("9MXL21XPWWWK", "0010", "Game", "Single", quantity,
            DateTimeOffset.UnixEpoch, DateTimeOffset.MaxValue, null, ["9NBLGGH4R315"], EntitlementGateway.Entitlements.TrialInfo.None);

        await first.SetAsync(key, player, [Game(1)], time.GetUtcNow(), CancellationToken.None);
        var held = (await second.GetAsync(key, player, CancellationToken.None))!;
        held.HitAnswer.Json = [1];

        // Past the Ttl the second replica reads Redis again, where the first replica's refresh (the same answer) now is.
        time.Advance(TimeSpan.FromSeconds(61));
        await first.SetAsync(key, player, [Game(1)], time.GetUtcNow(), CancellationToken.None);
        var same = (await second.GetAsync(key, player, CancellationToken.None))!;
        Assert.Same(held.Entitlements, same.Entitlements);
        Assert.Same(held.HitAnswer, same.HitAnswer);
        Assert.Equal(time.GetUtcNow(), same.StoredAt);
        Assert.Equal(time.GetUtcNow() + TimeSpan.FromSeconds(60), same.FreshUntil);

        time.Advance(TimeSpan.FromSeconds(61));
        await first.SetAsync(key, player, [Game(2)], time.GetUtcNow(), CancellationToken.None);
        var changed = (await second.GetAsync(key, player, CancellationToken.None))!;
        Assert.Equal(2, Assert.Single(changed.Entitlements).Quantity);
        Assert.Null(changed.HitAnswer.Json);
        Assert.Same(changed, await second.GetAsync(key, player, CancellationToken.None));
    }

    [Fact]
    public async Task DropPlayer_WhenRedisIsUnreachable_DropsHereAndSaysItDidNotReachTheOthers()
    {
        var nowhere = new RedisOptions { ConnectionString = "127.0.0.1:1,connectTimeout=200", OperationTimeoutMs = 100 };
        await using var connection = new RedisConnection(Options.Create(nowhere));
        using var cache = NewCache(nowhere, connection);
        await cache.SetAsync("k", "p", [], TimeProvider.System.GetUtcNow(), CancellationToken.None);
        await Task.Delay(5);

        Assert.False(await cache.DropPlayerAsync("p", CancellationToken.None));
        Assert.Null(await cache.GetAsync("k", "p", CancellationToken.None));
    }

    private static ResultCache NewCache(RedisOptions options, RedisConnection connection, TimeProvider? time = null) =>
        new(Options.Create(new CacheOptions { Ttl = TimeSpan.FromSeconds(60) }), Options.Create(options), time ?? TimeProvider.System,
            NullLogger<ResultCache>.Instance, connection);
}
