using EntitlementGateway.Store;
using EntitlementGateway.Store.Resilience;

namespace EntitlementGateway.Entitlements;

/// <summary>
/// The pages of one query through the Collections API it names: v8 (B2bLicensePreview) or v9 (PublisherQuery), with a
/// UCID in <c>beneficiaries</c> (and the sandbox) or with the player's delegated Xbox authorization (then neither: the
/// X-token names the player and the sandbox). The answers have one shape, so the caller pages, filters and dedupes the
/// same way for both.
/// </summary>
internal abstract class CollectionsPages
{
    public abstract Task<StoreCallResult<B2bLicensePreviewResponse>> NextAsync(CancellationToken cancellationToken);

    public abstract void ContinueWith(string continuationToken);

    public static CollectionsPages For(EntitlementQuery query, StoreOptions options, CollectionsClient store, StoreCallState state)
    {
        IReadOnlyList<StoreBeneficiary>? beneficiaries = query.Ucid is { } ucid ? [new StoreBeneficiary("b2b", ucid.Value, "")] : null;
        var sandbox = query.Xbox is null && !string.IsNullOrWhiteSpace(options.Sandbox) ? options.Sandbox : null;
        var products = query.Products.Select(p => new StoreProductSkuId(p.ProductId, p.SkuId)).ToList();
        var fingerprint = query.Fingerprint;
        return query.Api == CollectionsApi.V9
            // Product kinds are the gateway's own filter on both versions (v8's optional entitlementFilters is not sent).
            ? new Paged<PublisherQueryRequest>(new PublisherQueryRequest
                {
                    Beneficiaries = beneficiaries,
                    ProductSkuIds = products,
                    Sandbox = sandbox,
                },
                (request, ct) => store.QueryPageAsync(request, fingerprint, state, ct),
                (request, token) => request with { ContinuationToken = token })
            : new Paged<B2bLicensePreviewRequest>(new B2bLicensePreviewRequest
                {
                    Beneficiaries = beneficiaries,
                    ProductSkuIds = products,
                    ExpandSatisfyingItems = query.IncludeSatisfyingItems,
                    Sandbox = sandbox,
                },
                (request, ct) => store.QueryPageAsync(request, fingerprint, state, ct),
                (request, token) => request with { ContinuationToken = token });
    }

    private sealed class Paged<TRequest>(
        TRequest request,
        Func<TRequest, CancellationToken, Task<StoreCallResult<B2bLicensePreviewResponse>>> send,
        Func<TRequest, string, TRequest> withToken) : CollectionsPages
    {
        public override Task<StoreCallResult<B2bLicensePreviewResponse>> NextAsync(CancellationToken cancellationToken) =>
            send(request, cancellationToken);

        public override void ContinueWith(string continuationToken) => request = withToken(request, continuationToken);
    }
}
