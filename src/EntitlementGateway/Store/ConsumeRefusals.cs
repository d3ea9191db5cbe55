namespace EntitlementGateway.Store;

/// <summary>A consume the Store refused for good: asking again with the same request gets the same answer.</summary>
public enum ConsumeRefusal
{
    /// <summary>The player's balance of the product is smaller than the quantity asked for.</summary>
    InsufficientQuantity,
    /// <summary>The product is not a Store-managed consumable (a durable, a game, a pass ...).</summary>
    NotConsumable,
    /// <summary>The Store holds this trackingId for a consume of other values (a 409 naming the trackingId): a gateway
    /// whose ledger lost its record cannot learn that otherwise, and sending it again meets the same refusal.</summary>
    TrackingIdConflict,
}

/// <summary>
/// Tells a final consume refusal from any other Store error, by the consume service's error code (the body's
/// <c>code</c> or its <c>innererror.code</c>), read by the words it is built of so a renamed variant
/// (InsufficientQuantity, InsufficientBalance; ProductNotConsumable, InvalidProductType) is still understood.
/// Only a 4xx about the request can be one: 401/403 (the UCID or the token), 408 and 429 never are.
/// </summary>
public static class ConsumeRefusals
{
    public static ConsumeRefusal? Classify(int status, StoreErrorBody? body)
    {
        if (status is not (400 or 404 or 409 or 422) || body is null) return null;
        string?[] codes = [body.Code, body.InnerError?.Code];
        if (codes.Any(c => Has(c, "Insufficient"))) return ConsumeRefusal.InsufficientQuantity;
        if (codes.Any(c => Has(c, "NotConsumable") || Has(c, "ProductType"))) return ConsumeRefusal.NotConsumable;
        if (status == 409 && codes.Any(c => Has(c, "TrackingId"))) return ConsumeRefusal.TrackingIdConflict;
        return null;
    }

    private static bool Has(string? code, string word) => code is not null && code.Contains(word, StringComparison.OrdinalIgnoreCase);
}
