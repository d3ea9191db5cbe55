using System.Collections.Concurrent;
using EntitlementGateway.Emulator;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Logging;

namespace EntitlementGateway.IntegrationTests.Infrastructure;

/// <summary>
/// The gateway in a test host. Clients reach it in memory; it reaches the Store emulator over real HTTPS and gets its
/// service token through the real MSAL code path from the emulator's token endpoint.
/// </summary>
public sealed class GatewayApplication(IReadOnlyDictionary<string, string?> settings, string environment = "Testing")
    : WebApplicationFactory<Program>
{
    public ConcurrentQueue<CapturedLog> Logs { get; } = new();

    /// <summary>Live mode against <paramref name="emulator"/>, as a real deployment would be configured.</summary>
    public static GatewayApplication Live(EmulatorServer emulator, IReadOnlyDictionary<string, string?>? overrides = null)
    {
        var settings = LiveSettings(emulator);
        foreach (var (key, value) in overrides ?? new Dictionary<string, string?>()) settings[key] = value;
        return new GatewayApplication(settings);
    }

    public static Dictionary<string, string?> LiveSettings(EmulatorServer emulator) => new()
    {
        ["Store:Mode"] = "Live",
        ["Store:ClientId"] = emulator.Options.ClientId,
        ["Store:ClientSecret"] = emulator.Options.ClientSecret,
        ["Store:Authority"] = emulator.Authority,
        ["Store:CollectionsBaseUrl"] = emulator.CollectionsBaseUrl.ToString(),
        ["Store:TrustedCertificateThumbprint"] = emulator.Certificate.Thumbprint,
        // Most tests set the token endpoint's faults after the gateway starts; StoreTokenAtStartTests turn it on.
        ["Store:TokenAtStart"] = "false",
    };

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment(environment);
        foreach (var (key, value) in settings) builder.UseSetting(key, value);
        builder.ConfigureLogging(logging => logging.AddProvider(new CapturingLoggerProvider(Logs)));
    }
}

public sealed record CapturedLog(string Category, LogLevel Level, string Message, string State);

/// <summary>Keeps every log line the gateway writes, rendered and with its structured values, so tests can read them.</summary>
public sealed class CapturingLoggerProvider(ConcurrentQueue<CapturedLog> sink) : ILoggerProvider
{
    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, sink);

    public void Dispose() { }

    private sealed class Logger(string category, ConcurrentQueue<CapturedLog> sink) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var values = state is IEnumerable<KeyValuePair<string, object?>> pairs
                ? string.Join(";", pairs.Select(p => $"{p.Key}={p.Value}"))
                : state?.ToString() ?? "";
            sink.Enqueue(new CapturedLog(category, logLevel, formatter(state, exception) + (exception is null ? "" : " " + exception), values));
        }
    }
}
