using System.Net;
using EntitlementGateway.IntegrationTests.Infrastructure;
using static EntitlementGateway.IntegrationTests.Infrastructure.GatewayQueries;
using static EntitlementGateway.IntegrationTests.Infrastructure.StoreWorld;

namespace EntitlementGateway.IntegrationTests.Entitlements.Caching;

public sealed class CachePolicyFixture : ConfiguredGatewayFixture
{
    protected override IReadOnlyDictionary<string, string?> Overrides => new Dictionary<string, string?>
    {
        ["Resilience:TotalTimeoutSeconds"] = "2",
        ["Resilience:AttemptTimeoutSeconds"] = "0.5",
        ["Resilience:MaxRetries"] = "0",
        ["Resilience:CircuitMinimumThroughput"] = "1000",
        ["ClientLimits:PermitLimit"] = "0",
    };
}

/// <summary>What is cached, what is dropped, and which failures a cached answer may stand in for. Faults are global: one by one.</summary>
public sealed class CachePolicyTests(CachePolicyFixture fixture) : IClassFixture<CachePolicyFixture>
{
    private readonly StoreWorld _store = fixture.Store;

    private async Task<(string User, string Ucid)> PlayerWithOneAnswerAsync()
    {
        var user = NewUser();
        await _store.SeedAsync(user, Item("9N30KZZF4BR9"));
        var ucid = await _store.MintUcidAsync(user);
        using var first = await QueryAsync(fixture.Client, ucid);
        Assert.Equal("upstream", await ServedFromAsync(first));
        return (user, ucid);
    }

    private static async Task AssertStaleAsync(HttpResponseMessage response, string because)
    {
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await BodyAsync(response);
        Assert.Equal("stale", body["servedFrom"]!.GetValue<string>());
        Assert.Equal("9N30KZZF4BR9", Assert.Single(body["entitlements"]!.AsArray())!["productId"]!.GetValue<string>());
        Assert.Equal(because, response.Headers.GetValues(EntitlementGateway.Api.EntitlementsApi.StaleBecauseHeader).Single());
    }

    [Fact]
    public async Task Query_WhenTheStoreTimesOut_AnswersTheLastKnownResultAsStale_BecauseUpstreamTimeout()
    {
        var (_, ucid) = await PlayerWithOneAnswerAsync();
        await _store.SetFaultsAsync(new { failNext = 1, mode = "Hang" });

        using var response = await QueryAsync(fixture.Client, ucid, fresh: true);

        await AssertStaleAsync(response, "upstream_timeout");
        await _store.SetFaultsAsync(new { });
    }

    [Fact]
    public async Task Query_WhenTheStoreAnswers429_AnswersTheLastKnownResultAsStale_BecauseUpstreamUnavailable()
    {
        var (_, ucid) = await PlayerWithOneAnswerAsync();
        await _store.SetFaultsAsync(new { failNext = 1, failureStatus = 429, retryAfterSeconds = 30, mode = "Status" });

        using var response = await QueryAsync(fixture.Client, ucid, fresh: true);

        await AssertStaleAsync(response, "upstream_unavailable");
        await _store.SetFaultsAsync(new { });
    }

    [Fact]
    public async Task Query_WhileTheCircuitIsOpen_AnswersTheLastKnownResultAsStale_WithoutCallingTheStore()
    {
        await using var gateway = GatewayApplication.Live(fixture.Emulator, new Dictionary<string, string?>
        {
            ["Resilience:MaxRetries"] = "0",
            ["Resilience:CircuitMinimumThroughput"] = "2",
            ["Resilience:CircuitFailureRatio"] = "0.5",
            ["Resilience:CircuitBreakSeconds"] = "60",
            ["ClientLimits:PermitLimit"] = "0",
        });
        using var client = gateway.CreateClient();
        var user = NewUser();
        await _store.SeedAsync(user, Item("9N30KZZF4BR9"));
        var ucid = await _store.MintUcidAsync(user);
        using (var first = await QueryAsync(client, ucid)) Assert.Equal("upstream", await ServedFromAsync(first));
        // One failed attempt out of two (the minimum throughput) reaches the failure ratio: the circuit opens.
        await _store.SetFaultsAsync(new { failNext = 1, failureStatus = 500, mode = "Status" });
        using (var failed = await QueryAsync(client, await _store.MintUcidAsync(NewUser())))
            await AssertProblemAsync(failed, HttpStatusCode.BadGateway, "upstream_error");
        await _store.SetFaultsAsync(new { });
        var callsBefore = StoreCalls(fixture.Emulator);

        using var response = await QueryAsync(client, ucid, fresh: true);

        await AssertStaleAsync(response, "upstream_unavailable");
        Assert.Equal(callsBefore, StoreCalls(fixture.Emulator));
    }

    [Fact]
    public async Task Query_AFailedAnswer_IsNotCached_TheNextQueryAsksTheStore()
    {
        var user = NewUser();
        await _store.SeedAsync(user, Item("9N30KZZF4BR9"));
        var ucid = await _store.MintUcidAsync(user);
        await _store.SetFaultsAsync(new { failNext = 1, failureStatus = 500, mode = "Status" });

        using var failed = await QueryAsync(fixture.Client, ucid);
        await AssertProblemAsync(failed, HttpStatusCode.BadGateway, "upstream_error");
        using var next = await QueryAsync(fixture.Client, ucid);

        Assert.Equal(HttpStatusCode.OK, next.StatusCode);
        Assert.Equal("upstream", await ServedFromAsync(next));
        Assert.Equal(1, await _store.QueriesAsync(user)); // the faulted call never reached the per-user stage
        await _store.SetFaultsAsync(new { });
    }

    [Fact]
    public async Task Query_AUcidTheStoreRefuses_IsNeverAnsweredStale_AndDropsItsCachedAnswer()
    {
        var (user, ucid) = await PlayerWithOneAnswerAsync();
        await _store.SetFaultsAsync(new { failNext = 1, failureStatus = 401, mode = "Status" });

        using var refused = await QueryAsync(fixture.Client, ucid, fresh: true);
        await AssertProblemAsync(refused, HttpStatusCode.BadRequest, "invalid_user_collections_id");
        await _store.SetFaultsAsync(new { });

        // Inside the Ttl the first answer would be a hit; it was dropped, so the Store is asked again.
        using var after = await QueryAsync(fixture.Client, ucid);
        Assert.Equal("upstream", await ServedFromAsync(after));
        Assert.Equal(2, await _store.QueriesAsync(user));
    }

    [Fact]
    public async Task Cache_HoldsNoMoreThanMaxEntries_SoOtherQueriesAskTheStoreAgain()
    {
        await using var gateway = GatewayApplication.Live(fixture.Emulator, new Dictionary<string, string?>
        {
            ["Cache:MaxEntries"] = "2",
            ["ClientLimits:PermitLimit"] = "0",
        });
        using var client = gateway.CreateClient();
        var user = NewUser();
        await _store.SeedAsync(user, Item("9N30KZZF4BR9"));
        var ucid = await _store.MintUcidAsync(user);
        // Five distinct queries (five cache keys), each asked twice.
        var queries = Enumerable.Range(10, 5).Select(i => new object[] { new { productId = "9N30KZZF4BR9", skuId = $"00{i}" } }).ToArray();
        foreach (var products in queries)
        {
            using var first = await QueryAsync(client, ucid, products);
            Assert.Equal("upstream", await ServedFromAsync(first));
        }

        var hits = 0;
        foreach (var products in queries)
        {
            using var again = await QueryAsync(client, ucid, products);
            Assert.Equal(HttpStatusCode.OK, again.StatusCode);
            if (await ServedFromAsync(again) == "cache") hits++;
        }

        // At most two answers were held when the second round began; the others were asked again.
        Assert.InRange(hits, 0, 2);
        Assert.Equal(10 - hits, await _store.QueriesAsync(user));
    }
}
