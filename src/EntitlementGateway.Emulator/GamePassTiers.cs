using System.Text.Json.Nodes;

namespace EntitlementGateway.Emulator;

/// <summary>
/// The Game Pass tiers and their product ids, as the Store's documentation lists them. A publisher authorised for a tier
/// sees a subscriber's active subscription as a Recurring <c>Pass</c> item with the tier's product id, an empty skuId and
/// an endDate of the maximum value (it says nothing about when the subscription ends).
/// </summary>
public static class GamePassTiers
{
    /// <summary>Tier name to product id.</summary>
    public static IReadOnlyDictionary<string, string> ProductIds { get; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
    {
        ["Essential"] = "CFQ7TTC0K5DJ",
        ["Premium"] = "CFQ7TTC0P85B",
        ["Ultimate"] = "CFQ7TTC0KHS0",
        ["PC"] = "CFQ7TTC0KGQ8",
        ["Starter"] = "CFQ7TTC10QFD",
        ["Console"] = "CFQ7TTC0K6L8",
    };

    /// <summary>The item an authorised publisher sees for an active subscription to <paramref name="productId"/>.</summary>
    internal static JsonObject Item(string productId, DateTimeOffset now) => new()
    {
        ["acquiredDate"] = now.AddDays(-3).ToString("O"),
        ["acquisitionType"] = "Recurring",
        ["endDate"] = "9999-12-31T23:59:59.9999999+00:00",
        ["id"] = Guid.NewGuid().ToString("N"),
        ["modifiedDate"] = now.AddDays(-3).ToString("O"),
        ["productId"] = productId,
        ["productKind"] = "Pass",
        ["quantity"] = 1,
        ["recurrenceData"] = "mdr:0:" + Guid.NewGuid().ToString("N"),
        ["satisfiedByProductIds"] = new JsonArray(),
        ["skuId"] = "",
        ["startDate"] = now.AddDays(-3).Date.ToString("O"),
        ["status"] = "Active",
        ["tags"] = new JsonArray(),
        ["transactionId"] = Guid.NewGuid().ToString(),
        ["trialData"] = new JsonObject { ["isInTrialPeriod"] = false, ["isTrial"] = false },
    };
}
