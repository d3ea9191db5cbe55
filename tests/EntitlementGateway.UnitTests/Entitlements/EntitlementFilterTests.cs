using EntitlementGateway.Entitlements;
using EntitlementGateway.Store;

namespace EntitlementGateway.UnitTests.Entitlements;

[Collection(EntitlementGateway.UnitTests.Infrastructure.SharedStringsCollection.Name)]
public class EntitlementFilterTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 22, 12, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset Forever = DateTimeOffset.MaxValue;

    private static StoreCollectionItem Item(string productId, string status = "Active", string skuId = "0010",
        string kind = "Durable", string acquisition = "Single", DateTimeOffset? start = null, DateTimeOffset? end = null,
        string[]? satisfiedBy = null, StoreTrialData? trial = null, int quantity = 1) => new()
        {
            Id = Guid.NewGuid().ToString("N"),
            ProductId = productId,
            SkuId = skuId,
            ProductKind = kind,
            Status = status,
            AcquisitionType = acquisition,
            StartDate = start ?? Now.AddDays(-10),
            EndDate = end ?? Forever,
            AcquiredDate = Now.AddDays(-10),
            SatisfiedByProductIds = satisfiedBy ?? [],
            TrialData = trial,
            Quantity = quantity,
        };

    [Theory]
    [InlineData("Revoked")]
    [InlineData("Expired")]
    [InlineData("Banned")]
    [InlineData("Suspended")]
    public void Apply_DropsNonActiveStatuses(string status)
    {
        Assert.Empty(EntitlementFilter.Apply([Item("9N30KZZF4BR9", status)], Now));
    }

    [Fact]
    public void Apply_DropsFutureDatedAndAlreadyEndedItems_AndKeepsTheBoundaries()
    {
        var result = EntitlementFilter.Apply(
        [
            Item("FUTURE000001", start: Now.AddSeconds(1)),
            Item("ENDED0000001", end: Now),
            Item("ENDEDYESTRDY", end: Now.AddDays(-1)),
            Item("STARTSNOW001", start: Now),
            Item("NODATES00001") with { StartDate = null },
        ], Now);

        Assert.Equal(["STARTSNOW001"], result.Select(e => e.ProductId));
    }

    [Fact]
    public void Apply_DuplicatesAcrossPagesWithDifferentStatuses_KeepsOneActive()
    {
        // Page 1 says Active, page 2 repeats it Revoked, page 3 Expired (the Store does this even with excludeDuplicates).
        var page1 = new[] { Item("9N30KZZF4BR9") };
        var page2 = new[] { Item("9N30KZZF4BR9", "Revoked"), Item("9MXL21XPWWWK", kind: "Game") };
        var page3 = new[] { Item("9N30KZZF4BR9", "Expired"), Item("9MXL21XPWWWK", "Revoked", kind: "Game") };

        var result = EntitlementFilter.Apply(page1.Concat(page2).Concat(page3), Now);

        var single = Assert.Single(result, e => e.ProductId == "9N30KZZF4BR9");
        Assert.Equal("Durable", single.ProductKind);
        Assert.Equal(2, result.Count);
    }

    [Fact]
    public void Apply_PrefersDirectPurchaseOverBundleOrSubscriptionGrant()
    {
        var bundle = Item("9N30KZZF4BR9", acquisition: "Single", satisfiedBy: ["9BUNDLE00001"], end: Forever);
        var subscription = Item("9N30KZZF4BR9", acquisition: "Recurring", end: Now.AddDays(300));
        var direct = Item("9N30KZZF4BR9", acquisition: "Single", end: Now.AddDays(30));

        foreach (var order in new[] { new[] { bundle, subscription, direct }, [direct, bundle, subscription], [subscription, direct, bundle] })
        {
            var result = Assert.Single(EntitlementFilter.Apply(order, Now));
            Assert.Equal("Single", result.AcquisitionType);
            Assert.Empty(result.SatisfiedByProductIds);
            Assert.Equal(direct.EndDate, result.EndDate);
        }
    }

    [Fact]
    public void Apply_AmongGrantsOfTheSameKind_PrefersTheLaterEndDate()
    {
        var soon = Item("9N30KZZF4BR9", acquisition: "Recurring", end: Now.AddDays(3));
        var later = Item("9N30KZZF4BR9", acquisition: "Recurring", end: Now.AddDays(40));

        Assert.Equal(later.EndDate, Assert.Single(EntitlementFilter.Apply([soon, later], Now)).EndDate);
        Assert.Equal(later.EndDate, Assert.Single(EntitlementFilter.Apply([later, soon], Now)).EndDate);
    }

    [Fact]
    public void Apply_KeepsDifferentSkusOfOneProductApart()
    {
        var result = EntitlementFilter.Apply([Item("9N30KZZF4BR9", skuId: "0010"), Item("9N30KZZF4BR9", skuId: "0011")], Now);
        Assert.Equal(["0010", "0011"], result.Select(e => e.SkuId));
    }

    [Fact]
    public void Apply_BundleContentsCarryTheirParent()
    {
        var result = EntitlementFilter.Apply(
        [
            Item("9BUNDLE00001", kind: "Durable"),
            Item("9N30KZZF4BR9", kind: "Game", satisfiedBy: ["9BUNDLE00001"]),
        ], Now);

        Assert.Equal(["9BUNDLE00001"], result.Single(e => e.ProductId == "9N30KZZF4BR9").SatisfiedByProductIds);
    }

    [Fact]
    public void Apply_MapsTrialData()
    {
        var trial = new StoreTrialData { IsTrial = true, IsInTrialPeriod = true, TrialTimeRemaining = "09:43:52.8580690" };
        var result = Assert.Single(EntitlementFilter.Apply([Item("9MXL21XPWWWK", kind: "Game", trial: trial)], Now));

        // HH:MM:SS.fffffff, as the documentation's example writes it: 9 h 43 min 52.858069 s.
        Assert.Equal(new TrialInfo(true, true, "09:43:52.8580690", 35032.858069), result.Trial);
    }

    [Fact]
    public void Apply_NoTrial_SharesOneNotATrialInstance()
    {
        var noData = Assert.Single(EntitlementFilter.Apply([Item("9MXL21XPWWWK")], Now));
        var allFalse = Assert.Single(EntitlementFilter.Apply(
            [Item("9N30KZZF4BR9", trial: new StoreTrialData { IsTrial = false, IsInTrialPeriod = false, TrialTimeRemaining = "" })], Now));

        Assert.Same(TrialInfo.None, noData.Trial);
        Assert.Same(TrialInfo.None, allFalse.Trial);
        Assert.Equal(new TrialInfo(false, false, null, null), TrialInfo.None);
    }

    [Theory]
    [InlineData(true, false, null)]
    [InlineData(false, true, null)]
    [InlineData(false, false, "00:10:00")]
    public void Apply_AnyTrialInformation_IsKeptAsSent(bool isTrial, bool inPeriod, string? remaining)
    {
        var trial = new StoreTrialData { IsTrial = isTrial, IsInTrialPeriod = inPeriod, TrialTimeRemaining = remaining };
        var result = Assert.Single(EntitlementFilter.Apply([Item("9MXL21XPWWWK", trial: trial)], Now));

        Assert.Equal(new TrialInfo(isTrial, inPeriod, remaining, remaining is null ? null : 600), result.Trial);
    }

    [Fact]
    public void Apply_AnswersForDifferentPlayers_ShareTheirRepeatingStrings()
    {
        // Each player's Store answer is read into its own strings; the entitlements kept for each hold one instance.
        // The table keeps the last value per slot, and tests running beside this one share strings too: one of them
        // landing in the same slot between the two answers costs that share, so the pair is tried a few times.
        static string Copy(string value) => new(value.AsSpan());
        Entitlement Read() => Assert.Single(EntitlementFilter.Apply(
            [Item(Copy("9N30KZZF4BR9"), skuId: Copy("0010"), kind: Copy("Durable"), acquisition: Copy("Single"))], Now));
        static bool AllShared(Entitlement a, Entitlement b) => ReferenceEquals(a.ProductId, b.ProductId) && ReferenceEquals(a.SkuId, b.SkuId)
            && ReferenceEquals(a.ProductKind, b.ProductKind) && ReferenceEquals(a.AcquisitionType, b.AcquisitionType);

        var shared = Enumerable.Range(0, 5).Select(_ => (First: Read(), Second: Read())).Any(pair => AllShared(pair.First, pair.Second));

        Assert.True(shared);
        Assert.Same(Array.Empty<string>(), Read().SatisfiedByProductIds);
    }

    [Fact]
    public void Apply_OnlyReturnsRequestedProductsAndSkus_AndRequestedKinds()
    {
        var items = new[]
        {
            Item("9N30KZZF4BR9", skuId: "0010"),
            Item("9N30KZZF4BR9", skuId: "0011"),
            Item("9MXL21XPWWWK", kind: "Game"),
            Item("9NOTASKED001"),
        };
        var requested = new[] { new ProductSelector("9N30KZZF4BR9", "0010"), new ProductSelector("9MXL21XPWWWK", null) };

        var all = EntitlementFilter.Apply(items, Now, requested);
        Assert.Equal(["9MXL21XPWWWK/0010", "9N30KZZF4BR9/0010"], all.Select(e => $"{e.ProductId}/{e.SkuId}"));

        var games = EntitlementFilter.Apply(items, Now, requested, new HashSet<string> { "Game" });
        Assert.Equal(["9MXL21XPWWWK"], games.Select(e => e.ProductId));
    }

    [Fact]
    public void Apply_AcceptsProductTypeWhenProductKindIsMissing()
    {
        var item = Item("9N30KZZF4BR9") with { ProductKind = null, ProductType = "Consumable", Quantity = 25 };
        var result = Assert.Single(EntitlementFilter.Apply([item], Now, productKinds: new HashSet<string> { "Consumable" }));
        Assert.Equal(("Consumable", 25), (result.ProductKind, result.Quantity));
    }

    [Theory]
    [InlineData("Durable", 5, 1)]
    [InlineData("Game", 0, 1)]
    [InlineData("Durable", -1, 1)]
    [InlineData("Pass", null, 1)]
    [InlineData("Consumable", 7, 7)]
    [InlineData("consumable", 7, 7)]
    [InlineData("Consumable", -5, 0)]
    [InlineData("Consumable", null, 0)]
    [InlineData("UnmanagedConsumable", 3, 3)]
    [InlineData("UnmanagedConsumable", -2, 0)]
    [InlineData("UnmanagedConsumable", null, 1)]
    public void Quantity_IsOneForWhatIsNotAConsumable_AndAConsumablesBalanceNeverBelowZero(string kind, int? stored, int answered)
    {
        var item = new StoreCollectionItem { ProductId = "9N30KZZF4BR9", ProductKind = kind, Quantity = stored };

        Assert.Equal(answered, EntitlementFilter.Quantity(item));
    }
}
