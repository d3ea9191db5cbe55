using Microsoft.Identity.Client;
using Microsoft.Identity.Client.AppConfig;

namespace EntitlementGateway.Store;

/// <summary>Where a service token comes from: one MSAL application, built once for the configured credential.</summary>
public interface IStoreTokenSource
{
    Task<AuthenticationResult> AcquireAsync(string scope, bool forceRefresh, CancellationToken cancellationToken);
}

/// <summary>
/// The MSAL application for each Store:Credential. Secret, certificate and workload identity are confidential clients
/// (client credentials against the authority); workload identity hands MSAL the projected service account token as the
/// client assertion, read from the file at every acquisition because the kubelet rotates it (about hourly) and MSAL
/// caches the access token, not the assertion. A managed identity is MSAL's managed-identity application, which finds
/// the platform's endpoint itself (App Service / Container Apps IDENTITY_ENDPOINT and IDENTITY_HEADER, Azure Arc,
/// Service Fabric, else the instance metadata service) and asks for a resource, the scope without "/.default".
/// </summary>
public static class StoreTokenSources
{
    private const string DefaultSuffix = "/.default";

    public static IStoreTokenSource Create(StoreConnection connection, IMsalHttpClientFactory httpClients)
    {
        ArgumentNullException.ThrowIfNull(connection);
        if (connection.Credential == StoreCredential.ManagedIdentity)
        {
            var id = connection.ManagedIdentityClientId is { } clientId
                ? ManagedIdentityId.WithUserAssignedClientId(clientId)
                : ManagedIdentityId.SystemAssigned;
            return new ManagedIdentitySource(ManagedIdentityApplicationBuilder.Create(id).WithHttpClientFactory(httpClients).Build());
        }

        var builder = ConfidentialClientApplicationBuilder.Create(connection.ClientId)
            .WithAuthority(connection.Authority, validateAuthority: false)
            .WithInstanceDiscovery(false)
            .WithHttpClientFactory(httpClients);
        builder = connection.Credential switch
        {
            StoreCredential.Certificate => builder.WithCertificate(connection.ClientCertificate!, sendX5C: true),
            StoreCredential.WorkloadIdentity => builder.WithClientAssertion(options => ReadAssertionAsync(connection.FederatedTokenFile!, options.CancellationToken)),
            _ => builder.WithClientSecret(connection.ClientSecret),
        };
        return new ConfidentialSource(builder.Build());
    }

    /// <summary>The resource a managed identity asks for: the scope without "/.default".</summary>
    public static string Resource(string scope)
    {
        ArgumentNullException.ThrowIfNull(scope);
        return scope.EndsWith(DefaultSuffix, StringComparison.Ordinal) ? scope[..^DefaultSuffix.Length] : scope;
    }

    private static async Task<string> ReadAssertionAsync(string path, CancellationToken cancellationToken) =>
        (await File.ReadAllTextAsync(path, cancellationToken)).Trim();

    private sealed class ConfidentialSource(IConfidentialClientApplication app) : IStoreTokenSource
    {
        public Task<AuthenticationResult> AcquireAsync(string scope, bool forceRefresh, CancellationToken cancellationToken) =>
            app.AcquireTokenForClient([scope]).WithForceRefresh(forceRefresh).ExecuteAsync(cancellationToken);
    }

    private sealed class ManagedIdentitySource(IManagedIdentityApplication app) : IStoreTokenSource
    {
        public Task<AuthenticationResult> AcquireAsync(string scope, bool forceRefresh, CancellationToken cancellationToken) =>
            app.AcquireTokenForManagedIdentity(Resource(scope)).WithForceRefresh(forceRefresh).ExecuteAsync(cancellationToken);
    }
}
