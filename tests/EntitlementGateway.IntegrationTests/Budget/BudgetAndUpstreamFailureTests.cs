using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using EntitlementGateway.Budget;
using EntitlementGateway.Emulator;
using EntitlementGateway.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using static EntitlementGateway.IntegrationTests.Infrastructure.GatewayQueries;

namespace EntitlementGateway.IntegrationTests.Budget;

public sealed class FaultyStoreFixture : LiveGatewayFixture
{
    protected override EmulatorOptions EmulatorOptions => new();
    protected override IReadOnlyDictionary<string, string?> Overrides => new Dictionary<string, string?>
    {
        // Two retries (three attempts) per call, each attempt at most 1 s, the whole call at most 3 s.
        ["Resilience:TotalTimeoutSeconds"] = "3",
        ["Resilience:AttemptTimeoutSeconds"] = "1",
        ["Resilience:MaxRetries"] = "2",
        ["Resilience:BaseDelayMs"] = "10",
        // These tests are about one call's mapping; the circuit has its own tests.
        ["Resilience:CircuitMinimumThroughput"] = "1000",
        // Every query here must reach the budget and the Store; the cache has its own tests.
        ["Cache:Enabled"] = "false",
    };
    public const int Attempts = 3;
}

/// <summary>The budget and the Store's failures, seen by a client. Faults are global to the emulator: tests here run one by one.</summary>
public class BudgetAndUpstreamFailureTests(FaultyStoreFixture fixture) : IClassFixture<FaultyStoreFixture>
{
    private readonly HttpClient _client = fixture.Client;
    private readonly StoreWorld _store = fixture.Store;

    private Task<HttpResponseMessage> QueryAsync(string ucid) => GatewayQueries.QueryAsync(_client, ucid);

    [Fact]
    public async Task Query_The101stUpstreamCallInAWindow_IsRefusedWith429AndRetryAfter()
    {
        var user = NewUser();
        var ucid = await _store.MintUcidAsync(user);
        for (var i = 1; i <= 100; i++)
        {
            using var ok = await QueryAsync(ucid);
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
            Assert.StartsWith($"\"upstream\";r={100 - i};", ok.Headers.GetValues("RateLimit").Single());
        }

        var oldest = (await fixture.Gateway.Services.GetRequiredService<IUserBudget>().GetAsync("user-" + user)).OldestEntry!.Value;
        var sent = DateTimeOffset.UtcNow;
        using var refused = await QueryAsync(ucid);
        var answered = DateTimeOffset.UtcNow;

        await AssertProblemAsync(refused, HttpStatusCode.TooManyRequests, "budget_exhausted");
        // A unit frees up when the oldest one is the window plus the 2 s safety margin old, in whole seconds rounded up.
        // The gateway decided somewhere between sending and answering; both ends give the exact second.
        var frees = oldest + TimeSpan.FromSeconds(302);
        var retryAfter = int.Parse(refused.Headers.GetValues("Retry-After").Single());
        Assert.InRange(retryAfter, (int)Math.Ceiling((frees - answered).TotalSeconds), (int)Math.Ceiling((frees - sent).TotalSeconds));
        Assert.StartsWith("\"upstream\";r=0;", refused.Headers.GetValues("RateLimit").Single());
        Assert.Equal(100, await _store.QueriesAsync(user));
        Assert.Equal(0, (await _store.StatsAsync())["rateLimited"]!.GetValue<long>());
    }

    [Fact]
    public async Task Query_WhenStoreAnswers429_Returns503WithItsRetryAfter_ThenBlocksThePlayerWithoutCallingTheStore()
    {
        var user = NewUser();
        var ucid = await _store.MintUcidAsync(user);
        await _store.SetFaultsAsync(new { failNext = 1, failureStatus = 429, retryAfterSeconds = 40, mode = "Status" });

        var sent = DateTimeOffset.UtcNow;
        using var first = await QueryAsync(ucid);
        await AssertProblemAsync(first, HttpStatusCode.ServiceUnavailable, "upstream_unavailable");
        // The 40 s count from the Store's answer, somewhere inside the query: lower bounds from the clock, not a fixed slack.
        Assert.InRange(int.Parse(first.Headers.GetValues("Retry-After").Single()), (int)Math.Ceiling(40 - (DateTimeOffset.UtcNow - sent).TotalSeconds), 40);
        var callsAfterFirst = await _store.QueriesAsync(user);

        using var second = await QueryAsync(ucid);
        await AssertProblemAsync(second, HttpStatusCode.TooManyRequests, "budget_exhausted");
        Assert.InRange(int.Parse(second.Headers.GetValues("Retry-After").Single()), (int)Math.Ceiling(40 - (DateTimeOffset.UtcNow - sent).TotalSeconds), 40);
        Assert.Equal(callsAfterFirst, await _store.QueriesAsync(user));
    }

    [Fact]
    public async Task Query_WhenStoreFailsOnce_TheRetryAnswersAndBothAttemptsSpentAUnit()
    {
        var user = NewUser();
        var ucid = await _store.MintUcidAsync(user);
        await _store.SetFaultsAsync(new { failNext = 1, failureStatus = 500, mode = "Status" });

        using var response = await QueryAsync(ucid);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("\"upstream\";r=98;", response.Headers.GetValues("RateLimit").Single());
    }

    [Fact]
    public async Task Query_WhenStoreAnswers400_IsNotRetried()
    {
        var user = NewUser();
        var ucid = await _store.MintUcidAsync(user);
        await _store.SetFaultsAsync(new { failNext = 2, failureStatus = 400, mode = "Status" });

        using var response = await QueryAsync(ucid);

        await AssertProblemAsync(response, HttpStatusCode.BadGateway, "upstream_error");
        Assert.StartsWith("\"upstream\";r=99;", response.Headers.GetValues("RateLimit").Single());
        Assert.Equal(1, fixture.Emulator.State.Faults.FailNext);
        await _store.SetFaultsAsync(new { });
    }

    [Fact]
    public async Task Query_WhenStoreAnswers403_IsTheGatewaysError_NotTheUcids_AndKeepsItsUnit()
    {
        // The Store documents its UCID refusals as 401s; a 403 refuses the caller. The player must not be told to mint
        // a new UCID, the call is not retried (a 4xx), and its unit stays spent (the Store saw it).
        var user = NewUser();
        var ucid = await _store.MintUcidAsync(user);
        await _store.SetFaultsAsync(new { failNext = 2, failureStatus = 403, mode = "Status" });
        var tokensBefore = fixture.Emulator.State.TokensIssued;

        using var response = await QueryAsync(ucid);

        var problem = await AssertProblemAsync(response, HttpStatusCode.BadGateway, "upstream_error");
        Assert.Contains("403", problem["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Contains("Partner Center", problem["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.StartsWith("\"upstream\";r=99;", response.Headers.GetValues("RateLimit").Single());
        Assert.Equal(1, fixture.Emulator.State.Faults.FailNext);
        Assert.Equal(tokensBefore, fixture.Emulator.State.TokensIssued);
        await _store.SetFaultsAsync(new { });
    }

    [Theory]
    [InlineData(500, HttpStatusCode.BadGateway, "upstream_error", FaultyStoreFixture.Attempts)]
    [InlineData(502, HttpStatusCode.BadGateway, "upstream_error", FaultyStoreFixture.Attempts)]
    // The Store's Retry-After of 7 s is honoured: no retry inside the query.
    [InlineData(503, HttpStatusCode.ServiceUnavailable, "upstream_unavailable", 1)]
    public async Task Query_WhenStoreFails_MapsToTheDocumentedProblem(int storeStatus, HttpStatusCode expected, string code, int attempts)
    {
        var ucid = await _store.MintUcidAsync(NewUser());
        await _store.SetFaultsAsync(new { failNext = FaultyStoreFixture.Attempts, failureStatus = storeStatus, retryAfterSeconds = 7, mode = "Status" });

        using var response = await QueryAsync(ucid);

        await AssertProblemAsync(response, expected, code);
        Assert.StartsWith($"\"upstream\";r={100 - attempts};", response.Headers.GetValues("RateLimit").Single());
        if (expected == HttpStatusCode.ServiceUnavailable) Assert.Equal("7", response.Headers.GetValues("Retry-After").Single());
        await _store.SetFaultsAsync(new { });
    }

    [Fact]
    public async Task Query_WhenStoreDropsTheConnection_Returns503WithRetryAfter()
    {
        var ucid = await _store.MintUcidAsync(NewUser());
        await _store.SetFaultsAsync(new { failNext = FaultyStoreFixture.Attempts, mode = "Drop" });

        using var response = await QueryAsync(ucid);

        await AssertProblemAsync(response, HttpStatusCode.ServiceUnavailable, "upstream_unavailable");
        Assert.True(response.Headers.Contains("Retry-After"));
    }

    [Fact]
    public async Task Query_WhenStoreHangsPastTheTimeout_Returns504()
    {
        var ucid = await _store.MintUcidAsync(NewUser());
        await _store.SetFaultsAsync(new { failNext = FaultyStoreFixture.Attempts, mode = "Hang", latencyMs = 5000 });

        using var response = await QueryAsync(ucid);

        await AssertProblemAsync(response, HttpStatusCode.GatewayTimeout, "upstream_timeout");
        await _store.SetFaultsAsync(new { });
    }

    [Fact]
    public async Task Query_AfterAFault_TheNextQuerySucceeds()
    {
        var ucid = await _store.MintUcidAsync(NewUser());
        await _store.SetFaultsAsync(new { failNext = FaultyStoreFixture.Attempts, failureStatus = 500, mode = "Status" });
        using var failed = await QueryAsync(ucid);
        using var ok = await QueryAsync(ucid);

        Assert.Equal(HttpStatusCode.BadGateway, failed.StatusCode);
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Empty((await ok.Content.ReadFromJsonAsync<JsonObject>())!["entitlements"]!.AsArray());
    }
}
