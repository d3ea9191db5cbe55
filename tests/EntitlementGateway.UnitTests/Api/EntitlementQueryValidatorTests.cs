using EntitlementGateway.Api;
using EntitlementGateway.Entitlements;

namespace EntitlementGateway.UnitTests.Api;

public class EntitlementQueryValidatorTests
{
    private static readonly IReadOnlyList<ProductSelector> NoCatalog = [];

    private static EntitlementQueryRequest Request(IReadOnlyList<ProductSkuRequest>? products = null, IReadOnlyList<string>? types = null) =>
        new("x.y.z", products ?? [new ProductSkuRequest("9N30KZZF4BR9", "0010")], types, null);

    [Fact]
    public void Validate_GoodRequest_IsValidWithDefaults()
    {
        var result = EntitlementQueryValidator.Validate(Request(types: ["durable", "Game"]), NoCatalog);

        Assert.True(result.IsValid);
        Assert.True(result.IncludeSatisfyingItems);
        Assert.Equal(new HashSet<string> { "Durable", "Game" }, result.ProductKinds!.ToHashSet());
    }

    [Theory]
    [InlineData("9n30kzzf4br9", "productId")]
    [InlineData("9N30KZZF4BR", "productId")]
    [InlineData("9N30KZZF4BR9X", "productId")]
    [InlineData("9N30-ZZF4BR9", "productId")]
    public void Validate_BadStoreId_NamesTheField(string productId, string field)
    {
        var result = EntitlementQueryValidator.Validate(Request([new ProductSkuRequest("9MXL21XPWWWK", null), new ProductSkuRequest(productId, null)]), NoCatalog);
        Assert.Equal([$"products[1].{field}"], result.Errors.Keys);
    }

    [Theory]
    [InlineData("10")]
    [InlineData("00100")]
    [InlineData("OO1O")]
    public void Validate_BadSkuId_NamesTheField(string skuId)
    {
        var result = EntitlementQueryValidator.Validate(Request([new ProductSkuRequest("9N30KZZF4BR9", skuId)]), NoCatalog);
        Assert.Equal(["products[0].skuId"], result.Errors.Keys);
    }

    [Fact]
    public void Validate_UnknownProductType_NamesTheField()
    {
        var result = EntitlementQueryValidator.Validate(Request(types: ["Game", "Dlc"]), NoCatalog);
        Assert.Equal(["productTypes[1]"], result.Errors.Keys);
    }

    [Fact]
    public void Validate_MissingProducts_WithoutCatalog_IsAnError_WithCatalog_UsesIt()
    {
        var request = new EntitlementQueryRequest("x.y.z", null, null, false);
        Assert.Equal(["products"], EntitlementQueryValidator.Validate(request, NoCatalog).Errors.Keys);

        var catalog = new[] { new ProductSelector("9N30KZZF4BR9", "0010") };
        var result = EntitlementQueryValidator.Validate(request, catalog);
        Assert.True(result.IsValid);
        Assert.Equal(catalog, result.Products);
        Assert.False(result.IncludeSatisfyingItems);
    }

    [Fact]
    public void Validate_EmptyOrOver100Products_IsAnError()
    {
        Assert.Equal(["products"], EntitlementQueryValidator.Validate(Request([]), NoCatalog).Errors.Keys);
        var many = Enumerable.Range(0, 101).Select(i => new ProductSkuRequest($"9N30KZZF{i:D4}", null)).ToList();
        Assert.Equal(["products"], EntitlementQueryValidator.Validate(Request(many), NoCatalog).Errors.Keys);
        Assert.True(EntitlementQueryValidator.Validate(Request(many[..100]), NoCatalog).IsValid);
    }

    [Fact]
    public void Validate_MissingUcid_NamesTheField()
    {
        var result = EntitlementQueryValidator.Validate(new EntitlementQueryRequest(null, [new ProductSkuRequest("9N30KZZF4BR9", null)], null, null), NoCatalog);
        Assert.Equal(["userCollectionsId"], result.Errors.Keys);
    }

    [Fact]
    public void Validate_DuplicateProducts_AreSentOnce()
    {
        var result = EntitlementQueryValidator.Validate(Request([new("9N30KZZF4BR9", "0010"), new("9N30KZZF4BR9", "0010"), new("9N30KZZF4BR9", null),
            new("9MXL21XPWWWK", "0010"), new("9N30KZZF4BR9", null), new("9MXL21XPWWWK", "0011")]), NoCatalog);
        // The first of each kept, in the order sent; the same product with another SKU (or none) is another entry.
        Assert.Equal([new ProductSelector("9N30KZZF4BR9", "0010"), new ProductSelector("9N30KZZF4BR9", null),
            new ProductSelector("9MXL21XPWWWK", "0010"), new ProductSelector("9MXL21XPWWWK", "0011")], result.Products);
    }

    [Fact]
    public void Validate_DuplicatesInTheDefaultCatalog_AreSentOnce()
    {
        var catalog = new[] { new ProductSelector("9N30KZZF4BR9", null), new ProductSelector("9MXL21XPWWWK", null), new ProductSelector("9N30KZZF4BR9", null) };
        var result = EntitlementQueryValidator.Validate(new EntitlementQueryRequest("x.y.z", null, null, null), catalog);
        Assert.Equal(catalog[..2], result.Products);
    }

    [Theory]
    [InlineData("AZ09AZ09AZ09", true)]
    [InlineData("9N30KZZF4BR9", true)]
    [InlineData("@N30KZZF4BR9", false)]
    [InlineData("[N30KZZF4BR9", false)]
    [InlineData("/N30KZZF4BR9", false)]
    [InlineData(":N30KZZF4BR9", false)]
    [InlineData("9N30KZZF4BRa", false)]
    [InlineData("9N30KZZF4BR\u00C9", false)]
    [InlineData(null, false)]
    public void ProductRules_IsProductId_IsTwelveUpperCaseAsciiLettersOrDigits(string? value, bool expected)
    {
        Assert.Equal(expected, ProductRules.IsProductId(value is null ? null : System.Text.RegularExpressions.Regex.Unescape(value)));
    }

    [Theory]
    [InlineData("0009", true)]
    [InlineData("9000", true)]
    [InlineData("/000", false)]
    [InlineData("000:", false)]
    [InlineData("00\u0660" + "0", false)]
    [InlineData(null, false)]
    public void ProductRules_IsSkuId_IsFourAsciiDigits(string? value, bool expected)
    {
        Assert.Equal(expected, ProductRules.IsSkuId(value is null ? null : System.Text.RegularExpressions.Regex.Unescape(value)));
    }

    [Fact]
    public void CatalogOptions_ParsesAndValidates()
    {
        var good = new CatalogOptions { Products = "9N30KZZF4BR9/0010, 9MXL21XPWWWK" };
        Assert.Equal([new ProductSelector("9N30KZZF4BR9", "0010"), new ProductSelector("9MXL21XPWWWK", null)], good.Parse());
        Assert.True(new CatalogOptionsValidator().Validate(null, good).Succeeded);

        var bad = new CatalogOptionsValidator().Validate(null, new CatalogOptions { Products = "9N30KZZF4BR9/10,abc" });
        Assert.True(bad.Failed);
        Assert.Contains("Catalog:Products", bad.FailureMessage);
        Assert.Contains("abc", bad.FailureMessage);
    }
}
