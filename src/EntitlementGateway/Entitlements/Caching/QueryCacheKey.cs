using System.Text;

namespace EntitlementGateway.Entitlements.Caching;

/// <summary>
/// The cache and single-flight key of a query: the budget key (the player), a hash of the credential (the UCID, or the
/// X-token's Authorization value, never kept itself), and the normalised query
/// (products upper-cased, deduplicated and sorted; kinds likewise; includeSatisfyingItems). Product order, case and
/// duplicates do not change the Store's answer after the gateway's filter, so they do not change the key.
/// The credential is part of it because only the Store can check it: a forged UCID carrying a victim's userId (or an
/// X-token with a victim's user hash) must never be answered from what the Store told the victim's real one.
/// </summary>
public static class QueryCacheKey
{
    public static string For(EntitlementQuery query)
    {
        ArgumentNullException.ThrowIfNull(query);
        var text = new StringBuilder(256)
            .Append("v1\n").Append(query.BudgetKey).Append('\n')
            .Append(query.CredentialHash ?? Hash(query.Credential)).Append('\n')
            .Append(NormalisedQuery(query.Products, query.ProductKinds, query.IncludeSatisfyingItems));
        return Hash(text.ToString());
    }

    /// <summary>The query part alone, e.g. <c>9MXL21XPWWWK,9N30KZZF4BR9/0010|DURABLE,GAME|sat=1</c>.</summary>
    public static string NormalisedQuery(IEnumerable<ProductSelector> products, IEnumerable<string>? kinds, bool includeSatisfyingItems)
    {
        var productPart = products
            .Select(p => p.SkuId is null ? p.ProductId.ToUpperInvariant() : p.ProductId.ToUpperInvariant() + "/" + p.SkuId.ToUpperInvariant())
            .Distinct(StringComparer.Ordinal)
            .Order(StringComparer.Ordinal);
        var kindPart = (kinds ?? []).Select(k => k.ToUpperInvariant()).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal);
        return string.Join(',', productPart) + "|" + string.Join(',', kindPart) + "|sat=" + (includeSatisfyingItems ? "1" : "0");
    }

    private static string Hash(string value) => Store.AcceptedUcids.HashOf(value);
}
