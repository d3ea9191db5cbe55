using EntitlementGateway.Entitlements;

namespace EntitlementGateway.UnitTests.Entitlements;

public class GamePassOptionsTests
{
    private static bool Valid(string tiers) => !new GamePassOptionsValidator().Validate(null, new GamePassOptions { Tiers = tiers }).Failed;

    [Fact]
    public void TheDefault_IsTheFiveDocumentedTiers_InAnswerOrder()
    {
        var options = new GamePassOptions();
        Assert.True(Valid(options.Tiers));
        Assert.Equal(["Ultimate", "Premium", "Essential", "PC", "Starter"], options.Parse().Select(t => t.Name));
        Assert.Equal("CFQ7TTC0KHS0", options.Parse()[0].ProductId);
        Assert.All(options.Products(), p => Assert.Null(p.SkuId));
    }

    [Theory]
    [InlineData("")]
    [InlineData("Ultimate")]
    [InlineData("=CFQ7TTC0KHS0")]
    [InlineData("Ultimate=cfq7ttc0khs0")]
    [InlineData("Ultimate=CFQ7TTC0KHS0,Again=CFQ7TTC0KHS0")]
    [InlineData("Ultimate=CFQ7TTC0KHS0,ultimate=CFQ7TTC0P85B")]
    public void Malformed_EmptyOrRepeatedTiers_AreRefusedAtStartUp(string tiers) => Assert.False(Valid(tiers));

    [Fact]
    public void OneAuthorisedTier_IsEnough() => Assert.True(Valid(" Essential = CFQ7TTC0K5DJ "));
}
