using EntitlementGateway.Api;

namespace EntitlementGateway.UnitTests.Api;

public sealed class ConsumeRequestValidationTests
{
    [Fact]
    public void Validate_AGoodRequest_HasNoErrors_AndTheTrackingIdInCanonicalForm()
    {
        var errors = ConsumablesApi.Validate(new ConsumeRequest("ucid", "9NCOINS00001", 3, "4F1C2D9E0B7A4C1E9A552F0C8D3B6E71"), 10, out var trackingId);
        Assert.Empty(errors);
        Assert.Equal("4f1c2d9e-0b7a-4c1e-9a55-2f0c8d3b6e71", trackingId);
    }

    [Theory]
    [InlineData("ucid", "coins", 1, "4f1c2d9e-0b7a-4c1e-9a55-2f0c8d3b6e71", "productId")]
    [InlineData("ucid", "9NCOINS00001", 0, "4f1c2d9e-0b7a-4c1e-9a55-2f0c8d3b6e71", "quantity")]
    [InlineData("ucid", "9NCOINS00001", 11, "4f1c2d9e-0b7a-4c1e-9a55-2f0c8d3b6e71", "quantity")]
    [InlineData("ucid", "9NCOINS00001", null, "4f1c2d9e-0b7a-4c1e-9a55-2f0c8d3b6e71", "quantity")]
    [InlineData("ucid", "9NCOINS00001", 1, "not-a-guid", "trackingId")]
    [InlineData("ucid", "9NCOINS00001", 1, "00000000-0000-0000-0000-000000000000", "trackingId")]
    [InlineData("ucid", "9NCOINS00001", 1, null, "trackingId")]
    public void Validate_NamesTheFieldThatIsWrong(string? ucid, string? productId, int? quantity, string? trackingId, string field)
    {
        var errors = ConsumablesApi.Validate(new ConsumeRequest(ucid, productId, quantity, trackingId), 10, out _);
        Assert.Equal([field], errors.Keys);
    }

    [Fact]
    public void Validate_TheLargestQuantityAllowed_IsAccepted() =>
        Assert.Empty(ConsumablesApi.Validate(new ConsumeRequest("ucid", "9NCOINS00001", 10, Guid.NewGuid().ToString()), 10, out _));
}
