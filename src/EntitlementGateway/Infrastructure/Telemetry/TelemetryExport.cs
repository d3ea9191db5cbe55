using Microsoft.Extensions.Options;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using EntitlementGateway.Infrastructure.Logging;

namespace EntitlementGateway.Infrastructure.Telemetry;

/// <summary>
/// Owns the OpenTelemetry SDK's meter and tracer providers (the SDK's hosting package is not available here): built at
/// start when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set, flushed and disposed at stop. Exports the gateway's own meter
/// and spans, and ASP.NET Core's request spans (which carry the incoming W3C trace context).
/// </summary>
public sealed partial class TelemetryExport(IOptions<TelemetryOptions> options, IHostEnvironment environment, ILogger<TelemetryExport> logger)
    : IHostedService, IDisposable
{
    /// <summary>ASP.NET Core's own source for the request span.</summary>
    public const string AspNetCoreSource = "Microsoft.AspNetCore";

    private MeterProvider? _meters;
    private TracerProvider? _tracer;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var o = options.Value;
        if (!o.Enabled)
        {
            LogOff(logger);
            return Task.CompletedTask;
        }
        Start(o);
        return Task.CompletedTask;
    }

    // Apart from StartAsync, so the SDK's assemblies are loaded only when telemetry is on.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private void Start(TelemetryOptions o)
    {
        var resource = ResourceBuilder.CreateDefault().AddService(o.ServiceName,
            serviceVersion: typeof(TelemetryExport).Assembly.GetName().Version?.ToString(3),
            serviceInstanceId: Environment.MachineName)
            .AddAttributes([new("deployment.environment.name", environment.EnvironmentName)]);
        _meters = Sdk.CreateMeterProviderBuilder()
            .SetResourceBuilder(resource)
            .AddMeter(GatewayMetrics.MeterName)
            .AddOtlpExporter((exporter, reader) =>
            {
                Configure(exporter, o, "v1/metrics");
                reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = o.MetricExportIntervalMs;
            })
            .Build();
        _tracer = Sdk.CreateTracerProviderBuilder()
            .SetResourceBuilder(resource)
            .AddSource(GatewayActivities.SourceName, AspNetCoreSource)
            .AddOtlpExporter(exporter =>
            {
                Configure(exporter, o, "v1/traces");
                exporter.BatchExportProcessorOptions.ScheduledDelayMilliseconds = o.SpanExportDelayMs;
            })
            .Build();
        LogOn(logger, new Uri(o.Endpoint!).GetLeftPart(UriPartial.Authority), o.UsesGrpc ? "grpc" : "http/protobuf", o.ServiceName);
    }

    /// <summary>With http/protobuf the SDK takes a programmatic endpoint as the full URL: the signal's path is added here.</summary>
    private static void Configure(OtlpExporterOptions exporter, TelemetryOptions o, string signalPath)
    {
        var endpoint = o.Endpoint!.TrimEnd('/');
        exporter.Protocol = o.UsesGrpc ? OtlpExportProtocol.Grpc : OtlpExportProtocol.HttpProtobuf;
        exporter.Endpoint = new Uri(o.UsesGrpc ? endpoint : endpoint + "/" + signalPath);
        if (!string.IsNullOrWhiteSpace(o.Headers)) exporter.Headers = o.Headers;
    }

    /// <summary>Longest the last export may hold the exit: a collector that accepts and never answers must not keep
    /// the process past its orchestrator's grace period.</summary>
    internal static readonly TimeSpan ShutdownBudget = TimeSpan.FromSeconds(2);

    /// <summary>Exports what is left, both providers at once, and stops waiting after <see cref="ShutdownBudget"/>; an
    /// export still running then is abandoned on its background thread (the SDK does not wait for it again).</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_meters is null && _tracer is null) return;
        var milliseconds = (int)ShutdownBudget.TotalMilliseconds;
        var meters = _meters;
        var tracer = _tracer;
        var shutdown = Task.WhenAll(
            Task.Run(() => meters?.Shutdown(milliseconds), CancellationToken.None),
            Task.Run(() => tracer?.Shutdown(milliseconds), CancellationToken.None));
        try
        {
            await shutdown.WaitAsync(ShutdownBudget + TimeSpan.FromMilliseconds(500), cancellationToken);
        }
        catch (Exception ex) when (ex is TimeoutException or OperationCanceledException)
        {
            // Telemetry never holds the exit.
        }
    }

    public void Dispose()
    {
        // After StopAsync the providers are shut down and disposing them is quick; without it (start failed) it is
        // bounded the same way.
        var meters = _meters;
        var tracer = _tracer;
        if (meters is null && tracer is null) return;
        Task.Run(() =>
        {
            meters?.Dispose();
            tracer?.Dispose();
        }).Wait(ShutdownBudget);
    }

    [LoggerMessage(EventId = EventIds.TelemetryExportOn, EventName = nameof(EventIds.TelemetryExportOn), Level = LogLevel.Information, Message = "Metrics and traces exported over OTLP to {Collector} ({Protocol}) as service {ServiceName}")]
    private static partial void LogOn(ILogger logger, string collector, string protocol, string serviceName);

    [LoggerMessage(EventId = EventIds.TelemetryExportOff, EventName = nameof(EventIds.TelemetryExportOff), Level = LogLevel.Debug, Message = "OTEL_EXPORTER_OTLP_ENDPOINT is not set: metrics and traces are not exported")]
    private static partial void LogOff(ILogger logger);
}
