using EntitlementGateway.Api;
using EntitlementGateway.Entitlements;

namespace EntitlementGateway.UnitTests.Api;

/// <summary>What each field error tells the client, and the edge cases of products and productTypes.</summary>
public class EntitlementQueryValidatorMessageTests
{
    private static readonly IReadOnlyList<ProductSelector> NoCatalog = [];

    private static ValidatedRequest Validate(IReadOnlyList<ProductSkuRequest?>? products, IReadOnlyList<string>? types = null, string? ucid = "x.y.z") =>
        EntitlementQueryValidator.Validate(new EntitlementQueryRequest(ucid, products!, types, null), NoCatalog);

    private static string Message(ValidatedRequest result, string field) => Assert.Single(result.Errors[field]);

    [Fact]
    public void Validate_MissingUcid_SaysItIsRequired()
    {
        var result = Validate([new ProductSkuRequest("9N30KZZF4BR9", null)], ucid: " ");

        Assert.Equal("userCollectionsId is required (or xbox).", Message(result, "userCollectionsId"));
    }

    [Fact]
    public void Validate_MissingProductsWithoutCatalog_NamesTheCatalogSetting()
    {
        var result = Validate(null);

        Assert.Contains("Catalog:Products", Message(result, "products"));
        Assert.Empty(result.Products);
    }

    [Fact]
    public void Validate_TooManyProducts_SaysTheRangeAndTheCount()
    {
        var many = Enumerable.Range(0, 101).Select(i => new ProductSkuRequest($"9N30KZZF{i:D4}", null)).ToList();

        Assert.Equal("products must hold 1 to 100 items; it holds 101.", Message(Validate(many), "products"));
    }

    [Fact]
    public void Validate_ANullProductEntry_NamesItsIndex_AndTheOthersStillCount()
    {
        var result = Validate([new ProductSkuRequest("9N30KZZF4BR9", null), null]);

        Assert.Equal(["products[1]"], result.Errors.Keys);
        Assert.Equal("must be an object with productId.", Message(result, "products[1]"));
        Assert.Equal([new ProductSelector("9N30KZZF4BR9", null)], result.Products);
    }

    [Fact]
    public void Validate_BadProductAndSkuIds_ShowAValidExample_AndTheBadProductIsNotQueried()
    {
        var result = Validate([new ProductSkuRequest("bad", "1")]);

        Assert.Contains("12 upper-case letters or digits", Message(result, "products[0].productId"));
        Assert.Contains("4 digits", Message(result, "products[0].skuId"));
        Assert.Empty(result.Products);
    }

    [Fact]
    public void Validate_UnknownProductType_ListsTheKindsAllowed()
    {
        var result = Validate([new ProductSkuRequest("9N30KZZF4BR9", null)], ["Dlc"]);

        Assert.Equal("productTypes must be any of Game, Application, Durable, Consumable, UnmanagedConsumable, Pass.",
            Message(result, "productTypes[0]"));
    }

    [Fact]
    public void Validate_AnEmptyProductTypesList_FiltersNoKind()
    {
        // An empty set would filter out everything; an empty list means "any kind", like an absent one.
        var result = Validate([new ProductSkuRequest("9N30KZZF4BR9", null)], []);

        Assert.True(result.IsValid);
        Assert.Null(result.ProductKinds);
    }

    [Fact]
    public void Validate_ProductTypes_AreKeptInTheirCanonicalSpelling()
    {
        var result = Validate([new ProductSkuRequest("9N30KZZF4BR9", null)], ["unmanagedconsumable", "PASS"]);

        Assert.Equal(["Pass", "UnmanagedConsumable"], result.ProductKinds!.Order(StringComparer.Ordinal));
    }
}
