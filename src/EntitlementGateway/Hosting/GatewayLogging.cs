using System.Diagnostics;
using Serilog;
using Serilog.Core;
using Serilog.Events;
using Serilog.Formatting.Display;
using Serilog.Formatting.Json;

namespace EntitlementGateway.Hosting;

/// <summary>
/// Serilog, configured in one place, levels from the <c>Serilog</c> section. JSON to stdout, one object per event with
/// the trace and span ids of the request it belongs to; in Development one readable text line per event instead (the
/// events stay structured: only the console rendering differs). Written off the request threads, in batches.
/// </summary>
public static class GatewayLogging
{
    /// <summary>One line: time, level, message (values rendered, strings unquoted), then the exception if any.</summary>
    public const string TextTemplate = "{Timestamp:HH:mm:ss} {Level:u3} {Message:lj}{NewLine}{Exception}";

    /// <summary>Catches start-up failures before configuration is read.</summary>
    public static Serilog.ILogger CreateBootstrapLogger() =>
        new LoggerConfiguration().WriteTo.Console(new JsonFormatter(renderMessage: true)).CreateLogger();

    public static WebApplicationBuilder AddGatewayLogging(this WebApplicationBuilder builder)
    {
        var configuration = new LoggerConfiguration()
            // The configuration may name what these two assemblies hold (levels, the console sink, enrichers): named
            // here, Serilog does not open every DLL beside the app to look for more (a metadata reader and about 3 MB).
            .ReadFrom.Configuration(builder.Configuration, new Serilog.Settings.Configuration.ConfigurationReaderOptions(
                typeof(Log).Assembly, typeof(ConsoleLoggerConfigurationExtensions).Assembly))
            .Enrich.FromLogContext()
            .Enrich.With<TraceContextEnricher>()
            .Enrich.With<ServiceEnricher>();
        // Each event is formatted where it is logged; one loop writes the text in batches (BatchedConsoleSink).
        configuration = builder.Environment.IsDevelopment()
            ? configuration.WriteTo.Sink(new BatchedConsoleSink(new MessageTemplateTextFormatter(TextTemplate, System.Globalization.CultureInfo.InvariantCulture)))
            : configuration.WriteTo.Sink(new BatchedConsoleSink(new JsonFormatter(renderMessage: true)));
        builder.Logging.ClearProviders();
        // TraceId and SpanId come from TraceContextEnricher; the framework's own activity scope would add them again
        // (and ParentId) to every event, as a scope built and walked per event on the request path.
        builder.Logging.Configure(options => options.ActivityTrackingOptions = ActivityTrackingOptions.None);
        builder.Logging.AddSerilog(configuration.CreateLogger(), dispose: true);
        return builder;
    }

    /// <summary>Service = EntitlementGateway on every event: one property made once (the stock property enricher makes a
    /// new property and value for every event).</summary>
    private sealed class ServiceEnricher : ILogEventEnricher
    {
        private static readonly LogEventProperty Service = new("Service", new ScalarValue("EntitlementGateway"));

        public void Enrich(LogEvent logEvent, ILogEventPropertyFactory propertyFactory) => logEvent.AddPropertyIfAbsent(Service);
    }

    /// <summary>TraceId and SpanId of the current activity, so a log line leads to its trace.</summary>
    private sealed class TraceContextEnricher : ILogEventEnricher
    {
        public void Enrich(LogEvent logEvent, ILogEventPropertyFactory propertyFactory)
        {
            if (Activity.Current is not { } activity) return;
            logEvent.AddPropertyIfAbsent(new LogEventProperty("TraceId", new ScalarValue(activity.TraceId.ToHexString())));
            logEvent.AddPropertyIfAbsent(new LogEventProperty("SpanId", new ScalarValue(activity.SpanId.ToHexString())));
        }
    }
}
