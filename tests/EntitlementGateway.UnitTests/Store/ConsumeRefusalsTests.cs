using EntitlementGateway.Store;

namespace EntitlementGateway.UnitTests.Store;

public sealed class ConsumeRefusalsTests
{
    private static StoreErrorBody Body(string? code, string? inner = null) =>
        new() { Code = code, InnerError = inner is null ? null : new StoreErrorBody { Code = inner } };

    [Theory]
    [InlineData(400, "InsufficientQuantity", null)]
    [InlineData(409, "Conflict", "insufficientbalance")]
    [InlineData(404, null, "InsufficientQuantity")]
    [InlineData(422, "INSUFFICIENT", null)]
    public void Classify_InsufficientCodes_AreInsufficientQuantity(int status, string? code, string? inner) =>
        Assert.Equal(ConsumeRefusal.InsufficientQuantity, ConsumeRefusals.Classify(status, Body(code, inner)));

    [Theory]
    [InlineData(400, "ProductNotConsumable", null)]
    [InlineData(400, "BadRequest", "InvalidProductType")]
    [InlineData(409, "notconsumable", null)]
    public void Classify_NotConsumableCodes_AreNotConsumable(int status, string? code, string? inner) =>
        Assert.Equal(ConsumeRefusal.NotConsumable, ConsumeRefusals.Classify(status, Body(code, inner)));

    [Theory]
    [InlineData(401, "InsufficientQuantity")]
    [InlineData(403, "ProductNotConsumable")]
    [InlineData(429, "InsufficientQuantity")]
    [InlineData(500, "InsufficientQuantity")]
    [InlineData(408, "InsufficientQuantity")]
    [InlineData(200, "InsufficientQuantity")]
    public void Classify_StatusesThatAreNotAboutTheRequest_AreNeverRefusals(int status, string code) =>
        Assert.Null(ConsumeRefusals.Classify(status, Body(code)));

    [Fact]
    public void Classify_OtherCodesOrNoBody_AreNotRefusals()
    {
        Assert.Null(ConsumeRefusals.Classify(400, Body("BadRequest", "InvalidTrackingId")));
        Assert.Null(ConsumeRefusals.Classify(409, Body("Conflict", "ConcurrentRequest")));
        Assert.Null(ConsumeRefusals.Classify(400, Body(null)));
        Assert.Null(ConsumeRefusals.Classify(400, null));
    }

    [Fact]
    public void Classify_InsufficientWinsOverNotConsumable() =>
        Assert.Equal(ConsumeRefusal.InsufficientQuantity, ConsumeRefusals.Classify(400, Body("ProductNotConsumable", "InsufficientQuantity")));

    [Theory]
    [InlineData("TrackingIdConflict", null)]
    [InlineData("Conflict", "trackingidalreadyused")]
    public void Classify_A409NamingTheTrackingId_IsATrackingIdConflict(string? code, string? inner) =>
        Assert.Equal(ConsumeRefusal.TrackingIdConflict, ConsumeRefusals.Classify(409, Body(code, inner)));

    [Theory]
    [InlineData(400)]
    [InlineData(404)]
    [InlineData(422)]
    public void Classify_ATrackingIdCodeOnAnotherStatus_IsNoRefusal(int status) =>
        Assert.Null(ConsumeRefusals.Classify(status, Body("TrackingIdConflict")));
}
