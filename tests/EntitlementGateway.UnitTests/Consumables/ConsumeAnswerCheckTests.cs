using EntitlementGateway.Consumables;
using EntitlementGateway.Store;
using EntitlementGateway.Store.Resilience;
using Microsoft.Extensions.Options;

namespace EntitlementGateway.UnitTests.Consumables;

/// <summary>A Store answer that contradicts the consume it answers is not taken as that consume's receipt.</summary>
public class ConsumeAnswerCheckTests
{
    private const string TrackingId = "6f1c2d3e-4a5b-4c6d-8e7f-0a1b2c3d4e5f";
    private static readonly ConsumeCommand Command = new(null, null, "user-p1", "9NCOINS00001", 3, TrackingId);

    [Fact]
    public void An_answer_for_this_request_matches()
    {
        Assert.Null(ConsumeService.Mismatch(new ConsumeStoreResponse { NewQuantity = 0, ProductId = "9NCOINS00001", TrackingId = TrackingId }, Command));
    }

    [Fact]
    public void Fields_the_Store_left_out_contradict_nothing()
    {
        Assert.Null(ConsumeService.Mismatch(new ConsumeStoreResponse { NewQuantity = 7 }, Command));
    }

    [Fact]
    public void The_product_id_and_trackingId_are_compared_as_what_they_are_not_as_text()
    {
        // Product ids are matched without case; a GUID is the same GUID in upper case and in braces.
        var answer = new ConsumeStoreResponse { NewQuantity = 7, ProductId = "9ncoins00001", TrackingId = "{6F1C2D3E-4A5B-4C6D-8E7F-0A1B2C3D4E5F}" };

        Assert.Null(ConsumeService.Mismatch(answer, Command));
    }

    [Theory]
    [InlineData(-1, "9NCOINS00001", TrackingId, "a negative balance")]
    [InlineData(7, "9NOTHER00001", TrackingId, "another product")]
    [InlineData(7, "9NCOINS00001", "00000000-1111-2222-3333-444444444444", "another trackingId")]
    [InlineData(7, "9NCOINS00001", "not-a-guid", "another trackingId")]
    public void An_answer_that_contradicts_the_request_is_named(int newQuantity, string productId, string trackingId, string expected)
    {
        var answer = new ConsumeStoreResponse { NewQuantity = newQuantity, ProductId = productId, TrackingId = trackingId };

        Assert.Equal(expected, ConsumeService.Mismatch(answer, Command));
    }

    [Theory]
    [InlineData(10, 10.0, false)]
    [InlineData(11, 10.0, true)]
    [InlineData(30, 29.5, true)]
    [InlineData(30, 30.0, false)]
    public void The_pending_lease_must_outlast_the_Store_call(int leaseSeconds, double totalTimeoutSeconds, bool valid)
    {
        var validator = new ConsumeOptionsValidator(Options.Create(new ResilienceOptions { TotalTimeoutSeconds = totalTimeoutSeconds }));

        var result = validator.Validate(null, new ConsumeOptions { PendingLeaseSeconds = leaseSeconds });

        Assert.Equal(valid, result.Succeeded);
        if (!valid) Assert.Contains("Consume:PendingLeaseSeconds", result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void A_reused_trackingId_of_a_UCID_without_a_userId_is_not_answered_with_advice_to_use_a_new_one()
    {
        var withoutUserId = ConsumeService.ReusedDetail("ucid-0123456789abcdef");
        var withUserId = ConsumeService.ReusedDetail("user-p1");

        Assert.Contains("carries no userId", withoutUserId, StringComparison.Ordinal);
        Assert.Contains("Do not use a new trackingId", withoutUserId, StringComparison.Ordinal);
        Assert.DoesNotContain("create a new trackingId", withoutUserId, StringComparison.Ordinal);
        Assert.EndsWith("create a new trackingId per fulfilment.", withUserId, StringComparison.Ordinal);
        // A first sending whose outcome was unknown may have consumed: the advice says to learn it first.
        Assert.Contains("send it again unchanged to learn it before consuming with a new trackingId", withUserId, StringComparison.Ordinal);
    }
}
