using System.Runtime.CompilerServices;
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
        var credential = query.CredentialHash ?? Store.AcceptedUcids.HashOf(query.Credential);
        // Computed on every hit: written in one buffer, sorted by index, with no string per product; what is not ASCII
        // (never a validated query, perhaps a configured catalog) takes the general path.
        // Kinds are rare in a query and few (the Store has six): listed once, for the check and the key.
        string[] kinds = query.ProductKinds is { Count: > 0 } set ? [.. set] : [];
        if (!IsAscii(query.Products, kinds))
            return string.Concat(["v1\n", query.BudgetKey, "\n", credential, "\n",
                NormalisedQuery(query.Products, kinds, query.IncludeSatisfyingItems)]);

        var text = new DefaultInterpolatedStringHandler(0, 0, null, stackalloc char[512]);
        text.AppendLiteral("v1\n");
        text.AppendFormatted(query.BudgetKey);
        text.AppendLiteral("\n");
        text.AppendFormatted(credential);
        text.AppendLiteral("\n");
        var products = query.Products;
        var productOrder = products.Count <= 128 ? stackalloc int[products.Count] : new int[products.Count];
        AppendSet(ref text, productOrder, new Products(products));
        text.AppendLiteral("|");
        if (kinds.Length > 0) AppendSet(ref text, new int[kinds.Length], new Kinds(kinds));
        text.AppendLiteral(query.IncludeSatisfyingItems ? "|sat=1" : "|sat=0");
        return text.ToStringAndClear();
    }

    private static bool IsAscii(IReadOnlyList<ProductSelector> products, string[] kinds)
    {
        for (var i = 0; i < products.Count; i++)
        {
            if (!Ascii.IsValid(products[i].ProductId) || products[i].SkuId is { } sku && !Ascii.IsValid(sku)) return false;
        }
        return Array.TrueForAll(kinds, static kind => Ascii.IsValid(kind));
    }

    /// <summary>
    /// The entries <c>Id</c> or <c>Id/Sub</c>, upper-cased, distinct, in ordinal order, comma-separated: what
    /// <see cref="NormalisedQuery"/> writes for them, for ASCII entries. <paramref name="order"/> holds one index per entry.
    /// </summary>
    private static void AppendSet<TEntries>(ref DefaultInterpolatedStringHandler text, Span<int> order, TEntries entries)
        where TEntries : struct, IEntries
    {
        // Insertion sort of indexes: a query holds 1 to 100 products, usually one or two.
        for (var i = 0; i < order.Length; i++)
        {
            var j = i;
            for (; j > 0 && Compare(entries[order[j - 1]], entries[i]) > 0; j--) order[j] = order[j - 1];
            order[j] = i;
        }
        Span<char> upper = stackalloc char[64];
        for (var i = 0; i < order.Length; i++)
        {
            var (id, sub) = entries[order[i]];
            if (i > 0 && Compare(entries[order[i - 1]], (id, sub)) == 0) continue;
            if (i > 0) text.AppendLiteral(",");
            AppendUpper(ref text, id, upper);
            if (sub is null) continue;
            text.AppendLiteral("/");
            AppendUpper(ref text, sub, upper);
        }
    }

    private static void AppendUpper(ref DefaultInterpolatedStringHandler text, string value, scoped Span<char> buffer)
    {
        if (value.Length > buffer.Length) buffer = new char[value.Length];
        Ascii.ToUpper(value, buffer, out var written);
        text.AppendFormatted((ReadOnlySpan<char>)buffer[..written]);
    }

    private interface IEntries
    {
        (string Id, string? Sub) this[int index] { get; }
    }

    private readonly struct Products(IReadOnlyList<ProductSelector> products) : IEntries
    {
        public (string Id, string? Sub) this[int index] => (products[index].ProductId, products[index].SkuId);
    }

    private readonly struct Kinds(string[] kinds) : IEntries
    {
        public (string Id, string? Sub) this[int index] => (kinds[index], null);
    }

    /// <summary>Ordinal order of the upper-cased ASCII texts <c>a.Id[/a.Sub]</c> and <c>b.Id[/b.Sub]</c>, without making them.</summary>
    private static int Compare((string Id, string? Sub) a, (string Id, string? Sub) b)
    {
        var aLength = a.Id.Length + (a.Sub is null ? 0 : 1 + a.Sub.Length);
        var bLength = b.Id.Length + (b.Sub is null ? 0 : 1 + b.Sub.Length);
        for (var i = 0; i < aLength && i < bLength; i++)
        {
            var difference = UpperAt(a, i) - UpperAt(b, i);
            if (difference != 0) return difference;
        }
        return aLength - bLength;
    }

    private static int UpperAt((string Id, string? Sub) entry, int i)
    {
        var c = i < entry.Id.Length ? entry.Id[i] : i == entry.Id.Length ? '/' : entry.Sub![i - entry.Id.Length - 1];
        return char.IsAsciiLetterLower(c) ? c - ('a' - 'A') : c;
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
