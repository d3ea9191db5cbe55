using System.Net;
using EntitlementGateway.IntegrationTests.Infrastructure;
using EntitlementGateway.Store.Resilience;
using Microsoft.Extensions.DependencyInjection;
using Polly.CircuitBreaker;
using static EntitlementGateway.IntegrationTests.Infrastructure.GatewayQueries;

namespace EntitlementGateway.IntegrationTests.Store.Resilience;

public sealed class HalfOpenCircuitFixture : ConfiguredGatewayFixture
{
    public const int Limit = 2;

    protected override IReadOnlyDictionary<string, string?> Overrides => new Dictionary<string, string?>
    {
        ["Budget:Limit"] = Limit.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Resilience:MaxRetries"] = "0",
        ["Resilience:CircuitFailureRatio"] = "0.5",
        ["Resilience:CircuitMinimumThroughput"] = "4",
        ["Resilience:CircuitSamplingSeconds"] = "30",
        ["Resilience:CircuitBreakSeconds"] = "1",
        ["Cache:Enabled"] = "false",
    };
}

/// <summary>A real circuit over HTTP: opened by Store failures, polled by a player with no budget, closed by one healthy call.</summary>
public sealed class HalfOpenCircuitTests(HalfOpenCircuitFixture fixture) : IClassFixture<HalfOpenCircuitFixture>
{
    private CircuitState Circuit => fixture.Gateway.Services.GetRequiredService<StoreResiliencePipelines>().CircuitState;

    /// <summary>Failing calls from other players open the circuit (half of the window's calls, at least four), then the Store heals.</summary>
    private async Task OpenCircuitAsync()
    {
        await fixture.Store.SetFaultsAsync(new { failureRate = 1.0, failureStatus = 500, mode = "Status" });
        for (var i = 0; i < 4 && Circuit != CircuitState.Open; i++)
        {
            using var failed = await QueryAsync(fixture.Client, await fixture.Store.MintUcidAsync(NewUser()));
            await AssertProblemAsync(failed, HttpStatusCode.BadGateway, "upstream_error");
        }
        Assert.Equal(CircuitState.Open, Circuit);
        await fixture.Store.SetFaultsAsync(new { });
    }

    [Fact]
    public async Task Circuit_AnExhaustedPlayerPollingAfterTheBreak_NeitherTakesNorFailsTheTrial_AndOneHealthyCallClosesIt()
    {
        var store = fixture.Store;
        var exhausted = NewUser();
        var exhaustedUcid = await store.MintUcidAsync(exhausted);
        for (var i = 0; i < HalfOpenCircuitFixture.Limit; i++)
        {
            using var spent = await QueryAsync(fixture.Client, exhaustedUcid);
            Assert.Equal(HttpStatusCode.OK, spent.StatusCode);
        }

        await OpenCircuitAsync();

        // The break runs out. The player without budget polls: each poll is refused by the budget before the circuit.
        await Task.Delay(TimeSpan.FromSeconds(1.3));
        var storeCalls = StoreCalls(fixture.Emulator);
        for (var i = 0; i < 5; i++)
        {
            using var poll = await QueryAsync(fixture.Client, exhaustedUcid);
            await AssertProblemAsync(poll, HttpStatusCode.TooManyRequests, "budget_exhausted");
        }
        Assert.Equal(storeCalls, StoreCalls(fixture.Emulator));
        Assert.Equal(CircuitState.Open, Circuit); // no trial was taken: Polly moves to half-open only when a call enters

        // One healthy call from a player with budget is the trial, and it closes the circuit at once.
        using var healthy = await QueryAsync(fixture.Client, await store.MintUcidAsync(NewUser()));
        Assert.Equal(HttpStatusCode.OK, healthy.StatusCode);
        Assert.Equal(CircuitState.Closed, Circuit);
    }

    [Fact]
    public async Task Circuit_WhileItsBreakRuns_RefusesWithoutTakingAUnit()
    {
        var store = fixture.Store;
        await OpenCircuitAsync();
        var user = NewUser();

        using var refused = await QueryAsync(fixture.Client, await store.MintUcidAsync(user));

        await AssertProblemAsync(refused, HttpStatusCode.ServiceUnavailable, "upstream_unavailable");
        Assert.Equal(0, await UnitsUsedAsync(fixture.Gateway, user));
        await Task.Delay(TimeSpan.FromSeconds(1.3));
        using var after = await QueryAsync(fixture.Client, await store.MintUcidAsync(NewUser()));
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
    }
}
