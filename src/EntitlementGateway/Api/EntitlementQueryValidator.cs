using EntitlementGateway.Entitlements;

namespace EntitlementGateway.Api;

/// <summary>The checked parts of a request, or the field errors that name what is wrong.</summary>
public sealed record ValidatedRequest(
    IReadOnlyList<ProductSelector> Products,
    IReadOnlySet<string>? ProductKinds,
    bool IncludeSatisfyingItems,
    Dictionary<string, string[]> Errors)
{
    public bool IsValid => Errors.Count == 0;
}

/// <summary>Checks a query's fields; field names in errors are the JSON paths a client sent.</summary>
public static class EntitlementQueryValidator
{
    public static ValidatedRequest Validate(EntitlementQueryRequest request, IReadOnlyList<ProductSelector> defaultCatalog)
    {
        var errors = new Dictionary<string, string[]>();
        if (request.UserCollectionsId is null or { IsBlank: true } && request.Xbox is null)
            errors["userCollectionsId"] = ["userCollectionsId is required (or xbox)."];

        var products = new List<ProductSelector>();
        if (request.Products is null)
        {
            if (defaultCatalog.Count == 0)
                errors["products"] = ["products is required: this gateway has no default catalog (Catalog:Products)."];
            foreach (var product in defaultCatalog) AddOnce(products, product);
        }
        else if (request.Products.Count is 0 or > ProductRules.MaxProducts)
        {
            errors["products"] = [$"products must hold 1 to {ProductRules.MaxProducts} items; it holds {request.Products.Count}."];
        }
        else
        {
            for (var i = 0; i < request.Products.Count; i++)
            {
                var product = request.Products[i];
                if (product is null) { errors[$"products[{i}]"] = ["must be an object with productId."]; continue; }
                if (!ProductRules.IsProductId(product.ProductId))
                    errors[$"products[{i}].productId"] = ["productId must be a Store ID: 12 upper-case letters or digits, e.g. 9N30KZZF4BR9."];
                if (product.SkuId is not null && !ProductRules.IsSkuId(product.SkuId))
                    errors[$"products[{i}].skuId"] = ["skuId must be 4 digits, e.g. 0010."];
                if (ProductRules.IsProductId(product.ProductId))
                    AddOnce(products, new ProductSelector(product.ProductId!, product.SkuId));
            }
        }

        HashSet<string>? kinds = null;
        if (request.ProductTypes is { Count: > 0 })
        {
            kinds = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            for (var i = 0; i < request.ProductTypes.Count; i++)
            {
                if (ProductRules.ProductKind(request.ProductTypes[i]) is { } kind) kinds.Add(kind);
                else errors[$"productTypes[{i}]"] = [$"productTypes must be any of {string.Join(", ", ProductRules.ProductKinds)}."];
            }
        }

        return new ValidatedRequest(products, kinds, request.IncludeSatisfyingItems ?? true, errors);
    }

    /// <summary>Identical entries would only make the Store's work longer: the first of each is kept, in order. A linear
    /// scan: at most <see cref="ProductRules.MaxProducts"/> entries, and no set allocated for the usual one or two.</summary>
    private static void AddOnce(List<ProductSelector> products, ProductSelector product)
    {
        // The record's own equality: product id and SKU, ordinal.
        if (!products.Contains(product)) products.Add(product);
    }
}
