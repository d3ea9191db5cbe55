using Microsoft.Extensions.Hosting;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;

namespace EntitlementGateway.Emulator;

/// <summary>
/// A self-contained Kestrel instance serving the emulator on loopback, HTTPS (self-signed, see <see cref="Certificate"/>)
/// and HTTP. Ports are random unless <see cref="EmulatorOptions.HttpsPort"/>/<see cref="EmulatorOptions.HttpPort"/> say
/// otherwise, so any number of servers run side by side (parallel tests).
/// </summary>
public sealed class EmulatorServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly bool _ownsState;

    private EmulatorServer(WebApplication app, EmulatorState state, bool ownsState, Uri https, Uri http)
    {
        _app = app;
        State = state;
        _ownsState = ownsState;
        HttpsBaseAddress = https;
        HttpBaseAddress = http;
    }

    /// <summary>e.g. https://127.0.0.1:54321/</summary>
    public Uri HttpsBaseAddress { get; }

    /// <summary>e.g. http://127.0.0.1:54322/</summary>
    public Uri HttpBaseAddress { get; }

    /// <summary>{HttpsBaseAddress}emulator/store: the gateway appends /v8.0/collections/b2bLicensePreview and /v6.0/b2b/keys/renew.</summary>
    public Uri CollectionsBaseUrl => new(HttpsBaseAddress, "emulator/store");

    /// <summary>The MSAL authority, {HttpsBaseAddress}emulator (use with validateAuthority: false and no instance discovery).</summary>
    public string Authority => new Uri(HttpsBaseAddress, "emulator").ToString();

    /// <summary>The self-signed TLS certificate served on HTTPS; trust exactly this one (<see cref="EmulatorTls.CreateTrustingHandler"/>).</summary>
    public X509Certificate2 Certificate => State.Certificate;

    /// <summary>The live state behind this server.</summary>
    public EmulatorState State { get; }

    /// <summary>The options the state runs with.</summary>
    public EmulatorOptions Options => State.Options;

    /// <summary>Starts a server with a new state built from <paramref name="options"/>; disposing the server disposes it.</summary>
    public static Task<EmulatorServer> StartAsync(EmulatorOptions options, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        return StartCoreAsync(new EmulatorState(options), ownsState: true, ct);
    }

    /// <summary>Starts a server over an existing, shared state (the caller keeps ownership of it).</summary>
    public static Task<EmulatorServer> StartAsync(EmulatorState state, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(state);
        return StartCoreAsync(state, ownsState: false, ct);
    }

    /// <summary>An HttpClient on <see cref="HttpsBaseAddress"/> that trusts exactly <see cref="Certificate"/>.</summary>
    public HttpClient CreateHttpsClient() =>
        new(EmulatorTls.CreateTrustingHandler(Certificate), disposeHandler: true) { BaseAddress = HttpsBaseAddress };

    private static async Task<EmulatorServer> StartCoreAsync(EmulatorState state, bool ownsState, CancellationToken ct)
    {
        try
        {
            // Empty builder: no appsettings, environment or args. Embedded in the gateway, this server must not pick up
            // the gateway's ASPNETCORE_URLS or Kestrel:Endpoints (it would fight the gateway for its ports).
            var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions
            {
                ApplicationName = typeof(EmulatorServer).Assembly.GetName().Name,
                ContentRootPath = AppContext.BaseDirectory,
            });
            builder.Services.AddRouting();
            // Whoever owns this server stops it: it must not stop on its own at SIGTERM while an embedding gateway
            // is still draining requests that call it.
            builder.Services.AddSingleton<IHostLifetime, OwnerControlledLifetime>();
            var certificate = state.Certificate;
            builder.WebHost.UseKestrelCore().ConfigureKestrel(k =>
            {
                k.Listen(IPAddress.Loopback, state.Options.HttpsPort, l => l.UseHttps(certificate));
                k.Listen(IPAddress.Loopback, state.Options.HttpPort);
            });
            builder.Services.AddStoreEmulator(state);
            var app = builder.Build();
            app.MapStoreEmulator();
            await app.StartAsync(ct);

            var addresses = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses;
            var https = new Uri(addresses.Single(a => a.StartsWith("https://", StringComparison.Ordinal)).TrimEnd('/') + "/");
            var http = new Uri(addresses.Single(a => a.StartsWith("http://", StringComparison.Ordinal)).TrimEnd('/') + "/");
            return new EmulatorServer(app, state, ownsState, https, http);
        }
        catch
        {
            if (ownsState) state.Dispose();
            throw;
        }
    }

    /// <summary>Stops the server (and disposes its state when it created it).</summary>
    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        if (_ownsState) State.Dispose();
    }
}

internal sealed class OwnerControlledLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
