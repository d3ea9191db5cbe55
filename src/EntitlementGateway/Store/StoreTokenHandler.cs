using System.Net.Http.Headers;

namespace EntitlementGateway.Store;

/// <summary>Puts the service token on every Store call.</summary>
public sealed class StoreTokenHandler(IStoreTokenProvider tokens) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var token = await tokens.GetServiceTokenAsync(cancellationToken);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token.Value);
        return await base.SendAsync(request, cancellationToken);
    }
}
