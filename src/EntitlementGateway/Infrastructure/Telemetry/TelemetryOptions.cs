using Microsoft.Extensions.Options;

namespace EntitlementGateway.Infrastructure.Telemetry;

/// <summary>
/// OpenTelemetry export, configured by the standard variables (not a section): off unless
/// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set.
/// </summary>
public sealed class TelemetryOptions
{
    /// <summary>The collector's base address, e.g. http://otel-collector:4318 (http/protobuf) or :4317 (grpc).</summary>
    [ConfigurationKeyName("OTEL_EXPORTER_OTLP_ENDPOINT")]
    public string? Endpoint { get; set; }

    /// <summary><c>http/protobuf</c> (default) or <c>grpc</c>.</summary>
    [ConfigurationKeyName("OTEL_EXPORTER_OTLP_PROTOCOL")]
    public string Protocol { get; set; } = "http/protobuf";

    /// <summary>Extra headers for the collector, <c>key=value,key2=value2</c> (e.g. an API key); never logged or shown.</summary>
    [ConfigurationKeyName("OTEL_EXPORTER_OTLP_HEADERS")]
    public string? Headers { get; set; }

    [ConfigurationKeyName("OTEL_SERVICE_NAME")]
    public string ServiceName { get; set; } = "entitlement-gateway";

    /// <summary>Milliseconds between metric exports. Prometheus scrapes the collector every 15 s: exported once a minute
    /// (the SDK's default), a value moved in one scrape out of four, and the dashboard's 1 m rates read zero between.</summary>
    [ConfigurationKeyName("OTEL_METRIC_EXPORT_INTERVAL")]
    public int MetricExportIntervalMs { get; set; } = 15_000;

    /// <summary>Milliseconds between span batch exports.</summary>
    [ConfigurationKeyName("OTEL_BSP_SCHEDULE_DELAY")]
    public int SpanExportDelayMs { get; set; } = 5_000;

    public bool Enabled => !string.IsNullOrWhiteSpace(Endpoint);

    public bool UsesGrpc => string.Equals(Protocol, "grpc", StringComparison.OrdinalIgnoreCase);
}

public sealed class TelemetryOptionsValidator : IValidateOptions<TelemetryOptions>
{
    public ValidateOptionsResult Validate(string? name, TelemetryOptions o)
    {
        var errors = new OptionsErrors("OTEL");
        if (!o.Enabled) return errors.Result;
        return errors
            .Require(Uri.TryCreate(o.Endpoint, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https",
                $"OTEL_EXPORTER_OTLP_ENDPOINT must be an absolute http(s) address; it is '{o.Endpoint}'.")
            .Require(o.UsesGrpc || string.Equals(o.Protocol, "http/protobuf", StringComparison.OrdinalIgnoreCase),
                $"OTEL_EXPORTER_OTLP_PROTOCOL must be http/protobuf or grpc; it is '{o.Protocol}'.")
            .Require(HeadersReadable(o.Headers),
                "OTEL_EXPORTER_OTLP_HEADERS must be comma-separated key=value pairs (its value is not shown: it may hold a secret).")
            .Require(!string.IsNullOrWhiteSpace(o.ServiceName), "OTEL_SERVICE_NAME must not be empty.")
            .Require(o.MetricExportIntervalMs is >= 100 and <= 3_600_000, "OTEL_METRIC_EXPORT_INTERVAL must be between 100 and 3600000 ms.")
            .Require(o.SpanExportDelayMs is >= 10 and <= 3_600_000, "OTEL_BSP_SCHEDULE_DELAY must be between 10 and 3600000 ms.")
            .Result;
    }

    /// <summary>Empty, or pairs the exporter can read: each with a name before its '='.</summary>
    internal static bool HeadersReadable(string? headers) =>
        string.IsNullOrEmpty(headers) || headers.Split(',').All(pair => pair.IndexOf('=', StringComparison.Ordinal) is var at && at > 0 && pair[..at].Trim().Length > 0);
}
