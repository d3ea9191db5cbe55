using System.Diagnostics;
using System.Net;
using EntitlementGateway.Emulator;
using EntitlementGateway.IntegrationTests.Infrastructure;
using static EntitlementGateway.IntegrationTests.Infrastructure.GatewayQueries;
using static EntitlementGateway.IntegrationTests.Infrastructure.StoreWorld;

namespace EntitlementGateway.IntegrationTests.Store.Resilience;

public sealed class SlowPagesFixture : ConfiguredGatewayFixture
{
    public const double TotalSeconds = 1.5;

    protected override EmulatorOptions EmulatorOptions => new() { PageSizeLimit = 1, RepeatItemsAcrossPages = false };
    protected override IReadOnlyDictionary<string, string?> Overrides => new Dictionary<string, string?>
    {
        ["Resilience:TotalTimeoutSeconds"] = TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Resilience:AttemptTimeoutSeconds"] = "1",
        ["Store:MaxPages"] = "50",
        ["Cache:Ttl"] = "00:01:00",
    };
}

/// <summary>What bounds a query in time, and what a remembered answer may still say.</summary>
public sealed class UpstreamBoundsTests(SlowPagesFixture fixture) : IClassFixture<SlowPagesFixture>
{
    [Fact]
    public async Task Query_WhosePagesEachAnswerInTimeButTogetherDoNot_Ends504WithinTheTotalTimeout()
    {
        var user = NewUser();
        var ucid = await fixture.Store.MintUcidAsync(user);
        var products = Enumerable.Range(0, 20).Select(i => $"9N30KZZF{i:D4}").ToArray();
        await fixture.Store.SeedAsync(user, products.Select(p => Item(p)).ToArray());
        // 300 ms a page is well inside the 1 s attempt timeout, but twenty pages are not inside 1.5 s in all.
        await fixture.Store.SetFaultsAsync(new { latencyMs = 300 });
        try
        {
            var watch = Stopwatch.StartNew();
            using var response = await QueryAsync(fixture.Client, ucid, products.Select(p => (object)new { productId = p }).ToArray(), fresh: true);
            watch.Stop();

            await AssertProblemAsync(response, HttpStatusCode.GatewayTimeout, "upstream_timeout");
            // 2 s over the total for an in-process gateway on a loaded 2-core machine; without the total it takes 6 s (20 x 300 ms).
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(SlowPagesFixture.TotalSeconds + 2), $"took {watch.Elapsed}");
            var calls = await fixture.Store.QueriesAsync(user);
            Assert.InRange(calls, 3, 6);
            // The attempt cut off by the deadline had taken its unit and was on the wire: the Store may count it.
            Assert.InRange(await UnitsUsedAsync(fixture.Gateway, user) - calls, 0, 1);
        }
        finally
        {
            await fixture.Store.SetFaultsAsync(new { });
        }
    }

    [Fact]
    public async Task Query_AnEntitlementEndingWhileCached_IsNoLongerServedFromTheCacheNorStale()
    {
        var user = NewUser();
        var ucid = await fixture.Store.MintUcidAsync(user);
        var ends = DateTimeOffset.UtcNow.AddSeconds(4);
        await fixture.Store.SeedAsync(user, Item("9N30KZZF4BR9", end: ends), Item("9MXL21XPWWWK", kind: "Game"));
        object[] products = [new { productId = "9N30KZZF4BR9" }, new { productId = "9MXL21XPWWWK" }];

        using var first = await QueryAsync(fixture.Client, ucid, products);
        var firstBody = await BodyAsync(first);
        Assert.True(DateTimeOffset.UtcNow < ends, "the first query took too long to see the item before it ended");
        Assert.Equal(2, firstBody["entitlements"]!.AsArray().Count);
        await Task.Delay(ends - DateTimeOffset.UtcNow + TimeSpan.FromMilliseconds(300));

        using var cached = await QueryAsync(fixture.Client, ucid, products);
        var cachedBody = await BodyAsync(cached);
        Assert.True(cachedBody["servedFrom"] is not null, cachedBody.ToJsonString());
        Assert.Equal("cache", cachedBody["servedFrom"]!.GetValue<string>());
        Assert.Equal(["9MXL21XPWWWK"], cachedBody["entitlements"]!.AsArray().Select(e => e!["productId"]!.GetValue<string>()));

        await fixture.Store.SetFaultsAsync(new { failNext = 3, failureStatus = 500, mode = "Status" });
        using var stale = await QueryAsync(fixture.Client, ucid, products, fresh: true);
        var staleBody = await BodyAsync(stale);
        Assert.True(staleBody["servedFrom"] is not null, staleBody.ToJsonString());
        Assert.Equal("stale", staleBody["servedFrom"]!.GetValue<string>());
        Assert.Equal(["9MXL21XPWWWK"], staleBody["entitlements"]!.AsArray().Select(e => e!["productId"]!.GetValue<string>()));
        await fixture.Store.SetFaultsAsync(new { });
    }
}

/// <summary>Service tokens: concurrent first requests of a fresh gateway share one token request.</summary>
public sealed class ServiceTokenSharingTests
{
    [Fact]
    public async Task ThreeFreshReplicas_UnderConcurrentFirstQueries_MakeOneTokenRequestEach()
    {
        await using var emulator = await EmulatorServer.StartAsync(new EmulatorOptions { LatencyMs = 20 });
        using var store = new StoreWorld(emulator);
        var ucids = new List<string>();
        for (var i = 0; i < 60; i++) ucids.Add(await store.MintUcidAsync(NewUser()));
        var replicas = Enumerable.Range(0, 3).Select(_ => GatewayApplication.Live(emulator)).ToArray();
        try
        {
            var clients = replicas.Select(r => r.CreateClient()).ToArray();
            var before = emulator.State.TokensIssued;

            var answers = await Task.WhenAll(ucids.Select((ucid, i) => QueryAsync(clients[i % 3], ucid)));

            Assert.All(answers, a => Assert.Equal(HttpStatusCode.OK, a.StatusCode));
            Assert.Equal(3, emulator.State.TokensIssued - before);
            foreach (var a in answers) a.Dispose();
            foreach (var c in clients) c.Dispose();
        }
        finally
        {
            foreach (var replica in replicas) await replica.DisposeAsync();
        }
    }
}
