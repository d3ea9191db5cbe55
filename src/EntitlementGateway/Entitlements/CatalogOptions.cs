using Microsoft.Extensions.Options;

namespace EntitlementGateway.Entitlements;

/// <summary>The default catalog (section <c>Catalog</c>), used when a query names no products.</summary>
public sealed class CatalogOptions
{
    public const string Section = "Catalog";

    /// <summary>Comma-separated products, each <c>PRODUCTID</c> or <c>PRODUCTID/SKU</c>, e.g. <c>9N30KZZF4BR9/0010,9MXL21XPWWWK</c>.</summary>
    public string? Products { get; set; }

    private sealed record ParsedCatalog(string? Source, IReadOnlyList<ProductSelector> Products);

    private ParsedCatalog? _parsed;

    /// <summary>The parsed default catalog; empty when none is configured. Parsed once per value, not per query.</summary>
    public IReadOnlyList<ProductSelector> Parse()
    {
        var source = Products;
        if (_parsed is { } cached && ReferenceEquals(cached.Source, source)) return cached.Products;
        var parsed = new ParsedCatalog(source, ParseCore(source));
        _parsed = parsed;
        return parsed.Products;
    }

    private static IReadOnlyList<ProductSelector> ParseCore(string? products)
    {
        if (string.IsNullOrWhiteSpace(products)) return [];
        return products.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(entry => entry.Split('/', 2, StringSplitOptions.TrimEntries))
            .Select(parts => new ProductSelector(parts[0], parts.Length > 1 ? parts[1] : null))
            .ToList();
    }
}

public sealed class CatalogOptionsValidator : IValidateOptions<CatalogOptions>
{
    public ValidateOptionsResult Validate(string? name, CatalogOptions options)
    {
        var products = options.Parse();
        if (products.Count > ProductRules.MaxProducts)
            return ValidateOptionsResult.Fail($"Catalog:Products holds {products.Count} products; at most {ProductRules.MaxProducts}.");
        var bad = products.Where(p => !ProductRules.IsProductId(p.ProductId) || (p.SkuId is not null && !ProductRules.IsSkuId(p.SkuId)))
            .Select(p => p.SkuId is null ? p.ProductId : $"{p.ProductId}/{p.SkuId}").ToList();
        return bad.Count == 0
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail($"Catalog:Products has invalid entries ({string.Join(", ", bad)}): each is a 12-character Store ID, optionally '/' and a 4-digit SKU.");
    }
}

/// <summary>The shapes of Store identifiers and product kinds.</summary>
public static class ProductRules
{
    public const int MaxProducts = 100;

    public static readonly IReadOnlyList<string> ProductKinds =
        ["Game", "Application", "Durable", "Consumable", "UnmanagedConsumable", "Pass"];

    private static readonly System.Buffers.SearchValues<char> ProductIdChars =
        System.Buffers.SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789");

    // Span searches, not LINQ over the string: these run for every product of every query.
    public static bool IsProductId(string? value) =>
        value is { Length: 12 } && !value.AsSpan().ContainsAnyExcept(ProductIdChars);

    public static bool IsSkuId(string? value) => value is { Length: 4 } && !value.AsSpan().ContainsAnyExceptInRange('0', '9');

    /// <summary>The canonical spelling of a product kind, or null when it is not one.</summary>
    public static string? ProductKind(string? value) =>
        ProductKinds.FirstOrDefault(k => string.Equals(k, value, StringComparison.OrdinalIgnoreCase));
}
