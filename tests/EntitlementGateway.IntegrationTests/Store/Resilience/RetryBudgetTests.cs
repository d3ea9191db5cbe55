using System.Net;
using EntitlementGateway.IntegrationTests.Infrastructure;
using static EntitlementGateway.IntegrationTests.Infrastructure.GatewayQueries;

namespace EntitlementGateway.IntegrationTests.Store.Resilience;

public sealed class RetryBudgetFixture : ConfiguredGatewayFixture
{
    public const int Limit = 2;

    protected override IReadOnlyDictionary<string, string?> Overrides => new Dictionary<string, string?>
    {
        ["Budget:Limit"] = Limit.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Resilience:TotalTimeoutSeconds"] = "5",
        ["Resilience:AttemptTimeoutSeconds"] = "1",
        ["Resilience:MaxRetries"] = "2",
        ["Resilience:BaseDelayMs"] = "10",
        ["Resilience:CircuitMinimumThroughput"] = "1000",
        ["Cache:Enabled"] = "false",
    };
}

/// <summary>Retries and the budget together: which answers are retried, and a retry that finds no unit left. Faults are global: one by one.</summary>
public sealed class RetryBudgetTests(RetryBudgetFixture fixture) : IClassFixture<RetryBudgetFixture>
{
    private readonly StoreWorld _store = fixture.Store;

    [Fact]
    public async Task Query_WhenARetryFindsTheBudgetUsedUp_EndsAt429WithoutCallingTheStoreAgain()
    {
        var user = NewUser();
        var ucid = await _store.MintUcidAsync(user);
        var before = StoreCalls(fixture.Emulator);
        await _store.SetFaultsAsync(new { failNext = 3, failureStatus = 500, mode = "Status" });

        using var response = await QueryAsync(fixture.Client, ucid);

        // Two attempts took the player's two units and failed; the third attempt's unit was refused, so it never ran.
        await AssertProblemAsync(response, HttpStatusCode.TooManyRequests, "budget_exhausted");
        Assert.Equal(RetryBudgetFixture.Limit, StoreCalls(fixture.Emulator) - before);
        Assert.Equal(1, fixture.Emulator.State.Faults.FailNext);
        Assert.Equal(RetryBudgetFixture.Limit, await UnitsUsedAsync(fixture.Gateway, user));
        await _store.SetFaultsAsync(new { });
    }

    [Fact]
    public async Task Query_WhenTheStoreAnswers408_IsRetried_AndTheRetryAnswers200()
    {
        var user = NewUser();
        var ucid = await _store.MintUcidAsync(user);
        var before = StoreCalls(fixture.Emulator);
        await _store.SetFaultsAsync(new { failNext = 1, failureStatus = 408, mode = "Status" });

        using var response = await QueryAsync(fixture.Client, ucid);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2, StoreCalls(fixture.Emulator) - before);
        Assert.Equal(1, await _store.QueriesAsync(user));
        Assert.Equal(2, await UnitsUsedAsync(fixture.Gateway, user));
        await _store.SetFaultsAsync(new { });
    }
}
