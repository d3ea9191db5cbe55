namespace EntitlementGateway.Entitlements;

/// <summary>A product the player owns right now.</summary>
/// <param name="ProductId">The Store ID of the product (12 characters).</param>
/// <param name="SkuId">The SKU (4 digits), or empty when the Store names none (a subscription).</param>
/// <param name="ProductKind">Game, Application, Durable, Consumable, UnmanagedConsumable or Pass.</param>
/// <param name="AcquisitionType">Single (direct purchase or code), Recurring (subscription) or Conditional.</param>
/// <param name="Quantity">1 for non-consumables; the balance for consumables (0 when the Store gave none).</param>
/// <param name="StartDate">When the entitlement became valid.</param>
/// <param name="EndDate">When it stops being valid.</param>
/// <param name="AcquiredDate">When the player acquired it.</param>
/// <param name="SatisfiedByProductIds">The bundles or subscriptions that grant it, if any.</param>
/// <param name="Trial">Trial information.</param>
public sealed record Entitlement(
    string ProductId,
    string SkuId,
    string? ProductKind,
    string? AcquisitionType,
    int Quantity,
    DateTimeOffset StartDate,
    DateTimeOffset EndDate,
    DateTimeOffset? AcquiredDate,
    IReadOnlyList<string> SatisfiedByProductIds,
    TrialInfo Trial);

/// <summary>Trial state of an entitlement.</summary>
/// <param name="IsTrial">Licensed through a trial.</param>
/// <param name="IsInTrialPeriod">In a trial period (such as a subscription's).</param>
/// <param name="TimeRemaining">Time left in the trial, as the Store formats it; null when none.</param>
/// <param name="TimeRemainingSeconds">The same in seconds, whichever of the Store's two formats it came in; null when none or unreadable.</param>
public sealed record TrialInfo(bool IsTrial, bool IsInTrialPeriod, string? TimeRemaining, double? TimeRemainingSeconds = null)
{
    /// <summary>Not a trial, no trial period, no time remaining: what nearly every entitlement has (one shared instance).</summary>
    public static TrialInfo None { get; } = new(false, false, null);
}
