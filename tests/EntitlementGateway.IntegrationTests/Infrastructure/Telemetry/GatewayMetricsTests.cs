using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Net;
using EntitlementGateway.Infrastructure.Telemetry;
using EntitlementGateway.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace EntitlementGateway.IntegrationTests.Infrastructure.Telemetry;

/// <summary>What the gateway's instruments record for real requests, read with a MeterListener bound to one gateway.</summary>
public sealed class GatewayMetricsTests : OwnEmulatorGatewayTests
{
    private sealed record Measurement(string Instrument, long Value, IReadOnlyDictionary<string, object?> Tags);

    /// <summary>Listens to this gateway's meter only (others run in parallel in this process).</summary>
    private static MeterListener Listen(GatewayApplication gateway, ConcurrentQueue<Measurement> sink)
    {
        var factory = gateway.Services.GetRequiredService<IMeterFactory>();
        var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == GatewayMetrics.MeterName && ReferenceEquals(instrument.Meter.Scope, factory)) l.EnableMeasurementEvents(instrument);
            },
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
            sink.Enqueue(new Measurement(instrument.Name, value, tags.ToArray().ToDictionary(t => t.Key, t => t.Value))));
        listener.SetMeasurementEventCallback<int>((instrument, value, tags, _) =>
            sink.Enqueue(new Measurement(instrument.Name, value, tags.ToArray().ToDictionary(t => t.Key, t => t.Value))));
        listener.Start();
        return listener;
    }

    [Fact]
    public async Task Query_WhenBudgetExhausted_CountsTheRequestByRouteStatusAndProblemCode_AndTheDenial()
    {
        await using var gateway = Gateway(new() { ["Budget:Limit"] = "1", ["Cache:Enabled"] = "false" });
        using var client = gateway.CreateClient();
        var measurements = new ConcurrentQueue<Measurement>();
        using var listener = Listen(gateway, measurements);
        var ucid = await World.MintUcidAsync(GatewayQueries.NewUser());

        using (var first = await GatewayQueries.QueryAsync(client, ucid)) Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        using (var second = await GatewayQueries.QueryAsync(client, ucid, fresh: true))
            await GatewayQueries.AssertProblemAsync(second, HttpStatusCode.TooManyRequests, "budget_exhausted");

        var requests = measurements.Where(m => m.Instrument == "entitlement_gateway.requests").ToList();
        Assert.Contains(requests, m => Equals(m.Tags["http.route"], "/v1/entitlements/query") && Equals(m.Tags["http.response.status_code"], 200) && Equals(m.Tags["error.code"], "none"));
        Assert.Contains(requests, m => Equals(m.Tags["http.route"], "/v1/entitlements/query") && Equals(m.Tags["http.response.status_code"], 429) && Equals(m.Tags["error.code"], "budget_exhausted"));
        var decisions = measurements.Where(m => m.Instrument == "entitlement_gateway.budget.decisions").Select(m => m.Tags["budget.decision"]).ToList();
        Assert.Equal(["allowed", "denied"], decisions);
        Assert.Single(measurements, m => m.Instrument == "entitlement_gateway.budget.units.spent");
        Assert.Single(measurements, m => m.Instrument == "entitlement_gateway.store.calls" && Equals(m.Tags["store.operation"], "b2bLicensePreview") && Equals(m.Tags["store.outcome"], "2xx"));
        Assert.Contains(measurements, m => m.Instrument == "entitlement_gateway.answers" && Equals(m.Tags["answer.served_from"], "upstream"));
    }

    [Fact]
    public async Task Query_WhenTheStoreFailsAfterAnAnswer_CountsAStaleAnswerWithItsReasonAndThe5xxCall()
    {
        await using var gateway = Gateway(new() { ["Resilience:MaxRetries"] = "0" });
        using var client = gateway.CreateClient();
        var measurements = new ConcurrentQueue<Measurement>();
        using var listener = Listen(gateway, measurements);
        var ucid = await World.MintUcidAsync(GatewayQueries.NewUser());

        using (var first = await GatewayQueries.QueryAsync(client, ucid)) Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        using (var cached = await GatewayQueries.QueryAsync(client, ucid)) Assert.Equal("cache", await GatewayQueries.ServedFromAsync(cached));
        await World.SetFaultsAsync(new { failNext = 1, failureStatus = 500 });
        using (var stale = await GatewayQueries.QueryAsync(client, ucid, fresh: true)) Assert.Equal("stale", await GatewayQueries.ServedFromAsync(stale));

        Assert.Contains(measurements, m => m.Instrument == "entitlement_gateway.store.calls" && Equals(m.Tags["store.outcome"], "5xx"));
        Assert.Contains(measurements, m => m.Instrument == "entitlement_gateway.answers" && Equals(m.Tags["answer.served_from"], "cache"));
        Assert.Contains(measurements, m => m.Instrument == "entitlement_gateway.answers" && Equals(m.Tags["answer.served_from"], "stale") && Equals(m.Tags["answer.stale_reason"], "upstream_error"));
        Assert.Contains(measurements, m => m.Instrument == "entitlement_gateway.cache.lookups" && Equals(m.Tags["cache.level"], "l1") && Equals(m.Tags["cache.result"], "hit"));
        Assert.Contains(measurements, m => m.Instrument == "entitlement_gateway.cache.lookups" && Equals(m.Tags["cache.level"], "l1") && Equals(m.Tags["cache.result"], "miss"));
    }

    [Theory]
    [InlineData("GarbageBody")]
    [InlineData("NullBody")]
    public async Task Query_WhenTheStoreAnswers200WithNoJsonObject_CountsAnInvalidAnswer_NotA2xx(string mode)
    {
        await using var gateway = Gateway(new() { ["Resilience:MaxRetries"] = "0", ["Cache:Enabled"] = "false" });
        using var client = gateway.CreateClient();
        var measurements = new ConcurrentQueue<Measurement>();
        using var listener = Listen(gateway, measurements);
        var ucid = await World.MintUcidAsync(GatewayQueries.NewUser());
        await World.SetFaultsAsync(new { mode, failNext = 1 });

        using (var broken = await GatewayQueries.QueryAsync(client, ucid))
            await GatewayQueries.AssertProblemAsync(broken, HttpStatusCode.BadGateway, "upstream_error");

        var calls = measurements.Where(m => m.Instrument == "entitlement_gateway.store.calls").Select(m => m.Tags["store.outcome"]).ToList();
        Assert.Equal(["invalid_answer"], calls);
    }

    [Fact]
    public async Task CacheLookups_CountOnlyQueriesThatMayBeServedFromTheCache_AndAHitIsAnAnswerServed()
    {
        await using var gateway = Gateway(new() { ["Cache:Ttl"] = "00:00:01", ["Cache:MaxStale"] = "00:10:00" });
        using var client = gateway.CreateClient();
        var measurements = new ConcurrentQueue<Measurement>();
        using var listener = Listen(gateway, measurements);
        var ucid = await World.MintUcidAsync(GatewayQueries.NewUser());

        using (var first = await GatewayQueries.QueryAsync(client, ucid)) Assert.Equal("upstream", await GatewayQueries.ServedFromAsync(first));
        using (var cached = await GatewayQueries.QueryAsync(client, ucid)) Assert.Equal("cache", await GatewayQueries.ServedFromAsync(cached));
        for (var i = 0; i < 3; i++)
        {
            using var fresh = await GatewayQueries.QueryAsync(client, ucid, fresh: true);
            Assert.Equal("upstream", await GatewayQueries.ServedFromAsync(fresh));
        }
        await Task.Delay(TimeSpan.FromSeconds(1.2));
        // Past its Ttl the entry is only usable stale: the query goes to the Store, and the lookup was a miss.
        using (var expired = await GatewayQueries.QueryAsync(client, ucid)) Assert.Equal("upstream", await GatewayQueries.ServedFromAsync(expired));

        var lookups = measurements.Where(m => m.Instrument == "entitlement_gateway.cache.lookups").Select(m => $"{m.Tags["cache.level"]}:{m.Tags["cache.result"]}").ToList();
        Assert.Equal(["l1:miss", "l1:hit", "l1:miss"], lookups);
    }

    [Fact]
    public async Task ABodyThatCannotBeRead_IsCountedUnderItsRoute_NotUnderOther()
    {
        await using var gateway = Gateway(new());
        using var client = gateway.CreateClient();
        var measurements = new ConcurrentQueue<Measurement>();
        using var listener = Listen(gateway, measurements);

        using (var content = new StringContent("{not json", System.Text.Encoding.UTF8, "application/json"))
        using (var broken = await client.PostAsync("/v1/entitlements/query", content))
            await GatewayQueries.AssertProblemAsync(broken, HttpStatusCode.BadRequest, "invalid_request");
        using (var nowhere = await client.GetAsync("/v1/no-such-route")) Assert.Equal(HttpStatusCode.NotFound, nowhere.StatusCode);

        var requests = measurements.Where(m => m.Instrument == "entitlement_gateway.requests").Select(m => $"{m.Tags["http.route"]} {m.Tags["http.response.status_code"]} {m.Tags["error.code"]}").ToList();
        Assert.Equal(["/v1/entitlements/query 400 invalid_request", "other 404 not_found"], requests);
    }
}
