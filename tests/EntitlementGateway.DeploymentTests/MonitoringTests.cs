using System.Diagnostics.Metrics;
using System.Text.Json;
using System.Text.RegularExpressions;
using EntitlementGateway.DeploymentTests.Infrastructure;
using EntitlementGateway.Infrastructure.Telemetry;
using Microsoft.Extensions.DependencyInjection;

namespace EntitlementGateway.DeploymentTests;

/// <summary>
/// deploy/monitoring/ and the compose profile "observability": they parse, they are wired together, and every metric
/// the dashboard and the alert rules name is one the gateway emits (its instruments, enumerated from the code).
/// </summary>
public sealed partial class MonitoringTests
{
    private static string Monitoring(params string[] parts) => Repo.PathOf(["deploy", "monitoring", .. parts]);

    /// <summary>Every Prometheus series name the gateway's instruments produce, read from a live GatewayMetrics.</summary>
    private static HashSet<string> EmittedNames()
    {
        var instruments = new List<Instrument>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, _) =>
            {
                if (instrument.Meter.Name == GatewayMetrics.MeterName) lock (instruments) instruments.Add(instrument);
            },
        };
        listener.Start();
        using var services = new ServiceCollection().AddMetrics().AddSingleton<GatewayMetrics>().BuildServiceProvider();
        services.GetRequiredService<GatewayMetrics>();
        lock (instruments) return instruments.SelectMany(PrometheusNames.For).ToHashSet(StringComparer.Ordinal);
    }

    private static HashSet<string> NamesIn(IEnumerable<string> expressions) =>
        expressions.SelectMany(e => MetricName().Matches(e).Select(m => m.Value)).ToHashSet(StringComparer.Ordinal);

    private static IEnumerable<string> DashboardExpressions(JsonElement dashboard) =>
        dashboard.At("panels").EnumerateArray().SelectMany(p => p.At("targets").EnumerateArray()).Select(t => t.At("expr").GetString()!);

    private static async Task<JsonElement> AlertRulesAsync() => await Compose.YamlAsJsonAsync(File.ReadAllText(Monitoring("alerts.yml")), "alerts.yml");

    private static IEnumerable<JsonElement> Rules(JsonElement alerts) =>
        alerts.At("groups").EnumerateArray().SelectMany(g => g.At("rules").EnumerateArray());

    [Fact]
    public void PrometheusNames_FollowTheCollectorsRules()
    {
        var names = EmittedNames();
        Assert.Contains("entitlement_gateway_store_calls_total", names);
        Assert.Contains("entitlement_gateway_store_call_duration_seconds_bucket", names);
        Assert.Contains("entitlement_gateway_store_call_duration_seconds_count", names);
        Assert.Contains("entitlement_gateway_store_query_pages_sum", names);
        Assert.Contains("entitlement_gateway_store_circuit_open", names);
        Assert.DoesNotContain("entitlement_gateway_store_circuit_open_total", names);
    }

    [Fact]
    public void Dashboard_ParsesAndNamesOnlyMetricsTheGatewayEmits()
    {
        using var document = JsonDocument.Parse(File.ReadAllText(Monitoring("grafana", "dashboards", "entitlement-gateway.json")));
        var dashboard = document.RootElement;
        Assert.Equal("entitlement-gateway", dashboard.At("uid").GetString());
        var named = NamesIn(DashboardExpressions(dashboard));
        var unknown = named.Except(EmittedNames()).ToList();
        Assert.True(unknown.Count == 0, "the dashboard names metrics the gateway does not emit: " + string.Join(", ", unknown));

        // Traffic and errors by code, Store latency and outcomes, budget denials, stale answers, cache hit ratio, circuit, Redis.
        string[] covered =
        [
            "entitlement_gateway_requests_total", "entitlement_gateway_store_calls_total", "entitlement_gateway_store_call_duration_seconds_bucket",
            "entitlement_gateway_budget_decisions_total", "entitlement_gateway_answers_total", "entitlement_gateway_cache_lookups_total",
            "entitlement_gateway_store_circuit_open", "entitlement_gateway_redis_duration_seconds_bucket", "entitlement_gateway_redis_failures_total",
        ];
        Assert.All(covered, name => Assert.Contains(name, named));
        Assert.All(dashboard.At("panels").EnumerateArray(), p => Assert.Equal("prometheus", p.At("datasource", "uid").GetString()));
    }

    [Fact]
    public void TheGateway_ExportsMetricsAsOftenAsPrometheusScrapesThem()
    {
        // Exported less often than scraped, a counter moves in some scrapes only, and the dashboard's 1 m rates read zero.
        var scrape = Regex.Match(File.ReadAllText(Monitoring("prometheus.yml")), @"scrape_interval:\s*(\d+)s");
        Assert.True(scrape.Success);
        Assert.Equal(int.Parse(scrape.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) * 1000,
            new EntitlementGateway.Infrastructure.Telemetry.TelemetryOptions().MetricExportIntervalMs);
    }

    [Fact]
    public async Task AlertRules_ParseCoverTheNamedAlerts_AndNameOnlyMetricsTheGatewayEmits()
    {
        var rules = Rules(await AlertRulesAsync()).ToList();
        Assert.All(rules, r => Assert.False(string.IsNullOrWhiteSpace(r.At("expr").GetString())));
        var alerts = rules.Select(r => r.At("alert").GetString()!).ToHashSet();
        Assert.Superset(new HashSet<string>
        {
            "EntitlementGatewayStoreErrorRatioHigh", "EntitlementGatewayStoreCircuitOpen", "EntitlementGatewayBudgetDenialsSpiking",
            "EntitlementGatewayRedisUnavailable", "EntitlementGatewayStoreCredentialsSuspect", "EntitlementGatewayAnswersFailing",
            "EntitlementGatewayStoreTokenFailing", "EntitlementGatewayUcidRefusalsHigh", "EntitlementGatewayTelemetryMissing",
        }, alerts);
        // Calls the circuit refused are left out of the Store's error ratio (they would hide an outage), invalid answers in.
        var ratio = rules.Single(r => r.At("alert").GetString() == "EntitlementGatewayStoreErrorRatioHigh").At("expr").GetString()!;
        Assert.Contains("invalid_answer", ratio, StringComparison.Ordinal);
        Assert.Contains("store_outcome!~\"circuit_open|cancelled\"", ratio, StringComparison.Ordinal);
        var named = NamesIn(rules.Select(r => r.At("expr").GetString()!));
        var unknown = named.Except(EmittedNames()).ToList();
        Assert.True(unknown.Count == 0, "the alert rules name metrics the gateway does not emit: " + string.Join(", ", unknown));
        Assert.NotEmpty(named);
    }

    [Fact]
    public async Task ObservabilityProfile_BringsCollectorPrometheusAndGrafana_WiredToTheFilesAndToEachOther()
    {
        var config = await Compose.ConfigAsync("observability");
        Assert.Equal(new HashSet<string> { "gateway", "redis", "otel-collector", "prometheus", "grafana" }, Compose.Started(config, ["observability"]));
        Assert.Equal(new HashSet<string> { "gateway", "redis" }, Compose.Started(config, [])); // the default stays as it was

        var gateway = config.At("services", "gateway").At("environment");
        Assert.Equal("http://otel-collector:4318", gateway.At("OTEL_EXPORTER_OTLP_ENDPOINT").GetString());

        var collector = await Compose.YamlAsJsonAsync(File.ReadAllText(Monitoring("otel-collector.yaml")), "otel-collector.yaml");
        Assert.EndsWith(":4318", collector.At("receivers", "otlp", "protocols", "http", "endpoint").GetString(), StringComparison.Ordinal);
        var prometheusExporter = collector.At("exporters", "prometheus", "endpoint").GetString()!;
        Assert.Equal(["otlp"], collector.At("service", "pipelines", "metrics", "receivers").EnumerateArray().Select(e => e.GetString()));
        Assert.Contains("prometheus", collector.At("service", "pipelines", "metrics", "exporters").EnumerateArray().Select(e => e.GetString()));

        var prometheus = await Compose.YamlAsJsonAsync(File.ReadAllText(Monitoring("prometheus.yml")), "prometheus.yml");
        var target = prometheus.At("scrape_configs")[0].At("static_configs")[0].At("targets")[0].GetString()!;
        Assert.Equal("otel-collector:" + prometheusExporter.Split(':')[^1], target);
        Assert.Equal("/etc/prometheus/alerts.yml", prometheus.At("rule_files")[0].GetString());

        string Mounted(string service, string target) =>
            config.At("services", service, "volumes").EnumerateArray().Select(v => v.ToString()).Single(v => v.Contains(":" + target, StringComparison.Ordinal)).Split(':')[0];
        Assert.Equal(Monitoring("otel-collector.yaml"), Mounted("otel-collector", "/etc/otelcol/config.yaml"));
        Assert.Equal(Monitoring("alerts.yml"), Mounted("prometheus", "/etc/prometheus/alerts.yml"));
        Assert.Equal(Monitoring("prometheus.yml"), Mounted("prometheus", "/etc/prometheus/prometheus.yml"));
        Assert.Equal(Monitoring("grafana", "dashboards"), Mounted("grafana", "/var/lib/grafana/dashboards"));

        var datasource = await Compose.YamlAsJsonAsync(File.ReadAllText(Monitoring("grafana", "provisioning", "datasources", "prometheus.yml")), "the Grafana datasource");
        Assert.Equal("prometheus", datasource.At("datasources")[0].At("uid").GetString());
        Assert.Equal("http://prometheus:9090", datasource.At("datasources")[0].At("url").GetString());
        var provider = await Compose.YamlAsJsonAsync(File.ReadAllText(Monitoring("grafana", "provisioning", "dashboards", "dashboards.yml")), "the Grafana dashboard provider");
        Assert.Equal("/var/lib/grafana/dashboards", provider.At("providers")[0].At("options", "path").GetString());
    }

    [GeneratedRegex(@"\bentitlement_gateway_[a-z0-9_]+")]
    private static partial Regex MetricName();
}
