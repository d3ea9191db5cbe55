using System.Diagnostics;
using System.Reflection;
using Serilog;
using Serilog.Core;
using Serilog.Events;
using Serilog.Extensions.Logging;
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

    /// <summary>The framework's per-request events (the raw URL) and scope (RequestId, RequestPath): never logged.</summary>
    internal const string HostingDiagnosticsCategory = "Microsoft.AspNetCore.Hosting.Diagnostics";

    /// <summary>Routing's matcher: its Debug events name each request's raw path ("No candidates found for the request
    /// path '/v1/…'"), a token pasted into the URL whole; its other events are no more than Debug either.</summary>
    internal const string RouteMatchingCategory = "Microsoft.AspNetCore.Routing.Matching";

    /// <summary>Catches start-up failures before configuration is read.</summary>
    public static Serilog.ILogger CreateBootstrapLogger() =>
        new LoggerConfiguration().WriteTo.Console(new JsonFormatter(renderMessage: true)).CreateLogger();

    public static WebApplicationBuilder AddGatewayLogging(this WebApplicationBuilder builder)
    {
        // The configuration may name what these two assemblies hold (levels, the console sink, enrichers): named
        // here, Serilog does not open every DLL beside the app to look for more (a metadata reader and about 3 MB).
        Assembly[] serilogAssemblies = [typeof(Log).Assembly, typeof(ConsoleLoggerConfigurationExtensions).Assembly];
        SerilogSettings.Check(builder.Configuration, serilogAssemblies);
        var configuration = new LoggerConfiguration()
            .ReadFrom.Configuration(builder.Configuration, new Serilog.Settings.Configuration.ConfigurationReaderOptions(serilogAssemblies))
            .Enrich.FromLogContext()
            .Enrich.With<TraceContextEnricher>()
            .Enrich.With<ServiceEnricher>()
            .Filter.ByExcluding(IsReportedByProgram);
        // Each event is formatted where it is logged; one loop writes the text in batches (BatchedConsoleSink).
        configuration = builder.Environment.IsDevelopment()
            ? configuration.WriteTo.Sink(new BatchedConsoleSink(new MessageTemplateTextFormatter(TextTemplate, System.Globalization.CultureInfo.InvariantCulture)))
            : configuration.WriteTo.Sink(new BatchedConsoleSink(new JsonFormatter(renderMessage: true)));
        builder.Logging.ClearProviders();
        // TraceId and SpanId come from TraceContextEnricher; the framework's own activity scope would add them again
        // (and ParentId) to every event, as a scope built and walked per event on the request path.
        builder.Logging.Configure(options => options.ActivityTrackingOptions = ActivityTrackingOptions.None);
        // Serilog writes every scope's properties into each event of the request. The framework's per-request scope
        // carries RequestPath, the raw path: a UCID pasted into the URL, whole, beside the request line's hashed path.
        // That scope is left out; the request's TraceId (and Kestrel's ConnectionId) still tie its lines together.
        builder.Logging.Services.AddSingleton<ILoggerProvider>(_ => new WithoutRequestScope(new SerilogLoggerProvider(configuration.CreateLogger(), dispose: true)));
        // Serilog's levels decide, as with AddSerilog, but for the framework's request events: they carry the raw URL,
        // query string included, and RequestLoggingMiddleware's line replaces them. Critical stays on: while it is, the
        // framework starts each request's activity, whose TraceId every line of the request carries.
        builder.Logging.AddFilter<WithoutRequestScope>(null, LogLevel.Trace);
        builder.Logging.AddFilter<WithoutRequestScope>(HostingDiagnosticsCategory, LogLevel.Critical);
        builder.Logging.AddFilter<WithoutRequestScope>(RouteMatchingCategory, LogLevel.Information);
        return builder;
    }

    /// <summary>The host's own category: it logs "Hosting failed to start" at Error for any start that throws.</summary>
    internal const string HostCategory = "Microsoft.Extensions.Hosting.Internal.Host";

    /// <summary>
    /// The host's error for a start that Program reports itself, in one line without the trace: a refused setting, or a
    /// stop asked for while starting (any other failure, cancellations Program does not expect included, keeps this
    /// error and also ends in Program's Fatal line with the trace).
    /// </summary>
    internal static bool IsReportedByProgram(LogEvent logEvent) =>
        logEvent.Exception is { } exception
        && logEvent.Properties.TryGetValue(Serilog.Core.Constants.SourceContextPropertyName, out var source)
        && source is ScalarValue { Value: HostCategory }
        && (exception is OperationCanceledException || StartupRefusal.Describe(exception) is not null);

    /// <summary>Serilog's provider, given every scope but the framework's per-request one (RequestId, RequestPath).</summary>
    internal sealed class WithoutRequestScope(SerilogLoggerProvider serilog) : ILoggerProvider, ISupportExternalScope, IAsyncDisposable
    {
        public Microsoft.Extensions.Logging.ILogger CreateLogger(string categoryName) => serilog.CreateLogger(categoryName);

        public void SetScopeProvider(IExternalScopeProvider scopeProvider) => serilog.SetScopeProvider(new Filtered(scopeProvider));

        public void Dispose() => serilog.Dispose();

        public ValueTask DisposeAsync() => serilog.DisposeAsync();

        /// <summary>The framework's scope is the one that lists RequestPath; matched by it, not by its internal type.</summary>
        internal static bool IsRequestScope(object? scope) =>
            scope is IReadOnlyList<KeyValuePair<string, object?>> { Count: >= 2 } pairs && pairs[1].Key == "RequestPath";

        private sealed class Filtered(IExternalScopeProvider inner) : IExternalScopeProvider
        {
            public void ForEachScope<TState>(Action<object?, TState> callback, TState state) =>
                inner.ForEachScope(static (scope, pass) =>
                {
                    if (!IsRequestScope(scope)) pass.callback(scope, pass.state);
                }, (callback, state));

            public IDisposable Push(object? state) => inner.Push(state);
        }
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
