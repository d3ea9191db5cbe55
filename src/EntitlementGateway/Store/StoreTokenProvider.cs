using Microsoft.Extensions.Options;
using Microsoft.Identity.Client;

namespace EntitlementGateway.Store;

/// <summary>A token with its expiry.</summary>
public readonly record struct StoreToken(string Value, DateTimeOffset ExpiresOn);

public interface IStoreTokenProvider
{
    /// <summary>The service token for Store calls (scope onestore .default). Never leaves the gateway.</summary>
    Task<StoreToken> GetServiceTokenAsync(CancellationToken cancellationToken);

    /// <summary>The collections ticket a game client passes to XStoreGetUserCollectionsIdAsync.</summary>
    Task<StoreToken> GetCollectionsTicketAsync(CancellationToken cancellationToken);
}

/// <summary>Client-credentials tokens from MSAL.NET, which caches them and refreshes before expiry.</summary>
public sealed class MsalStoreTokenProvider(
    IStoreEndpoints endpoints,
    IHttpClientFactory httpClientFactory,
    IOptions<StoreOptions> options) : IStoreTokenProvider
{
    public const string HttpClientName = "msal";

    private readonly SemaphoreSlim _gate = new(1, 1);
    private IConfidentialClientApplication? _app;

    public Task<StoreToken> GetServiceTokenAsync(CancellationToken cancellationToken) =>
        AcquireAsync(options.Value.ServiceScope, cancellationToken);

    public Task<StoreToken> GetCollectionsTicketAsync(CancellationToken cancellationToken) =>
        AcquireAsync(options.Value.CollectionsTicketScope, cancellationToken);

    private async Task<StoreToken> AcquireAsync(string scope, CancellationToken cancellationToken)
    {
        var app = _app ?? await BuildAsync(cancellationToken);
        // MSAL answers from its in-memory token cache until the token nears expiry.
        var result = await app.AcquireTokenForClient([scope]).ExecuteAsync(cancellationToken);
        return new StoreToken(result.AccessToken, result.ExpiresOn);
    }

    private async Task<IConfidentialClientApplication> BuildAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_app is not null) return _app;
            var connection = await endpoints.GetAsync(cancellationToken);
            var builder = ConfidentialClientApplicationBuilder.Create(connection.ClientId)
                .WithAuthority(connection.Authority, validateAuthority: false)
                .WithInstanceDiscovery(false)
                .WithHttpClientFactory(new MsalHttpClientFactory(httpClientFactory));
            builder = connection.ClientCertificate is { } certificate
                ? builder.WithCertificate(certificate, sendX5C: true)
                : builder.WithClientSecret(connection.ClientSecret);
            return _app = builder.Build();
        }
        finally
        {
            _gate.Release();
        }
    }

    private sealed class MsalHttpClientFactory(IHttpClientFactory factory) : IMsalHttpClientFactory
    {
        public HttpClient GetHttpClient() => factory.CreateClient(HttpClientName);
    }
}
