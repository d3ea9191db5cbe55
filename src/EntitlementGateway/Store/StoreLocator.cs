using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Options;

namespace EntitlementGateway.Store;

/// <summary>Where and as whom the gateway talks to the Store, resolved once (the embedded emulator binds a port at start).</summary>
public sealed record StoreConnection(
    Uri CollectionsBaseUrl,
    string Authority,
    string ClientId,
    string? ClientSecret,
    X509Certificate2? ClientCertificate,
    string? TrustedCertificateThumbprint,
    StoreCredential Credential = StoreCredential.Secret,
    string? FederatedTokenFile = null,
    string? ManagedIdentityClientId = null);

public interface IStoreLocator
{
    StoreMode Mode { get; }
    /// <summary>The client id UCIDs must have been minted for.</summary>
    string ClientId { get; }
    /// <summary>The TLS certificate thumbprint to trust besides the system store (development only); null when none.</summary>
    string? TrustedCertificateThumbprint { get; }
    ValueTask<StoreConnection> GetAsync(CancellationToken cancellationToken = default);
}

/// <summary>The real Store, from configuration.</summary>
public sealed class LiveStoreLocator : IStoreLocator, Microsoft.Extensions.Diagnostics.HealthChecks.IHealthCheck
{
    private readonly StoreConnection _connection;

    /// <summary>The client certificate; a file it cannot read names the settings, not only the cryptography's complaint.</summary>
    private static X509Certificate2 LoadCertificate(string path, string? password)
    {
        try
        {
            return X509CertificateLoader.LoadPkcs12FromFile(path, password);
        }
        catch (System.Security.Cryptography.CryptographicException ex)
        {
            throw new InvalidOperationException(
                $"Store:CertificatePath '{path}' could not be read as a PKCS#12 (PFX) file with Store:CertificatePassword (environment variables Store__CertificatePath, Store__CertificatePassword): {ex.Message}", ex);
        }
    }

    public LiveStoreLocator(IOptions<StoreOptions> options)
    {
        var o = options.Value;
        X509Certificate2? certificate = o.EffectiveCredential != StoreCredential.Certificate || string.IsNullOrWhiteSpace(o.CertificatePath)
            ? null
            : LoadCertificate(o.CertificatePath, o.CertificatePassword);
        _connection = new StoreConnection(
            new Uri(o.CollectionsBaseUrl.TrimEnd('/') + "/"),
            o.EffectiveAuthority ?? "",
            o.ClientId!,
            o.ClientSecret,
            certificate,
            o.TrustedCertificateThumbprint,
            o.EffectiveCredential,
            o.FederatedTokenFile,
            string.IsNullOrWhiteSpace(o.ManagedIdentityClientId) ? null : o.ManagedIdentityClientId);
    }

    public StoreMode Mode => StoreMode.Live;
    public string ClientId => _connection.ClientId;
    public string? TrustedCertificateThumbprint => _connection.TrustedCertificateThumbprint;
    public ValueTask<StoreConnection> GetAsync(CancellationToken cancellationToken = default) => ValueTask.FromResult(_connection);

    /// <summary>Live mode has nothing of its own to start; the Store's health shows in its calls (circuit, credentials).</summary>
    public Task<Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckResult> CheckHealthAsync(
        Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckResult.Healthy("Live: the Microsoft Store at " + _connection.CollectionsBaseUrl));
}
