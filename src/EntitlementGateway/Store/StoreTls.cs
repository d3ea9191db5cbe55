using System.Net.Security;

namespace EntitlementGateway.Store;

/// <summary>The primary handler for Store-facing HTTP: system trust, plus one pinned development certificate if configured.</summary>
public static class StoreTls
{
    public static SocketsHttpHandler CreateHandler(IStoreLocator endpoints) => new()
    {
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        // Over HTTP/2, more than one connection once a connection's concurrent stream limit is reached.
        EnableMultipleHttp2Connections = true,
        SslOptions = new SslClientAuthenticationOptions
        {
            RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
                errors == SslPolicyErrors.None ||
                (endpoints.TrustedCertificateThumbprint is { Length: > 0 } pinned && certificate is not null &&
                 string.Equals(certificate.GetCertHashString(), pinned, StringComparison.OrdinalIgnoreCase)),
        },
    };
}
