using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using EntitlementGateway.Emulator;
using EntitlementGateway.IntegrationTests.Infrastructure;
using static EntitlementGateway.IntegrationTests.Infrastructure.GatewayQueries;

namespace EntitlementGateway.IntegrationTests.Budget;

/// <summary>The shared budget seen through real gateways: several replicas on one redis-server, and Redis dying under load.</summary>
public sealed class RedisBudgetGatewayTests : IAsyncLifetime
{
    private readonly RedisServerFixture _redis = new();

    public Task InitializeAsync() => _redis.InitializeAsync();

    public Task DisposeAsync() => _redis.DisposeAsync();

    [LocalRedisFact]
    public async Task ReadinessProbesInALoop_AskRedisAtMostOncePerSecond_AndAFailingBudgetCallIsSeenAtOnce()
    {
        await using var emulator = await EmulatorServer.StartAsync(new EmulatorOptions());
        await using var gateway = GatewayApplication.Live(emulator, new Dictionary<string, string?> { ["Redis:ConnectionString"] = _redis.ConnectionString });
        using var client = gateway.CreateClient();
        await using var admin = await RedisAdmin.ConnectAsync(_redis.AdminConnectionString);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/ready")).StatusCode);

        var before = await admin.CommandCallsAsync();
        var watch = Stopwatch.StartNew();
        for (var i = 0; i < 50; i++) Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/ready")).StatusCode);
        var calls = RedisAdmin.Delta(before, await admin.CommandCallsAsync()).Where(p => p.Key != "info").Sum(p => p.Value);

        // One Redis round trip (a script and what it runs, or a read) per second at most, not per probe.
        Assert.InRange(calls, 0, 4 * (1 + (long)watch.Elapsed.TotalSeconds));

        await _redis.StopAsync();
        using var store = new StoreWorld(emulator);
        // A budget call meets the outage (whatever the policy answers): readiness says so at its next probe.
        (await QueryAsync(client, await store.MintUcidAsync("probe-player"))).Dispose();
        Assert.Contains("Degraded", await client.GetStringAsync("/health/ready"), StringComparison.Ordinal);
        await _redis.StartAgainAsync();
    }

    [LocalRedisFact]
    public async Task ThreeReplicasSharingRedis_UnderHundredsOfConcurrentQueries_NeverLetAnyStoreWindowHoldMoreThanTheLimit()
    {
        const int limit = 10;
        var window = TimeSpan.FromSeconds(3);
        await using var emulator = await EmulatorServer.StartAsync(new EmulatorOptions { RateLimit = limit, RateLimitWindowSeconds = 3 });
        using var store = new StoreWorld(emulator);
        var gateways = new[] { _redis.ConnectionString, _redis.ConnectionStringByHostName, _redis.ConnectionString }
            .Select(redis => GatewayApplication.Live(emulator, new Dictionary<string, string?>
            {
                ["Redis:ConnectionString"] = redis,
                ["Redis:OperationTimeoutMs"] = "3000",
                ["Budget:Limit"] = limit.ToString(),
                ["Budget:WindowSeconds"] = "3",
                ["Budget:SafetyMarginMs"] = "300",
                ["ClientLimits:PermitLimit"] = "0",
                ["Cache:Enabled"] = "false", // every query must reach the budget
            })).ToArray();
        var clients = gateways.Select(g => g.CreateClient()).ToArray();
        var ucid = await store.MintUcidAsync("popular-player");
        var statuses = new ConcurrentBag<(HttpStatusCode Status, string? Code)>();

        // 24 workers for 7 seconds (at most 2000 queries), spread over the three replicas; a refused worker waits 150 ms.
        var deadline = Stopwatch.StartNew();
        var sent = 0;
        await Task.WhenAll(Enumerable.Range(0, 24).Select(worker => Task.Run(async () =>
        {
            while (deadline.Elapsed < TimeSpan.FromSeconds(7) && Interlocked.Increment(ref sent) <= 2000)
            {
                using var response = await QueryAsync(clients[worker % 3], ucid);
                var code = response.IsSuccessStatusCode ? null : (await response.Content.ReadFromJsonAsync<JsonObject>())?["code"]?.GetValue<string>();
                statuses.Add((response.StatusCode, code));
                if (!response.IsSuccessStatusCode) await Task.Delay(150);
            }
        })));

        var ok = statuses.Count(s => s.Status == HttpStatusCode.OK);
        Assert.True(statuses.Count >= 200, $"only {statuses.Count} queries were sent");
        Assert.All(statuses.Where(s => s.Status != HttpStatusCode.OK), s => Assert.Equal((HttpStatusCode.TooManyRequests, "budget_exhausted"), s));
        Assert.True(ok >= 2 * limit, $"expected several windows' worth of admitted queries, saw {ok}");
        Assert.Equal(ok, await store.QueriesAsync("popular-player"));
        Assert.Equal(0, (await store.StatsAsync())["rateLimited"]!.GetValue<long>());
        Assert.InRange(emulator.State.MaxCallsInAnyWindow("popular-player", window), 1, limit);

        foreach (var client in clients) client.Dispose();
        foreach (var gateway in gateways) await gateway.DisposeAsync();
    }

    [LocalRedisFact]
    public async Task AStore429SeenByOneReplica_BlocksThePlayerOnAnother_WithoutAStoreCall()
    {
        await using var emulator = await EmulatorServer.StartAsync(new EmulatorOptions());
        using var store = new StoreWorld(emulator);
        var settings = new Dictionary<string, string?> { ["Redis:ConnectionString"] = _redis.ConnectionString };
        await using var first = GatewayApplication.Live(emulator, settings);
        await using var second = GatewayApplication.Live(emulator, settings);
        using var firstClient = first.CreateClient();
        using var secondClient = second.CreateClient();
        var ucid = await store.MintUcidAsync("blocked-player");
        await store.SetFaultsAsync(new { failNext = 1, failureStatus = 429, retryAfterSeconds = 30, mode = "Status" });

        using var limited = await QueryAsync(firstClient, ucid);
        await AssertProblemAsync(limited, HttpStatusCode.ServiceUnavailable, "upstream_unavailable");
        var calls = await store.QueriesAsync("blocked-player");

        using var blocked = await QueryAsync(secondClient, ucid);
        await AssertProblemAsync(blocked, HttpStatusCode.TooManyRequests, "budget_exhausted");
        Assert.InRange(int.Parse(blocked.Headers.GetValues("Retry-After").Single()), 25, 30);
        Assert.Equal(calls, await store.QueriesAsync("blocked-player"));
    }

    [LocalRedisFact]
    public async Task RedisKilledUnderLoad_WithReject_Answers503FastWithoutStoreCalls_ThenRecovers()
    {
        await using var emulator = await EmulatorServer.StartAsync(new EmulatorOptions { RateLimit = 10_000 });
        using var store = new StoreWorld(emulator);
        await using var gateway = OutageGateway(emulator, "Reject", limit: 10_000);
        using var client = gateway.CreateClient();
        var ucid = await store.MintUcidAsync("outage-player");
        for (var i = 0; i < 5; i++) Assert.Equal(HttpStatusCode.OK, (await QueryAsync(client, ucid)).StatusCode);

        await _redis.StopAsync();
        var callsBefore = await store.QueriesAsync("outage-player");
        var slowest = TimeSpan.Zero;
        for (var i = 0; i < 20; i++)
        {
            var watch = Stopwatch.StartNew();
            using var response = await QueryAsync(client, ucid);
            slowest = watch.Elapsed > slowest ? watch.Elapsed : slowest;
            await AssertProblemAsync(response, HttpStatusCode.ServiceUnavailable, "budget_unavailable");
            Assert.True(response.Headers.Contains("Retry-After"));
        }
        Assert.True(slowest < TimeSpan.FromSeconds(2), $"a request took {slowest} while Redis was down");
        Assert.Equal(callsBefore, await store.QueriesAsync("outage-player"));
        var degraded = await client.GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.OK, degraded.StatusCode);
        Assert.Contains("Degraded", await degraded.Content.ReadAsStringAsync());

        await _redis.StartAgainAsync();
        await WaitUntilAsync(async () => (await QueryAsync(client, ucid)).StatusCode == HttpStatusCode.OK, TimeSpan.FromSeconds(15));
        await WaitUntilAsync(async () => !(await client.GetStringAsync("/health/ready")).Contains("Degraded"), TimeSpan.FromSeconds(15));
    }

    [LocalRedisFact]
    public async Task RedisKilled_WithLocalShare_EachReplicaAllowsItsShareOfTheLimit_ThenRecovers()
    {
        await using var emulator = await EmulatorServer.StartAsync(new EmulatorOptions());
        using var store = new StoreWorld(emulator);
        await using var gateway = OutageGateway(emulator, "LocalShare", limit: 10, replicas: 2);
        using var client = gateway.CreateClient();
        var ucid = await store.MintUcidAsync("share-player");
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/ready")).StatusCode);

        await _redis.StopAsync();
        var answers = new List<HttpStatusCode>();
        for (var i = 0; i < 12; i++) answers.Add((await QueryAsync(client, ucid)).StatusCode);

        Assert.Equal(5, answers.Count(s => s == HttpStatusCode.OK));
        Assert.All(answers.Skip(5), s => Assert.Equal(HttpStatusCode.TooManyRequests, s));
        Assert.Equal(5, await store.QueriesAsync("share-player"));

        await _redis.StartAgainAsync();
        var other = await store.MintUcidAsync("share-player-2");
        await WaitUntilAsync(async () => !(await client.GetStringAsync("/health/ready")).Contains("Degraded"), TimeSpan.FromSeconds(15));
        // Back on Redis: the full limit again for a fresh player.
        var after = new List<HttpStatusCode>();
        for (var i = 0; i < 10; i++) after.Add((await QueryAsync(client, other)).StatusCode);
        Assert.All(after, s => Assert.Equal(HttpStatusCode.OK, s));
    }

    /// <summary>A Live gateway on this class's redis-server with the given outage policy; no cache, so every query meets the budget.</summary>
    private GatewayApplication OutageGateway(EmulatorServer emulator, string policy, int limit, int replicas = 1) =>
        GatewayApplication.Live(emulator, new Dictionary<string, string?>
        {
            ["Redis:ConnectionString"] = _redis.ConnectionString,
            ["Budget:Limit"] = limit.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Budget:Replicas"] = replicas.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Budget:WhenRedisUnavailable"] = policy,
            ["ClientLimits:PermitLimit"] = "0",
            ["Cache:Enabled"] = "false",
        });

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout)
    {
        var watch = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(watch.Elapsed < timeout, "the condition did not become true in time");
            await Task.Delay(200);
        }
    }
}
