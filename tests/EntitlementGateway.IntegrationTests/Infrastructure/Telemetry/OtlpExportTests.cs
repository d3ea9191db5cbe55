using System.Net;
using EntitlementGateway.IntegrationTests.Infrastructure;

namespace EntitlementGateway.IntegrationTests.Infrastructure.Telemetry;

/// <summary>A query shows up at an OTLP collector as metrics and a trace, exported by the real OpenTelemetry SDK.</summary>
public sealed class OtlpExportTests : OwnEmulatorGatewayTests
{
    /// <summary>What one successful upstream query must produce, as the OTLP payload names them.</summary>
    private static readonly string[] QueryMetrics =
    [
        "entitlement_gateway.requests", "entitlement_gateway.request.duration", "entitlement_gateway.store.calls",
        "entitlement_gateway.store.call.duration", "entitlement_gateway.store.query.pages", "entitlement_gateway.budget.decisions",
        "entitlement_gateway.budget.units.spent", "entitlement_gateway.answers", "entitlement_gateway.cache.lookups",
        "entitlement_gateway.store.token.acquisitions", "entitlement_gateway.store.circuit.open", "entitlement_gateway.store.credentials.suspect",
    ];

    [Fact]
    public async Task Query_WithOtlpEndpointSet_ArrivesAsMetricsAndATraceAtTheCollector()
    {
        await using var receiver = await OtlpReceiver.StartAsync();
        await using var gateway = Gateway(new()
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = receiver.Endpoint.ToString(),
            ["OTEL_SERVICE_NAME"] = "gateway-under-test",
            ["OTEL_METRIC_EXPORT_INTERVAL"] = "200",
            ["OTEL_BSP_SCHEDULE_DELAY"] = "100",
        });
        using var client = gateway.CreateClient();
        var user = GatewayQueries.NewUser();
        await World.SeedAsync(user, StoreWorld.Item("9N30KZZF4BR9"));
        var ucid = await World.MintUcidAsync(user);

        using var response = await GatewayQueries.QueryAsync(client, ucid);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        await receiver.WaitUntilAsync(r => QueryMetrics.All(name => r.Of("metrics").Any(e => e.Text.Contains(name, StringComparison.Ordinal))),
            TimeSpan.FromSeconds(60), "every query metric");
        // W3C trace context went out with the Store call; wait for that trace itself (listeners are process-wide, so
        // other tests' gateways running at the same time may export spans of the same names first).
        var traceparent = (await World.RequestsAsync()).Last(r => r!["path"]!.GetValue<string>().EndsWith("b2bLicensePreview", StringComparison.Ordinal))!["traceparent"]?.GetValue<string>();
        Assert.NotNull(traceparent);
        var traceId = Convert.FromHexString(traceparent.Split('-')[1]);
        await receiver.WaitUntilAsync(r => r.Of("traces").Any(e => e.Body.AsSpan().IndexOf(traceId) >= 0)
                                           && r.Of("traces").Any(e => e.Text.Contains("store b2bLicensePreview", StringComparison.Ordinal))
                                           && r.Of("traces").Any(e => e.Text.Contains("POST /v1/entitlements/query", StringComparison.Ordinal)),
            TimeSpan.FromSeconds(60), "this query's trace: the request span and the Store call span");
        // The parent the Store is given is a span that is exported (the Store call's), not one of HttpClient's own.
        var parentSpanId = Convert.FromHexString(traceparent.Split('-')[2]);
        await receiver.WaitUntilAsync(r => r.Of("traces").Any(e => e.Body.AsSpan().IndexOf(parentSpanId) >= 0 && e.Text.Contains("store b2bLicensePreview", StringComparison.Ordinal)),
            TimeSpan.FromSeconds(30), "the exported span the traceparent sent to the Store names");

        Assert.All(receiver.Exports, e => Assert.Equal("application/x-protobuf", e.ContentType));
        Assert.Contains(receiver.Of("metrics"), e => e.Text.Contains("gateway-under-test", StringComparison.Ordinal)); // OTEL_SERVICE_NAME
        var traces = string.Concat(receiver.Of("traces").Select(e => e.Text));
        foreach (var attribute in new[] { "store.page", "store.attempt", "budget.decision", "store.ms_cv", "store.ms_correlation_id", "http.route" })
            Assert.Contains(attribute, traces, StringComparison.Ordinal);

    }

    [Fact]
    public async Task Start_WithAnOtlpEndpointThatIsNotAnAddress_FailsNamingTheVariable()
    {
        await using var gateway = GatewayProcess.Start(new Dictionary<string, string?>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Development",
            ["Store__Mode"] = "Emulator",
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = "collector-without-scheme",
        });
        Assert.NotEqual(0, await gateway.WaitForExitAsync(TimeSpan.FromMinutes(1)));
        Assert.Contains("OTEL_EXPORTER_OTLP_ENDPOINT must be an absolute http(s) address", gateway.Output, StringComparison.Ordinal);
    }
}
