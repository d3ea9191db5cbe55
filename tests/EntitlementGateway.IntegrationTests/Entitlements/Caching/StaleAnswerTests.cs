using System.Net;
using EntitlementGateway.Api;
using EntitlementGateway.IntegrationTests.Infrastructure;
using static EntitlementGateway.IntegrationTests.Infrastructure.GatewayQueries;
using static EntitlementGateway.IntegrationTests.Infrastructure.StoreWorld;

namespace EntitlementGateway.IntegrationTests.Entitlements.Caching;

public sealed class StaleFixture : ConfiguredGatewayFixture
{
    protected override IReadOnlyDictionary<string, string?> Overrides => new Dictionary<string, string?>
    {
        ["Budget:Limit"] = "2",
        ["Cache:Ttl"] = "00:00:01",
        ["Cache:MaxStale"] = "00:00:03",
        ["Resilience:MaxRetries"] = "0",
        ["Resilience:CircuitMinimumThroughput"] = "1000",
    };
}

/// <summary>A stale answer instead of an error, only when something younger than Cache:MaxStale is known. Faults are global: one by one.</summary>
public sealed class StaleAnswerTests(StaleFixture fixture) : IClassFixture<StaleFixture>
{
    private readonly StoreWorld _store = fixture.Store;

    private async Task<string> PlayerWithOneAnswerAsync()
    {
        var user = NewUser();
        await _store.SeedAsync(user, Item("9N30KZZF4BR9"));
        var ucid = await _store.MintUcidAsync(user);
        using var first = await QueryAsync(fixture.Client, ucid);
        Assert.Equal("upstream", await ServedFromAsync(first));
        return ucid;
    }

    private static async Task AssertStaleAsync(HttpResponseMessage response, string because)
    {
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await BodyAsync(response);
        Assert.Equal("stale", body["servedFrom"]!.GetValue<string>());
        Assert.Single(body["entitlements"]!.AsArray());
        Assert.Equal("110 - \"Response is stale\"", response.Headers.GetValues("Warning").Single());
        Assert.Equal(because, response.Headers.GetValues(EntitlementsApi.StaleBecauseHeader).Single());
    }

    [Theory]
    [InlineData("Status", 500, "upstream_error")]
    [InlineData("Status", 503, "upstream_unavailable")]
    [InlineData("Drop", 500, "upstream_unavailable")]
    public async Task Query_WhenTheStoreFails_AnswersTheLastKnownResultAsStale(string mode, int status, string because)
    {
        var ucid = await PlayerWithOneAnswerAsync();
        await Task.Delay(TimeSpan.FromSeconds(1.1)); // past the Ttl, inside MaxStale
        await _store.SetFaultsAsync(new { failNext = 1, failureStatus = status, mode });

        using var response = await QueryAsync(fixture.Client, ucid);

        await AssertStaleAsync(response, because);
        await _store.SetFaultsAsync(new { });
    }

    [Fact]
    public async Task Query_WhenTheBudgetIsExhausted_AnswersTheLastKnownResultAsStale()
    {
        var ucid = await PlayerWithOneAnswerAsync();
        using var second = await QueryAsync(fixture.Client, ucid, fresh: true); // the second and last unit

        using var response = await QueryAsync(fixture.Client, ucid, fresh: true);

        Assert.Equal("upstream", await ServedFromAsync(second));
        await AssertStaleAsync(response, "budget_exhausted");
        Assert.False(response.Headers.Contains("Retry-After"));
    }

    [Fact]
    public async Task Query_WhenTheLastKnownResultIsOlderThanMaxStale_TheErrorStands()
    {
        var ucid = await PlayerWithOneAnswerAsync();
        await Task.Delay(TimeSpan.FromSeconds(3.2));
        await _store.SetFaultsAsync(new { failNext = 1, failureStatus = 500, mode = "Status" });

        using var response = await QueryAsync(fixture.Client, ucid);

        await AssertProblemAsync(response, HttpStatusCode.BadGateway, "upstream_error");
        await _store.SetFaultsAsync(new { });
    }

    [Fact]
    public async Task Query_WithNothingCached_TheErrorStands()
    {
        var ucid = await _store.MintUcidAsync(NewUser());
        await _store.SetFaultsAsync(new { failNext = 1, failureStatus = 500, mode = "Status" });

        using var response = await QueryAsync(fixture.Client, ucid);

        await AssertProblemAsync(response, HttpStatusCode.BadGateway, "upstream_error");
        await _store.SetFaultsAsync(new { });
    }
}
