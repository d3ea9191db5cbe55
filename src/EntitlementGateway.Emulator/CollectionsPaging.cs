using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace EntitlementGateway.Emulator;

/// <summary>Filtering and paging of one user's collection, as the v8 b2bLicensePreview query does it.</summary>
internal static class CollectionsPaging
{
    /// <summary>The largest page v8 serves (its default too, and v9's default).</summary>
    public const int MaxPageSize = 100;

    /// <summary>The largest page v9 (PublisherQuery) serves.</summary>
    public const int MaxPageSizeV9 = 200;

    /// <summary>The most productSkuIds v9 accepts (more is a 400).</summary>
    public const int MaxProducts = 100;

    /// <summary>The documented product type values, the only kinds an entitlement filter may name.</summary>
    public static readonly IReadOnlyList<string> ProductTypes = ["Game", "Application", "Durable", "Consumable", "UnmanagedConsumable", "Pass"];

    /// <summary>
    /// A documented product type, bare (<c>Durable</c>) or after a product scope (<c>*:Durable</c>, the form Microsoft's
    /// own client sends), exactly as the documents spell it.
    /// </summary>
    public static bool IsProductTypeFilter(string? filter)
    {
        if (filter is null) return false;
        var colon = filter.IndexOf(':', StringComparison.Ordinal);
        if (colon == 0) return false;
        var kind = colon < 0 ? filter : filter[(colon + 1)..];
        return ProductTypes.Contains(kind, StringComparer.Ordinal);
    }

    public static List<JsonObject> Filter(IReadOnlyList<JsonObject> items, CollectionsQueryRequest request)
    {
        var skus = request.ProductSkuIds?.Where(p => !string.IsNullOrEmpty(p.ProductId)).ToList() ?? [];
        var kinds = (request.EntitlementFilters ?? []).Select(ParseFilter).ToList();
        return items.Where(i => MatchesSku(i, skus) && MatchesKind(i, kinds)).ToList();
    }

    /// <summary>
    /// One page from <paramref name="offset"/>. On later pages, with <paramref name="repeat"/>, the first slot carries a
    /// Revoked copy of the previous page's last item (the page never exceeds maxPageSize; with maxPageSize 1 there is no room).
    /// The page holds the items of <paramref name="filtered"/> themselves: they are the caller's own copies.
    /// </summary>
    public static (List<JsonObject> Page, int? NextOffset) Page(List<JsonObject> filtered, int offset, int pageSize, bool repeat)
    {
        var page = new List<JsonObject>(pageSize);
        var fresh = pageSize;
        if (repeat && offset > 0 && pageSize >= 2 && offset <= filtered.Count)
        {
            var copy = (JsonObject)filtered[offset - 1].DeepClone();
            copy["status"] = "Revoked";
            page.Add(copy);
            fresh--;
        }
        var start = Math.Min(offset, filtered.Count);
        var end = Math.Min(filtered.Count, start + fresh);
        page.AddRange(filtered.GetRange(start, end - start));
        return (page, end < filtered.Count ? end : null);
    }

    /// <summary>
    /// Identifies a query (user + filters) so that a continuation token only continues the query it came from.
    /// Page size is left out on purpose: offsets are absolute, so a caller may change it between pages.
    /// </summary>
    public static string Snapshot(string userId, CollectionsQueryRequest request)
    {
        var sb = new StringBuilder(userId).Append('\n');
        foreach (var p in request.ProductSkuIds ?? []) sb.Append(p.ProductId).Append('/').Append(p.SkuId).Append(';');
        sb.Append('\n');
        foreach (var f in request.EntitlementFilters ?? []) sb.Append(f).Append(';');
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(sb.ToString())))[..24];
    }

    public static string CreateToken(int offset, string snapshot) =>
        JsonSerializer.Serialize(new ContinuationState { Offset = offset, Snapshot = snapshot }, EmulatorJson.Default.ContinuationState);

    /// <summary>Decodes a continuation token; null when it is not one of ours or belongs to another query.</summary>
    public static int? ReadToken(string token, string snapshot)
    {
        try
        {
            var state = JsonSerializer.Deserialize(token, EmulatorJson.Default.ContinuationState);
            return state is { Offset: >= 0 } && state.Snapshot == snapshot ? state.Offset : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static bool MatchesSku(JsonObject item, List<ProductSkuId> skus) =>
        skus.Count == 0 || skus.Any(s =>
            string.Equals(s.ProductId, Str(item, "productId"), StringComparison.OrdinalIgnoreCase) &&
            (string.IsNullOrEmpty(s.SkuId) || string.Equals(s.SkuId, Str(item, "skuId"), StringComparison.OrdinalIgnoreCase)));

    private static bool MatchesKind(JsonObject item, List<(string Product, string Kind)> filters)
    {
        if (filters.Count == 0) return true;
        var kind = Str(item, "productKind") ?? Str(item, "productType");
        var productId = Str(item, "productId");
        return filters.Any(f =>
            (f.Product == "*" || string.Equals(f.Product, productId, StringComparison.OrdinalIgnoreCase)) &&
            (f.Kind == "*" || string.Equals(f.Kind, kind, StringComparison.OrdinalIgnoreCase)));
    }

    /// <summary>"*:Durable" → ("*", "Durable"); a bare "Durable" means any product of that kind.</summary>
    private static (string Product, string Kind) ParseFilter(string filter)
    {
        var colon = filter.IndexOf(':', StringComparison.Ordinal);
        return colon < 0 ? ("*", filter.Trim()) : (filter[..colon].Trim(), filter[(colon + 1)..].Trim());
    }

    private static string? Str(JsonObject item, string name) =>
        item[name] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
}
