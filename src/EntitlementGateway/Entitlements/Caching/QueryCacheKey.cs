using System.Text;

namespace EntitlementGateway.Entitlements.Caching;

/// <summary>
/// The cache and single-flight key of a query: the budget key (the player), a hash of the credential (the UCID, or the
/// X-token's Authorization value, never kept itself), and the normalised query
/// (products upper-cased, deduplicated and sorted; kinds likewise; includeSatisfyingItems). Product order, case and
/// duplicates do not change the Store's answer after the gateway's filter, so they do not change the key.
/// The credential is part of it because only the Store can check it: a forged UCID carrying a victim's userId (or an
/// X-token with a victim's user hash) must never be answered from what the Store told the victim's real one.
/// Computed on every query, cache hits included: in memory (L1, single flight) the key is this text itself; only Redis
/// (L2) gets its SHA-256 (<see cref="Hashed"/>), computed when Redis is asked, so a hit answered from memory hashes nothing.
/// </summary>
public static class QueryCacheKey
{
    public static string For(EntitlementQuery query)
    {
        ArgumentNullException.ThrowIfNull(query);
        var normalised = NormalisedQuery(query.Products, query.ProductKinds, query.IncludeSatisfyingItems);
        var credential = query.CredentialHash ?? Store.AcceptedUcids.HashOf(query.Credential);
        return string.Concat(["v1\n", query.BudgetKey, "\n", credential, "\n", normalised]);
    }

    /// <summary>The key as Redis holds it: the lower-case hex SHA-256 of <paramref name="key"/> (short, and names no player).</summary>
    public static string Hashed(string key) => Store.AcceptedUcids.HashOf(key);

    /// <summary>The query part alone, e.g. <c>9MXL21XPWWWK,9N30KZZF4BR9/0010|DURABLE,GAME|sat=1</c>.</summary>
    public static string NormalisedQuery(IEnumerable<ProductSelector> products, IEnumerable<string>? kinds, bool includeSatisfyingItems)
    {
        var text = new StringBuilder(128);
        AppendSet(text, products.Select(p => p.SkuId is null ? p.ProductId.ToUpperInvariant() : p.ProductId.ToUpperInvariant() + "/" + p.SkuId.ToUpperInvariant()));
        text.Append('|');
        AppendSet(text, (kinds ?? []).Select(k => k.ToUpperInvariant()));
        return text.Append("|sat=").Append(includeSatisfyingItems ? '1' : '0').ToString();
    }

    /// <summary>Distinct values in ordinal order, comma-separated.</summary>
    private static void AppendSet(StringBuilder text, IEnumerable<string> values)
    {
        var sorted = values.ToArray();
        Array.Sort(sorted, StringComparer.Ordinal);
        for (var i = 0; i < sorted.Length; i++)
        {
            if (i > 0 && sorted[i] == sorted[i - 1]) continue;
            if (i > 0) text.Append(',');
            text.Append(sorted[i]);
        }
    }
}
