using System.Text.Json;
using EntitlementGateway.Api;

namespace EntitlementGateway.UnitTests.Api;

public class EntitlementQueryRequestJsonTests
{
    private static EntitlementQueryRequest Read(string json) =>
        JsonSerializer.Deserialize(System.Text.Encoding.UTF8.GetBytes(json), ApiJsonContext.Default.EntitlementQueryRequest)!;

    [Fact]
    public void TheQueryBody_IsFilledThroughItsParameterlessConstructor_NotGatheredAsConstructorArguments()
    {
        Assert.NotNull(ApiJsonContext.Default.EntitlementQueryRequest.CreateObject);
    }

    [Fact]
    public void TheQueryBody_ReadsEveryFieldInAnyCase_AndLeavesMissingOnesNull()
    {
        var request = Read("""
            {"USERCOLLECTIONSID":"a.b.c","products":[{"productId":"9N30KZZF4BR9","skuId":"0010"}],"productTypes":["Game"],
             "includeSatisfyingItems":false,"xbox":{"authorization":"XBL3.0 x=1;t","signature":"s"},"unknown":[1,{"a":2}]}
            """);

        Assert.Equal(new EntitlementQueryRequest("a.b.c", [new ProductSkuRequest("9N30KZZF4BR9", "0010")], ["Game"], false,
            new XboxCredentials("XBL3.0 x=1;t", "s")) with { Products = request.Products, ProductTypes = request.ProductTypes }, request);
        Assert.Equal(new ProductSkuRequest("9N30KZZF4BR9", "0010"), Assert.Single(request.Products!));
        Assert.Equal(["Game"], request.ProductTypes!);
        Assert.Equal(new EntitlementQueryRequest(null, null, null, null), Read("{}"));
    }

    [Theory]
    [InlineData("""{"userCollectionsId":42}""", "$.userCollectionsId")]
    [InlineData("""{"products":"9N30KZZF4BR9"}""", "$.products")]
    [InlineData("""{"includeSatisfyingItems":"yes"}""", "$.includeSatisfyingItems")]
    public void TheQueryBody_WithAWrongType_FailsNamingThePath(string json, string path)
    {
        var error = Assert.Throws<JsonException>(() => Read(json));

        Assert.Equal(path, error.Path);
    }
}
