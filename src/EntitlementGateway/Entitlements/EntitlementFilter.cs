using EntitlementGateway.Infrastructure;
using EntitlementGateway.Store;

namespace EntitlementGateway.Entitlements;

/// <summary>
/// Turns the raw items of every page into what the player owns now: Active and inside [startDate, endDate),
/// limited to what was asked for, one per (productId, skuId). The Store repeats items across pages, sometimes
/// with another status, even with excludeDuplicates, so this is the gateway's job.
/// </summary>
public static class EntitlementFilter
{
    public static IReadOnlyList<Entitlement> Apply(
        IEnumerable<StoreCollectionItem> items,
        DateTimeOffset now,
        IReadOnlyCollection<ProductSelector>? requested = null,
        IReadOnlySet<string>? productKinds = null)
    {
        var best = new Dictionary<(string, string), StoreCollectionItem>();
        foreach (var item in items)
        {
            if (!IsOwnedNow(item, now)) continue;
            var productId = item.ProductId!.ToUpperInvariant();
            var skuId = item.SkuId ?? "";
            if (requested is not null && !requested.Any(r => r.Matches(productId, skuId))) continue;
            if (productKinds is not null && (item.Kind is null || !productKinds.Contains(item.Kind))) continue;

            var key = (productId, skuId);
            if (!best.TryGetValue(key, out var current) || IsBetter(item, current)) best[key] = item;
        }

        return best
            .OrderBy(p => p.Key.Item1, StringComparer.Ordinal).ThenBy(p => p.Key.Item2, StringComparer.Ordinal)
            .Select(p => ToEntitlement(p.Key.Item1, p.Key.Item2, p.Value))
            .ToList();
    }

    public static bool IsOwnedNow(StoreCollectionItem item, DateTimeOffset now) =>
        !string.IsNullOrEmpty(item.ProductId) &&
        string.Equals(item.Status, "Active", StringComparison.OrdinalIgnoreCase) &&
        item.StartDate is { } start && start <= now &&
        item.EndDate is { } end && now < end;

    /// <summary>
    /// Direct purchase beats a bundle or subscription grant; then the later end date; then the later acquisition
    /// (a missing date ranks lowest). On a full tie the item seen first stays, so the answer does not flip between calls.
    /// </summary>
    private static bool IsBetter(StoreCollectionItem candidate, StoreCollectionItem current) =>
        Rank(candidate).CompareTo(Rank(current)) > 0;

    private static (bool Direct, DateTimeOffset? End, DateTimeOffset? Acquired) Rank(StoreCollectionItem item) =>
        (IsDirect(item), item.EndDate, item.AcquiredDate);

    private static bool IsDirect(StoreCollectionItem item) =>
        string.Equals(item.AcquisitionType, "Single", StringComparison.OrdinalIgnoreCase) &&
        (item.SatisfiedByProductIds is null || item.SatisfiedByProductIds.Count == 0);

    // Cached answers are held per player: the strings every player shares are held once (SharedStrings), as is the
    // trial information of everything that is not a trial.
    private static Entitlement ToEntitlement(string productId, string skuId, StoreCollectionItem item) => new(
        SharedStrings.Share(productId),
        SharedStrings.Share(skuId),
        SharedStrings.Share(item.Kind),
        SharedStrings.Share(item.AcquisitionType),
        item.Quantity ?? 1,
        item.StartDate!.Value,
        item.EndDate!.Value,
        item.AcquiredDate,
        item.SatisfiedByProductIds is { Count: > 0 } grants ? grants : [],
        Trial(item.TrialData));

    private static TrialInfo Trial(StoreTrialData? trial)
    {
        var remaining = string.IsNullOrEmpty(trial?.TrialTimeRemaining) ? null : trial.TrialTimeRemaining;
        var isTrial = trial?.IsTrial ?? false;
        var inPeriod = trial?.IsInTrialPeriod ?? false;
        return !isTrial && !inPeriod && remaining is null
            ? TrialInfo.None
            : new TrialInfo(isTrial, inPeriod, remaining, StoreJson.ParseTrialTimeRemaining(remaining)?.TotalSeconds);
    }
}

/// <summary>A product asked for: a Store ID and, optionally, one SKU.</summary>
public sealed record ProductSelector(string ProductId, string? SkuId)
{
    public bool Matches(string productId, string skuId) =>
        string.Equals(ProductId, productId, StringComparison.OrdinalIgnoreCase) &&
        (SkuId is null || string.Equals(SkuId, skuId, StringComparison.Ordinal));
}
