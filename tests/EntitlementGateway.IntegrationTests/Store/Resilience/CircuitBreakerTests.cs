using System.Diagnostics.Metrics;
using System.Net;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using EntitlementGateway.IntegrationTests.Infrastructure;
using EntitlementGateway.Store.Resilience;
using Microsoft.Extensions.DependencyInjection;
using Polly.CircuitBreaker;
using static EntitlementGateway.IntegrationTests.Infrastructure.GatewayQueries;

namespace EntitlementGateway.IntegrationTests.Store.Resilience;

public sealed class CircuitFixture : ConfiguredGatewayFixture
{
    protected override IReadOnlyDictionary<string, string?> Overrides => new Dictionary<string, string?>
    {
        ["Resilience:MaxRetries"] = "0",
        ["Resilience:CircuitFailureRatio"] = "0.5",
        ["Resilience:CircuitMinimumThroughput"] = "4",
        ["Resilience:CircuitSamplingSeconds"] = "30",
        ["Resilience:CircuitBreakSeconds"] = "1",
        ["Cache:Enabled"] = "false",
    };
}

public sealed class CircuitBreakerTests(CircuitFixture fixture) : IClassFixture<CircuitFixture>
{
    [Fact]
    public async Task Circuit_OpensUnderSustainedFailure_RefusesWithoutCallingTheStoreOrSpendingBudget_ThenClosesAgain()
    {
        var store = fixture.Store;
        var users = Enumerable.Range(0, 6).Select(_ => NewUser()).ToArray();
        var ucids = new List<string>();
        foreach (var user in users) ucids.Add(await store.MintUcidAsync(user));
        await store.SetFaultsAsync(new { failureRate = 1.0, failureStatus = 500, mode = "Status" });

        for (var i = 0; i < 4; i++)
        {
            using var failed = await QueryAsync(fixture.Client, ucids[i]);
            await AssertProblemAsync(failed, HttpStatusCode.BadGateway, "upstream_error");
        }
        Assert.Equal(CircuitState.Open, fixture.Gateway.Services.GetRequiredService<StoreResiliencePipelines>().CircuitState);

        var callsWhenOpened = StoreCalls(fixture.Emulator);
        using var refused = await QueryAsync(fixture.Client, ucids[4]);
        await AssertProblemAsync(refused, HttpStatusCode.ServiceUnavailable, "upstream_unavailable");
        Assert.InRange(refused.Headers.RetryAfter!.Delta!.Value.TotalSeconds, 1, 1);
        Assert.Equal(callsWhenOpened, StoreCalls(fixture.Emulator));
        Assert.Equal(0, await UnitsUsedAsync(fixture.Gateway, users[4]));

        Assert.Equal(HealthStatus.Degraded, await StoreReadinessAsync());
        Assert.Equal(1, CircuitGauge());

        // The Store recovers; after the break one trial call goes through and closes the circuit. Once the break has
        // run out, nothing is refused: readiness and the gauge say so before any call comes (Polly still says Open).
        await store.SetFaultsAsync(new { });
        await Task.Delay(TimeSpan.FromSeconds(1.2));
        Assert.Equal(CircuitState.Open, fixture.Gateway.Services.GetRequiredService<StoreResiliencePipelines>().CircuitState);
        Assert.Equal(HealthStatus.Healthy, await StoreReadinessAsync());
        Assert.Equal(0, CircuitGauge());
        using var trial = await QueryAsync(fixture.Client, ucids[4]);
        Assert.Equal(HttpStatusCode.OK, trial.StatusCode);
        Assert.Equal(CircuitState.Closed, fixture.Gateway.Services.GetRequiredService<StoreResiliencePipelines>().CircuitState);
        using var next = await QueryAsync(fixture.Client, ucids[5]);
        Assert.Equal(HttpStatusCode.OK, next.StatusCode);
    }

    private async Task<HealthStatus> StoreReadinessAsync()
    {
        var report = await fixture.Gateway.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync(r => r.Name == "store");
        return report.Entries["store"].Status;
    }

    /// <summary>The circuit gauge of this gateway's meter, read now.</summary>
    private int CircuitGauge()
    {
        var factory = fixture.Gateway.Services.GetRequiredService<IMeterFactory>();
        var value = -1;
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Name == "entitlement_gateway.store.circuit.open" && ReferenceEquals(instrument.Meter.Scope, factory)) l.EnableMeasurementEvents(instrument);
            },
        };
        listener.SetMeasurementEventCallback<int>((_, measured, _, _) => value = measured);
        listener.Start();
        listener.RecordObservableInstruments();
        return value;
    }
}
