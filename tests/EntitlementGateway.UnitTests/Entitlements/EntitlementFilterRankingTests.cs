using EntitlementGateway.Entitlements;
using EntitlementGateway.Store;

namespace EntitlementGateway.UnitTests.Entitlements;

/// <summary>The dedupe's tie-breaks and the mapping of fields the Store may leave out.</summary>
public class EntitlementFilterRankingTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 22, 12, 0, 0, TimeSpan.Zero);

    private static StoreCollectionItem Item(string acquisition = "Single", DateTimeOffset? end = null, DateTimeOffset? acquired = null,
        int quantity = 1, string? skuId = "0010") => new()
        {
            ProductId = "9N30KZZF4BR9",
            SkuId = skuId,
            // A consumable: its quantity is its balance, passed on, so it tells which copy won.
            ProductKind = "Consumable",
            Status = "Active",
            AcquisitionType = acquisition,
            StartDate = Now.AddDays(-10),
            EndDate = end ?? Now.AddDays(30),
            AcquiredDate = acquired ?? Now.AddDays(-10),
            Quantity = quantity,
        };

    [Fact]
    public void Apply_SameKindAndEndDate_PrefersTheLaterAcquisition_InEitherOrder()
    {
        var older = Item(acquired: Now.AddDays(-9), quantity: 1);
        var newer = Item(acquired: Now.AddDays(-2), quantity: 2);

        Assert.Equal(2, Assert.Single(EntitlementFilter.Apply([older, newer], Now)).Quantity);
        Assert.Equal(2, Assert.Single(EntitlementFilter.Apply([newer, older], Now)).Quantity);
    }

    [Fact]
    public void Apply_AConsumableListedAsTwoActiveItems_IsOneBalance_NotTheirSum()
    {
        // The Store keeps one balance per product: adding up two listings of it could grant it twice.
        var first = Item(acquired: Now.AddDays(-9), quantity: 5) with { ProductKind = "Consumable", Id = "c1" };
        var second = Item(acquired: Now.AddDays(-2), quantity: 3) with { ProductKind = "Consumable", Id = "c2" };

        Assert.Equal(3, Assert.Single(EntitlementFilter.Apply([first, second], Now)).Quantity);
        Assert.Equal(3, Assert.Single(EntitlementFilter.Apply([second, first], Now)).Quantity);
    }

    [Fact]
    public void Apply_AnItemWithAnAcquiredDate_BeatsOneWithout()
    {
        var undated = Item(quantity: 1) with { AcquiredDate = null };
        var dated = Item(acquired: Now.AddDays(-100), quantity: 2);

        Assert.Equal(2, Assert.Single(EntitlementFilter.Apply([undated, dated], Now)).Quantity);
        Assert.Equal(2, Assert.Single(EntitlementFilter.Apply([dated, undated], Now)).Quantity);
    }

    [Fact]
    public void Apply_OnAFullTie_KeepsTheItemSeenFirst()
    {
        // Same rank on every criterion: the answer must not depend on which page repeated the item last.
        var first = Item(quantity: 1);
        var repeat = Item(quantity: 2);

        Assert.Equal(1, Assert.Single(EntitlementFilter.Apply([first, repeat], Now)).Quantity);
    }

    [Fact]
    public void Apply_DirectPurchaseWithTheEarlierEndDate_StillBeatsALaterGrant_InEitherOrder()
    {
        var direct = Item("Single", end: Now.AddDays(1), quantity: 1);
        var grant = Item("Recurring", end: Now.AddDays(300), quantity: 2);

        Assert.Equal("Single", Assert.Single(EntitlementFilter.Apply([direct, grant], Now)).AcquisitionType);
        Assert.Equal("Single", Assert.Single(EntitlementFilter.Apply([grant, direct], Now)).AcquisitionType);
    }

    [Fact]
    public void Apply_ItemWithoutSkuId_IsAnsweredWithAnEmptySku_AndMatchesAProductOnlySelector()
    {
        var result = Assert.Single(EntitlementFilter.Apply([Item(skuId: null)], Now, [new ProductSelector("9N30KZZF4BR9", null)]));

        Assert.Equal("", result.SkuId);
    }

    [Fact]
    public void Apply_ItemWithoutSatisfiedByOrTrialData_AnswersAnEmptyListAndNoTrial()
    {
        var item = Item() with { ProductKind = "Durable", SatisfiedByProductIds = null, TrialData = null, Quantity = null };

        var result = Assert.Single(EntitlementFilter.Apply([item], Now));

        Assert.NotNull(result.SatisfiedByProductIds);
        Assert.Empty(result.SatisfiedByProductIds);
        Assert.Equal(new TrialInfo(false, false, null), result.Trial);
        Assert.Equal(1, result.Quantity);
    }

    [Fact]
    public void Apply_TrialDataWithAnEmptyTimeRemaining_AnswersNoTimeRemaining()
    {
        var item = Item() with { TrialData = new StoreTrialData { IsTrial = true, IsInTrialPeriod = false, TrialTimeRemaining = "" } };

        Assert.Equal(new TrialInfo(true, false, null), Assert.Single(EntitlementFilter.Apply([item], Now)).Trial);
    }
    private static readonly StoreTrialData ATrial = new() { IsTrial = true, IsInTrialPeriod = true, TrialTimeRemaining = "09:43:52.8580690" };

    [Fact]
    public void Apply_AFullLicence_BeatsATrialOfTheSameSku_DirectOrGranted_InEitherOrder()
    {
        var trial = Item(quantity: 1) with { TrialData = ATrial };
        var bought = Item(end: Now.AddDays(1), quantity: 2);
        var granted = Item("Recurring", quantity: 3) with { SatisfiedByProductIds = ["CFQ7TTC0KHS0"] };

        Assert.Equal(2, Assert.Single(EntitlementFilter.Apply([trial, bought], Now)).Quantity);
        Assert.Equal(2, Assert.Single(EntitlementFilter.Apply([bought, trial], Now)).Quantity);
        Assert.Equal(3, Assert.Single(EntitlementFilter.Apply([trial, granted], Now)).Quantity);
        Assert.Equal(3, Assert.Single(EntitlementFilter.Apply([granted, trial], Now)).Quantity);
        Assert.True(Assert.Single(EntitlementFilter.Apply([trial], Now)).Trial.IsTrial);
    }

    [Fact]
    public void Apply_OneItemRepeatedWithALaterModification_IsInItsLatestState_InEitherOrder()
    {
        // The same item (productId and id) in two Active copies: the later-modified copy is the item now.
        var active = Item(quantity: 5) with { Id = "item-1", ModifiedDate = Now.AddHours(-1) };
        var consumed = active with { Quantity = 2, ModifiedDate = Now.AddSeconds(-10) };
        var repeatedRevoked = active with { Status = "Revoked", ModifiedDate = Now.AddSeconds(-5) };

        Assert.Equal(2, Assert.Single(EntitlementFilter.Apply([active, consumed], Now)).Quantity);
        Assert.Equal(2, Assert.Single(EntitlementFilter.Apply([consumed, active], Now)).Quantity);
        // Copies modified at the same instant (or undated) are not told apart by it: the rank decides.
        Assert.Equal(5, Assert.Single(EntitlementFilter.Apply([active with { ModifiedDate = null }, consumed with { ModifiedDate = null, AcquiredDate = Now.AddDays(-20) }], Now)).Quantity);
        // Another product's item with the same id is another item.
        Assert.Equal(2, EntitlementFilter.Apply([active, consumed with { ProductId = "9MXL21XPWWWK" }], Now).Count);
        // A later copy with another status is the item now (revoked while the pages were read), in any order; at the
        // same instant it does not hide the Active copy.
        Assert.Empty(EntitlementFilter.Apply([active, repeatedRevoked], Now));
        Assert.Empty(EntitlementFilter.Apply([repeatedRevoked, consumed, active], Now));
        Assert.Equal(2, Assert.Single(EntitlementFilter.Apply([repeatedRevoked with { ModifiedDate = consumed.ModifiedDate }, consumed, active], Now)).Quantity);
        Assert.Equal(2, Assert.Single(EntitlementFilter.Apply([repeatedRevoked with { ModifiedDate = Now.AddHours(-2) }, consumed, active], Now)).Quantity);
        // An older Revoked copy does not hide a later Active one (a chargeback reversed), nor does one of another item.
        Assert.Equal(5, Assert.Single(EntitlementFilter.Apply([active with { ModifiedDate = Now }, repeatedRevoked], Now)).Quantity);
        Assert.Equal(5, Assert.Single(EntitlementFilter.Apply([active, repeatedRevoked with { Id = "item-2" }], Now)).Quantity);
    }

    [Fact]
    public void Apply_ACopyWithoutAModificationDate_NeitherHidesNorIsHidden_TheRankDecides()
    {
        var dated = Item(end: Now.AddDays(5), quantity: 2) with { Id = "item-1", ModifiedDate = Now.AddMinutes(-1) };
        var undated = Item(end: Now.AddDays(30), quantity: 5) with { Id = "item-1", ModifiedDate = null };
        var revoked = dated with { Status = "Revoked", ModifiedDate = Now };

        // The undated copy's later end ranks it first; a dated copy, Active or not, is not known to be newer.
        Assert.Equal(5, Assert.Single(EntitlementFilter.Apply([dated, undated], Now)).Quantity);
        Assert.Equal(5, Assert.Single(EntitlementFilter.Apply([undated, revoked], Now)).Quantity);
        // Nor does an undated Revoked copy hide a dated Active one.
        Assert.Equal(2, Assert.Single(EntitlementFilter.Apply([dated, revoked with { ModifiedDate = null }], Now)).Quantity);
    }

    [Fact]
    public void Apply_ALaterActiveCopyWithoutItsStartOrEndDate_DoesNotHideTheCopyThatIsOwned()
    {
        var owned = Item(quantity: 3) with { Id = "item-1", ModifiedDate = Now.AddHours(-1) };

        Assert.Equal(3, Assert.Single(EntitlementFilter.Apply([owned, owned with { EndDate = null, ModifiedDate = Now }], Now)).Quantity);
        Assert.Equal(3, Assert.Single(EntitlementFilter.Apply([owned, owned with { StartDate = null, ModifiedDate = Now }], Now)).Quantity);
        // A later copy with both dates does (its balance is the item's now), in any letter case of its status.
        Assert.Equal(7, Assert.Single(EntitlementFilter.Apply([owned, owned with { Quantity = 7, Status = "active", ModifiedDate = Now }], Now)).Quantity);
        Assert.Empty(EntitlementFilter.Apply([owned, owned with { StartDate = null, Status = "Revoked", ModifiedDate = Now }], Now));
    }

    [Fact]
    public void Apply_OneItemsLatestCopyEnded_IsNotOwned_ThoughAnOlderCopyRunsOn()
    {
        var older = Item(end: Now.AddDays(30)) with { Id = "item-1", ModifiedDate = Now.AddHours(-1) };
        var ended = older with { EndDate = Now.AddSeconds(-1), ModifiedDate = Now.AddMinutes(-1) };

        Assert.Empty(EntitlementFilter.Apply([older, ended], Now));
        Assert.Empty(EntitlementFilter.Apply([ended, older], Now));
        // A copy without a product is no item's copy.
        Assert.Single(EntitlementFilter.Apply([older, ended with { ProductId = null }], Now));
    }

    [Fact]
    public void Apply_OneItemsLatestCopy_StandsEvenWhenAnOlderCopyRanksHigher_InEitherOrder()
    {
        // The later copy of the same item ends sooner (its end moved earlier): the older copy's later end is no longer true.
        var older = Item(end: Now.AddDays(30), quantity: 5) with { Id = "item-1", ModifiedDate = Now.AddHours(-1) };
        var latest = older with { EndDate = Now.AddDays(1), Quantity = 2, ModifiedDate = Now.AddSeconds(-10) };
        var otherItem = older with { Id = "item-2", Quantity = 7, ModifiedDate = Now.AddDays(-3) };

        Assert.Equal(2, Assert.Single(EntitlementFilter.Apply([older, latest], Now)).Quantity);
        Assert.Equal(2, Assert.Single(EntitlementFilter.Apply([latest, older], Now)).Quantity);
        Assert.Empty(EntitlementFilter.OwnedAt(EntitlementFilter.Candidates([older, latest], Now), Now.AddDays(2)));
        // Another id, or no id at all, is another item: the rank decides between them.
        Assert.Equal(7, Assert.Single(EntitlementFilter.Apply([latest, otherItem], Now)).Quantity);
        Assert.Equal(5, Assert.Single(EntitlementFilter.Apply([latest with { Id = null }, older with { Id = null }], Now)).Quantity);
        Assert.Equal(5, Assert.Single(EntitlementFilter.Apply([latest with { Id = "" }, older with { Id = "" }], Now)).Quantity);
    }

    [Fact]
    public void Apply_OnAFullTieAmongMany_KeepsTheItemSeenFirst()
    {
        // Past 16 items the sort is not stable by itself; an item of another product ahead of them moves the tied group's
        // first item away from the start, where an unstable sort would leave it anyway.
        var tied = Enumerable.Range(1, 40).Select(q => Item(quantity: q)).ToList();
        var earlierProduct = Item(quantity: 99) with { ProductId = "9AAAAAAAAAAA" };

        Assert.Equal(1, Assert.Single(EntitlementFilter.Apply(tied, Now)).Quantity);
        Assert.Equal([99, 1], EntitlementFilter.Apply([earlierProduct, .. tied], Now).Select(e => e.Quantity));
    }

    [Fact]
    public void Apply_TwoItemsOfOneSkuOtherwiseTied_AnswerTheSameWhateverTheirOrder()
    {
        var five = Item(quantity: 5) with { Id = "b" };
        var seven = Item(quantity: 7) with { Id = "a" };
        var laterModified = Item(quantity: 9) with { Id = "c", ModifiedDate = Now.AddMinutes(-1) };

        Assert.Equal(7, Assert.Single(EntitlementFilter.Apply([five, seven], Now)).Quantity);
        Assert.Equal(7, Assert.Single(EntitlementFilter.Apply([seven, five], Now)).Quantity);
        Assert.Equal(9, Assert.Single(EntitlementFilter.Apply([five, laterModified, seven], Now)).Quantity);
    }

    [Fact]
    public void OwnedAt_ALaterInstant_ServesTheCandidateOwnedThen()
    {
        var purchase = Item(end: Now.AddSeconds(4), quantity: 1);
        var grant = Item("Recurring", quantity: 2) with { SatisfiedByProductIds = ["CFQ7TTC0KHS0"] };
        var preorder = Item(quantity: 3, skuId: "0011") with { StartDate = Now.AddSeconds(4) };
        var ended = Item(end: Now, quantity: 4, skuId: "0012");

        var candidates = EntitlementFilter.Candidates([grant, preorder, purchase, ended], Now);

        Assert.Equal([1, 2, 3], candidates.Select(c => c.Quantity));
        Assert.Equal([1], EntitlementFilter.OwnedAt(candidates, Now).Select(e => e.Quantity));
        Assert.Equal([2, 3], EntitlementFilter.OwnedAt(candidates, Now.AddSeconds(4)).Select(e => e.Quantity));
    }

    [Fact]
    public void OwnedAt_EveryCandidateOwned_IsTheSameList_AndOtherwiseANewOne()
    {
        var candidates = EntitlementFilter.Candidates([Item(quantity: 1), Item(quantity: 2, skuId: "0011")], Now);
        var twoCopies = EntitlementFilter.Candidates([Item(quantity: 1), Item(end: Now.AddDays(1), quantity: 2)], Now);

        Assert.Same(candidates, EntitlementFilter.OwnedAt(candidates, Now));
        Assert.Equal(2, twoCopies.Count);
        Assert.NotSame(twoCopies, EntitlementFilter.OwnedAt(twoCopies, Now));
        Assert.Equal([1], EntitlementFilter.OwnedAt(twoCopies, Now).Select(e => e.Quantity));
    }

    [Theory]
    [InlineData("Consumable", 0)]
    [InlineData("consumable", 0)]
    [InlineData("UnmanagedConsumable", 1)]
    [InlineData("Durable", 1)]
    [InlineData("Game", 1)]
    public void Apply_AnItemWithoutQuantity_IsOneUnlessItIsAConsumableWhoseBalanceTheStoreDidNotGive(string kind, int quantity)
    {
        var item = Item() with { ProductKind = kind, Quantity = null };

        Assert.Equal(quantity, Assert.Single(EntitlementFilter.Apply([item], Now)).Quantity);
    }
}
