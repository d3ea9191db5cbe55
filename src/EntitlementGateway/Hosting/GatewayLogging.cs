using Serilog;
using Serilog.Formatting.Json;

namespace EntitlementGateway.Hosting;

/// <summary>Serilog, configured in one place: JSON to stdout (written off the request threads), levels from the <c>Serilog</c> section.</summary>
public static class GatewayLogging
{
    /// <summary>Catches start-up failures before configuration is read.</summary>
    public static Serilog.ILogger CreateBootstrapLogger() =>
        new LoggerConfiguration().WriteTo.Console(new JsonFormatter(renderMessage: true)).CreateLogger();

    public static WebApplicationBuilder AddGatewayLogging(this WebApplicationBuilder builder)
    {
        var logger = new LoggerConfiguration()
            .ReadFrom.Configuration(builder.Configuration)
            .Enrich.FromLogContext()
            .Enrich.WithProperty("Service", "EntitlementGateway")
            // Requests only queue their events; one loop writes them in batches (BatchedConsoleSink).
            .WriteTo.Sink(new BatchedConsoleSink(new JsonFormatter(renderMessage: true)))
            .CreateLogger();
        builder.Logging.ClearProviders();
        builder.Logging.AddSerilog(logger, dispose: true);
        return builder;
    }
}
