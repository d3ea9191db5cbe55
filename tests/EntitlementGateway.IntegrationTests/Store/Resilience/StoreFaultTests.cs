using System.Net;
using EntitlementGateway.IntegrationTests.Infrastructure;
using static EntitlementGateway.IntegrationTests.Infrastructure.GatewayQueries;

namespace EntitlementGateway.IntegrationTests.Store.Resilience;

public sealed class StoreFaultFixture : ConfiguredGatewayFixture
{
    public const int Limit = 6;

    protected override EntitlementGateway.Emulator.EmulatorOptions EmulatorOptions => new() { RateLimit = Limit };
    protected override IReadOnlyDictionary<string, string?> Overrides => new Dictionary<string, string?>
    {
        ["Budget:Limit"] = Limit.ToString(System.Globalization.CultureInfo.InvariantCulture),
        // Room for all three attempts of 0.5 s: these tests count attempts, the total timeout has its own test.
        ["Resilience:TotalTimeoutSeconds"] = "5",
        ["Resilience:AttemptTimeoutSeconds"] = "0.5",
        ["Resilience:MaxRetries"] = "2",
        ["Resilience:BaseDelayMs"] = "10",
        ["Resilience:CircuitMinimumThroughput"] = "1000",
    };
}

/// <summary>Each Store fault, seen by a client and audited on both sides: the gateway's budget and the emulator's log.</summary>
public sealed class StoreFaultTests(StoreFaultFixture fixture) : IClassFixture<StoreFaultFixture>
{
    private readonly HttpClient _client = fixture.Client;
    private readonly StoreWorld _store = fixture.Store;

    [Theory]
    [InlineData("Status", 500, 4, HttpStatusCode.BadGateway, "upstream_error", 3)]
    [InlineData("Status", 503, 0, HttpStatusCode.ServiceUnavailable, "upstream_unavailable", 3)]
    // A 503 that asks for seconds of quiet is not retried within the query: one attempt, one unit.
    [InlineData("Status", 503, 4, HttpStatusCode.ServiceUnavailable, "upstream_unavailable", 1)]
    [InlineData("Drop", 500, 4, HttpStatusCode.ServiceUnavailable, "upstream_unavailable", 3)]
    [InlineData("Hang", 500, 4, HttpStatusCode.GatewayTimeout, "upstream_timeout", 3)]
    public async Task Query_WhenEveryAttemptFails_GivesTheDocumentedProblem_AndEachAttemptSpentOneUnit(
        string mode, int status, int retryAfterSeconds, HttpStatusCode expected, string code, int attempts)
    {
        var user = NewUser();
        var ucid = await _store.MintUcidAsync(user);
        var before = StoreCalls(fixture.Emulator);
        await _store.SetFaultsAsync(new { failNext = 3, failureStatus = status, retryAfterSeconds, mode, latencyMs = 0 });

        using var response = await QueryAsync(_client, ucid);

        await AssertProblemAsync(response, expected, code);
        if (expected == HttpStatusCode.ServiceUnavailable) Assert.True(response.Headers.RetryAfter is not null);
        // Every attempt reached the Store, each after taking its own unit.
        Assert.Equal(attempts, StoreCalls(fixture.Emulator) - before);
        Assert.Equal(attempts, await UnitsUsedAsync(fixture.Gateway, user));
        await _store.SetFaultsAsync(new { });
    }

    [Theory]
    [InlineData("Status", 500)]
    [InlineData("Status", 503)]
    [InlineData("Drop", 500)]
    [InlineData("Hang", 500)]
    public async Task Query_WhenOneAttemptFails_TheRetryAnswers200(string mode, int status)
    {
        var user = NewUser();
        var ucid = await _store.MintUcidAsync(user);
        await _store.SetFaultsAsync(new { failNext = 1, failureStatus = status, retryAfterSeconds = 0, mode, latencyMs = 0 });

        using var response = await QueryAsync(_client, ucid);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2, await UnitsUsedAsync(fixture.Gateway, user));
        Assert.Equal(1, await _store.QueriesAsync(user));
    }

    [Fact]
    public async Task Query_WhenStoreAnswers429_IsNotRetried_AndBlocksThePlayerUntilRetryAfter()
    {
        var user = NewUser();
        var ucid = await _store.MintUcidAsync(user);
        await _store.SetFaultsAsync(new { failNext = 2, failureStatus = 429, retryAfterSeconds = 30, mode = "Status" });

        var sent = DateTimeOffset.UtcNow;
        using var first = await QueryAsync(_client, ucid);
        await AssertProblemAsync(first, HttpStatusCode.ServiceUnavailable, "upstream_unavailable");
        // The 30 s count from the Store's answer, somewhere inside the query: the lower bound from the clock, not a fixed slack.
        Assert.InRange(first.Headers.RetryAfter!.Delta!.Value.TotalSeconds, Math.Ceiling(30 - (DateTimeOffset.UtcNow - sent).TotalSeconds), 30);
        Assert.Equal(1, fixture.Emulator.State.Faults.FailNext); // one attempt, no retry
        Assert.Equal(1, await UnitsUsedAsync(fixture.Gateway, user));

        using var second = await QueryAsync(_client, ucid, fresh: true);
        await AssertProblemAsync(second, HttpStatusCode.TooManyRequests, "budget_exhausted");
        Assert.Equal(1, fixture.Emulator.State.Faults.FailNext); // blocked: the Store was not called
        await _store.SetFaultsAsync(new { });
    }

    [Fact]
    public async Task Query_UnderRepeatedFaultsAndRetries_NeverExceedsTheBudget_InTheStoresOwnAudit()
    {
        var user = NewUser();
        var ucid = await _store.MintUcidAsync(user);
        var before = StoreCalls(fixture.Emulator);
        await _store.SetFaultsAsync(new { failureRate = 0.5, failureStatus = 500, mode = "Status" });

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 12; i++)
        {
            using var response = await QueryAsync(_client, ucid, fresh: true);
            statuses.Add(response.StatusCode);
        }
        await _store.SetFaultsAsync(new { });

        // Every attempt (faulted or answered) reached the Store once and spent one unit; never more than the limit.
        Assert.InRange(StoreCalls(fixture.Emulator) - before, 1, StoreFaultFixture.Limit);
        Assert.InRange(fixture.Emulator.State.MaxCallsInAnyWindow(user), 0, StoreFaultFixture.Limit);
        Assert.Equal(0, fixture.Emulator.State.RateLimitedCount);
        Assert.All(statuses, s => Assert.Contains(s, new[] { HttpStatusCode.OK, HttpStatusCode.BadGateway, HttpStatusCode.TooManyRequests }));
    }
}
