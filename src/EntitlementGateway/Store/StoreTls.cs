using System.Net.Security;

namespace EntitlementGateway.Store;

/// <summary>
/// The primary handler for Store-facing HTTP (the Store, its identity provider, renewal): system trust, plus one pinned
/// development certificate if configured. Redirects are never followed: a followed 3xx would carry the request's
/// body (client secret, service ticket, a player's UCID) and its bearer token to whatever host the answer names, and
/// bring that host's answer back as the Store's. A 3xx is an answer like any other unexpected status.
/// </summary>
public static class StoreTls
{
    public static SocketsHttpHandler CreateHandler(IStoreLocator endpoints) => new()
    {
        AllowAutoRedirect = false,
        // The gateway writes traceparent itself, naming its own client span (GatewayActivities.Propagate): the handler's
        // would name an HttpClient activity of its own that is never exported, leaving the Store's side of the trace
        // without its parent.
        ActivityHeadersPropagator = null,
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
