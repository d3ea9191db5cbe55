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
    /// <summary>What the player owns at <paramref name="now"/>: <see cref="OwnedAt"/> of the <see cref="Candidates"/>.</summary>
    public static IReadOnlyList<Entitlement> Apply(
        IEnumerable<StoreCollectionItem> items,
        DateTimeOffset now,
        IReadOnlyCollection<ProductSelector>? requested = null,
        IReadOnlySet<string>? productKinds = null) =>
        OwnedAt(Candidates(items, now, requested, productKinds), now);

    /// <summary>
    /// Every copy that is owned now or will be (Active, not yet ended), limited to what was asked for, ordered by
    /// (productId, skuId) and, within one, best first. A cached answer keeps these, not only the copy owned when it was
    /// fetched: when that copy ends, or a later one starts, the answer served from the cache is the Store's own at that
    /// instant (a purchase that ends while a Game Pass grant of the same game goes on, a pre-order that unlocks).
    /// </summary>
    public static IReadOnlyList<Entitlement> Candidates(
        IEnumerable<StoreCollectionItem> items,
        DateTimeOffset now,
        IReadOnlyCollection<ProductSelector>? requested = null,
        IReadOnlySet<string>? productKinds = null)
    {
        List<StoreCollectionItem> all = [.. items];
        var latest = LatestCopies(all);
        var active = all.Where(item => IsActiveBefore(item, now)).ToList();
        var kept = new List<(string ProductId, string SkuId, int Seen, StoreCollectionItem Item)>();
        for (var i = 0; i < active.Count; i++)
        {
            var item = active[i];
            if (IsSuperseded(item, latest)) continue;
            var productId = item.ProductId!.ToUpperInvariant();
            var skuId = item.SkuId ?? "";
            if (requested is not null && !requested.Any(r => r.Matches(productId, skuId))) continue;
            if (productKinds is not null && (item.Kind is null || !productKinds.Contains(item.Kind))) continue;
            kept.Add((productId, skuId, i, item));
        }
        kept.Sort(static (a, b) =>
        {
            var order = string.CompareOrdinal(a.ProductId, b.ProductId);
            if (order == 0) order = string.CompareOrdinal(a.SkuId, b.SkuId);
            if (order == 0) order = Rank(b.Item).CompareTo(Rank(a.Item));
            if (order == 0) order = string.CompareOrdinal(a.Item.Id, b.Item.Id);
            return order != 0 ? order : a.Seen.CompareTo(b.Seen);
        });
        return kept.ConvertAll(k => ToEntitlement(k.ProductId, k.SkuId, k.Item));
    }

    /// <summary>
    /// For each (productId, skuId) of <paramref name="candidates"/> (as <see cref="Candidates"/> orders them), the best
    /// copy owned at <paramref name="now"/>. When that is every candidate (the usual case: one copy each, all started and
    /// none ended), the same list, so a cached answer's JSON can be sent again as it is.
    /// </summary>
    public static IReadOnlyList<Entitlement> OwnedAt(IReadOnlyList<Entitlement> candidates, DateTimeOffset now)
    {
        List<Entitlement>? owned = null;
        Entitlement? chosen = null;
        for (var i = 0; i < candidates.Count; i++)
        {
            var e = candidates[i];
            var take = !(chosen is not null && SameKey(chosen, e)) && IsOwnedAt(e, now);
            if (take) chosen = e;
            if (take && owned is not null) owned.Add(e);
            else if (!take && owned is null) owned = [.. candidates.Take(i)];
        }
        return owned ?? candidates;
    }

    /// <summary>Started and not yet ended at <paramref name="now"/>.</summary>
    public static bool IsOwnedAt(Entitlement entitlement, DateTimeOffset now) => entitlement.StartDate <= now && now < entitlement.EndDate;

    private static bool SameKey(Entitlement a, Entitlement b) =>
        string.Equals(a.ProductId, b.ProductId, StringComparison.Ordinal) && string.Equals(a.SkuId, b.SkuId, StringComparison.Ordinal);

    /// <summary>Active with both dates, and not yet ended at <paramref name="now"/> (it may start later).</summary>
    private static bool IsActiveBefore(StoreCollectionItem item, DateTimeOffset now) =>
        !string.IsNullOrEmpty(item.ProductId) &&
        IsActive(item) &&
        item.StartDate is not null &&
        item.EndDate is { } end && now < end;

    /// <summary>
    /// When one item (productId and id) comes back in copies modified at different instants, the latest is its state,
    /// whatever the others' rank or status: a consumable's balance after a consume or a purchase, an end date moved
    /// earlier, a refund that revoked it while the pages were read (the Store warns that paging can repeat an
    /// entitlement with another status; modifiedDate, which every item has, says which copy is newer). Copies modified
    /// at the same instant are not told apart by it, and a non-Active one of them never hides an Active one. A copy
    /// without a modifiedDate is not known to be older or newer than another, and an Active copy without its start or
    /// end date is no state the item could be owned in: neither stands for the item.
    /// </summary>
    private static Dictionary<(string, string), DateTimeOffset> LatestCopies(List<StoreCollectionItem> items)
    {
        var latest = new Dictionary<(string, string), DateTimeOffset>();
        foreach (var item in items)
        {
            // Copies without an id are not known to be one item.
            if (string.IsNullOrEmpty(item.Id) || string.IsNullOrEmpty(item.ProductId) || item.ModifiedDate is null) continue;
            if (IsActive(item) && (item.StartDate is null || item.EndDate is null)) continue;
            // Read after the checks, not bound by a pattern inside them: the mutation tests can then change each check.
            var modified = item.ModifiedDate.Value;
            var key = (item.ProductId.ToUpperInvariant(), item.Id);
            if (!latest.TryGetValue(key, out var known) || modified > known) latest[key] = modified;
        }
        return latest;
    }

    private static bool IsSuperseded(StoreCollectionItem item, Dictionary<(string, string), DateTimeOffset> latest) =>
        item.Id is not null && item.ModifiedDate is { } modified &&
        latest.TryGetValue((item.ProductId!.ToUpperInvariant(), item.Id), out var newest) && modified < newest;

    private static bool IsActive(StoreCollectionItem item) => string.Equals(item.Status, "Active", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// A full licence beats a trial; a direct purchase beats a bundle or subscription grant; then the later end date;
    /// then the later modification and the later acquisition (a missing date ranks lowest).
    /// </summary>
    private static (bool Full, bool Direct, DateTimeOffset? End, DateTimeOffset? Modified, DateTimeOffset? Acquired) Rank(StoreCollectionItem item) =>
        (item.TrialData?.IsTrial != true, IsDirect(item), item.EndDate, item.ModifiedDate, item.AcquiredDate);

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
        Quantity(item),
        item.StartDate!.Value,
        item.EndDate!.Value,
        item.AcquiredDate,
        item.SatisfiedByProductIds is { Count: > 0 } grants ? grants : [],
        Trial(item.TrialData));

    /// <summary>
    /// The Store says a non-consumable's quantity is always 1, whatever an item carries. A consumable's is its balance:
    /// one the Store did not give (or gave below 0) is not a balance the game may spend, so it is 0 for a managed
    /// consumable; an unmanaged one the Store lists without a quantity is the one purchase awaiting fulfilment.
    /// </summary>
    internal static int Quantity(StoreCollectionItem item) =>
        string.Equals(item.Kind, "Consumable", StringComparison.OrdinalIgnoreCase) ? Math.Max(0, item.Quantity ?? 0)
        : string.Equals(item.Kind, "UnmanagedConsumable", StringComparison.OrdinalIgnoreCase) ? Math.Max(0, item.Quantity ?? 1)
        : 1;

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
