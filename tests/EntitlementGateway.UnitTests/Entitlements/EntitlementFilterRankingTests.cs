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
            ProductKind = "Durable",
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
        var item = Item() with { SatisfiedByProductIds = null, TrialData = null, Quantity = null };

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
}
