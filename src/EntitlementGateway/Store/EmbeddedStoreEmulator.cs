using EntitlementGateway.Emulator;
using EntitlementGateway.Infrastructure.Logging;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace EntitlementGateway.Store;

/// <summary>
/// Emulator mode: the Store emulator runs inside this process. Its endpoints are served at <c>/emulator</c> on the
/// gateway's own port (for the quick start), and on a loopback HTTPS port of their own that the gateway calls over
/// real HTTP, because MSAL only talks to an https:// authority.
/// </summary>
public sealed partial class EmbeddedStoreEmulator(EmulatorState state, ILogger<EmbeddedStoreEmulator> logger) : IStoreLocator, IHealthCheck, IAsyncDisposable
{
    private readonly TaskCompletionSource<StoreConnection> _connection = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private EmulatorServer? _server;

    public StoreMode Mode => StoreMode.Emulator;
    public string ClientId => state.Options.ClientId;
    public string? TrustedCertificateThumbprint => _server?.Certificate.Thumbprint;

    public async ValueTask<StoreConnection> GetAsync(CancellationToken cancellationToken = default) =>
        await _connection.Task.WaitAsync(cancellationToken);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _server = await EmulatorServer.StartAsync(state, cancellationToken);
        _connection.TrySetResult(new StoreConnection(
            new Uri(_server.CollectionsBaseUrl.ToString().TrimEnd('/') + "/"),
            _server.Authority,
            state.Options.ClientId,
            state.Options.ClientSecret,
            null,
            _server.Certificate.Thumbprint));
        LogEmulatorMode(logger, _server.HttpsBaseAddress.ToString());
    }

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(_connection.Task.IsCompletedSuccessfully
            ? HealthCheckResult.Healthy("Embedded Store emulator (development only).")
            : HealthCheckResult.Unhealthy("The embedded Store emulator has not started."));

    public async ValueTask DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
    }

    /// <summary>Starts the emulator with the host, in Emulator mode only.</summary>
    internal sealed class Starter(IServiceProvider services) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) => StoreSetup.IsEmulatorMode(services)
            ? services.GetRequiredService<EmbeddedStoreEmulator>().StartAsync(cancellationToken)
            : Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }

    [LoggerMessage(EventId = EventIds.EmulatorMode, EventName = nameof(EventIds.EmulatorMode), Level = LogLevel.Warning, Message =
        "EMULATOR MODE: no Store credentials are configured, so this gateway talks to its built-in Microsoft Store emulator ({EmulatorAddress}), not the real Store. Entitlements are fake. Set Store:ClientId, Store:ClientSecret (or Store:CertificatePath) and Store:TenantId for Live mode. Emulator endpoints are served under /emulator.")]
    private static partial void LogEmulatorMode(ILogger logger, string emulatorAddress);
}
