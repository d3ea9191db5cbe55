using EntitlementGateway.Entitlements;
using EntitlementGateway.Entitlements.Caching;
using EntitlementGateway.Hosting;
using EntitlementGateway.UnitTests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using EntitlementGateway.Infrastructure.Redis;

namespace EntitlementGateway.UnitTests.Entitlements.Caching;

public class ResultCacheTests
{
    private static readonly Entitlement Game = new("9MXL21XPWWWK", "0010", "Game", "Single", 1,
        DateTimeOffset.UnixEpoch, DateTimeOffset.MaxValue, null, [], new TrialInfo(false, false, null));

    private static ResultCache Create(ManualTimeProvider time, int maxEntries = 100) => new(
        Options.Create(new CacheOptions { Ttl = TimeSpan.FromSeconds(60), MaxStale = TimeSpan.FromMinutes(15), MaxEntries = maxEntries }),
        Options.Create(new RedisOptions()), time, NullLogger<ResultCache>.Instance);

    [Fact]
    public async Task Entry_IsFreshForTheTtl_ThenStaleUntilMaxStale_ThenGone()
    {
        var time = new ManualTimeProvider();
        using var cache = Create(time);
        var stored = await cache.SetAsync("k", "p", [Game], time.GetUtcNow(), CancellationToken.None);
        Assert.Equal(time.GetUtcNow() + TimeSpan.FromSeconds(60), stored.FreshUntil);
        Assert.Equal(time.GetUtcNow() + TimeSpan.FromMinutes(15), stored.StaleUntil);

        time.Advance(TimeSpan.FromSeconds(59));
        var fresh = await cache.GetAsync("k", "p", CancellationToken.None);
        Assert.True(time.GetUtcNow() < fresh!.FreshUntil);

        time.Advance(TimeSpan.FromMinutes(10));
        var stale = await cache.GetAsync("k", "p", CancellationToken.None);
        Assert.NotNull(stale);
        Assert.True(time.GetUtcNow() >= stale.FreshUntil);
        Assert.Equal(Game, Assert.Single(stale.Entitlements));

        time.Advance(TimeSpan.FromMinutes(5));
        Assert.Null(await cache.GetAsync("k", "p", CancellationToken.None));
    }

    [Fact]
    public async Task AnAnswerFetchedEarlier_StoredAfterALaterOne_DoesNotReplaceIt()
    {
        // A no-cache query's own fetch can end before a plain flight begun earlier: the later fetch's answer stays.
        var time = new ManualTimeProvider();
        using var cache = Create(time);
        var earlier = time.GetUtcNow();
        time.Advance(TimeSpan.FromMilliseconds(100));
        var later = await cache.SetAsync("k", "p", [Game], time.GetUtcNow(), CancellationToken.None);

        await cache.SetAsync("k", "p", [], earlier, CancellationToken.None);

        Assert.Same(later, await cache.GetAsync("k", "p", CancellationToken.None));
    }

    [Fact]
    public async Task Refresh_WithTheSameAnswer_KeepsTheEntrysObjectsAndHitJson_WithTheNewLifetimes()
    {
        var time = new ManualTimeProvider();
        using var cache = Create(time);
        var first = await cache.SetAsync("k", "p", [Game with { SatisfiedByProductIds = ["9NBLGGH4R315"] }], time.GetUtcNow(), CancellationToken.None);
        first.HitAnswer.Json = [1, 2, 3];
        time.Advance(TimeSpan.FromSeconds(30));

        var fetched = new List<Entitlement> { Game with { SatisfiedByProductIds = ["9NBLGGH4R315"] } };
        var second = await cache.SetAsync("k", "p", fetched, time.GetUtcNow(), CancellationToken.None);

        Assert.Same(first.Entitlements, second.Entitlements);
        Assert.Same(first.HitAnswer, second.HitAnswer);
        Assert.Equal(time.GetUtcNow(), second.StoredAt);
        Assert.Equal(time.GetUtcNow() + TimeSpan.FromSeconds(60), second.FreshUntil);
        Assert.Equal(time.GetUtcNow() + TimeSpan.FromMinutes(15), second.StaleUntil);
        Assert.Same(second, await cache.GetAsync("k", "p", CancellationToken.None));
    }

    [Fact]
    public async Task Refresh_WithAChangedAnswer_ReplacesTheEntryAndItsHitJson()
    {
        var time = new ManualTimeProvider();
        using var cache = Create(time);
        var first = await cache.SetAsync("k", "p", [Game], time.GetUtcNow(), CancellationToken.None);
        first.HitAnswer.Json = [1, 2, 3];

        var second = await cache.SetAsync("k", "p", [Game with { Quantity = 2 }], time.GetUtcNow(), CancellationToken.None);

        Assert.Equal(2, Assert.Single(second.Entitlements).Quantity);
        Assert.Null(second.HitAnswer.Json);
        Assert.Same(second, await cache.GetAsync("k", "p", CancellationToken.None));
    }

    [Fact]
    public async Task Refresh_ChangedOrNot_UpdatesTheAnswerInItsL1Place_RatherThanReplacingTheCachesEntry()
    {
        // A new cache entry, key and options per refresh died in the old generation once the old ones were long-lived.
        var time = new ManualTimeProvider();
        using var cache = Create(time);
        await cache.SetAsync("k", "p", [Game], time.GetUtcNow(), CancellationToken.None);
        var place = cache.L1Slot("k");
        Assert.NotNull(place);

        time.Advance(TimeSpan.FromSeconds(30));
        var same = await cache.SetAsync("k", "p", [Game], time.GetUtcNow(), CancellationToken.None);
        Assert.Same(place, cache.L1Slot("k"));
        Assert.Same(same, await cache.GetAsync("k", "p", CancellationToken.None));

        var changed = await cache.SetAsync("k", "p", [Game with { Quantity = 3 }], time.GetUtcNow(), CancellationToken.None);
        Assert.Same(place, cache.L1Slot("k"));
        Assert.Same(changed, await cache.GetAsync("k", "p", CancellationToken.None));
    }

    [Fact]
    public async Task Refresh_AfterTheAnswerWasForgotten_MakesANewL1Place()
    {
        var time = new ManualTimeProvider();
        using var cache = Create(time);
        await cache.SetAsync("k", "p", [Game], time.GetUtcNow(), CancellationToken.None);
        var place = cache.L1Slot("k");

        await cache.RemoveAsync("k", CancellationToken.None);
        Assert.Null(cache.L1Slot("k"));
        Assert.Null(await cache.GetAsync("k", "p", CancellationToken.None));
        var again = await cache.SetAsync("k", "p", [Game], time.GetUtcNow(), CancellationToken.None);

        Assert.NotNull(cache.L1Slot("k"));
        Assert.NotSame(place, cache.L1Slot("k"));
        Assert.Same(again, await cache.GetAsync("k", "p", CancellationToken.None));
    }

    [Fact]
    public async Task Refresh_WithAnAnswerAlreadyPastItsStaleLimit_KeepsTheOlderAnswer()
    {
        var time = new ManualTimeProvider();
        using var cache = Create(time);
        var held = await cache.SetAsync("k", "p", [Game], time.GetUtcNow(), CancellationToken.None);

        // Fetched (begun) more than MaxStale ago: nothing to keep it for, and it must not replace the answer held.
        await cache.SetAsync("k", "p", [Game with { Quantity = 5 }], time.GetUtcNow() - TimeSpan.FromMinutes(16), CancellationToken.None);

        Assert.Same(held, await cache.GetAsync("k", "p", CancellationToken.None));
    }

    public static TheoryData<string> EntitlementChanges() => new()
    {
        "ProductId", "SkuId", "ProductKind", "ProductKind null", "AcquisitionType", "AcquisitionType null", "Quantity",
        "StartDate", "StartDate offset", "EndDate", "EndDate offset", "AcquiredDate", "AcquiredDate null", "AcquiredDate offset",
        "SatisfiedByProductIds", "SatisfiedByProductIds longer", "Trial", "Trial remaining",
    };

    private static readonly Entitlement Full = new("9MXL21XPWWWK", "0010", "Game", "Single", 1,
        new DateTimeOffset(2021, 8, 30, 19, 40, 44, TimeSpan.Zero), new DateTimeOffset(2031, 8, 30, 19, 40, 44, TimeSpan.Zero),
        new DateTimeOffset(2021, 8, 30, 19, 55, 44, TimeSpan.Zero), ["9NBLGGH4R315"], new TrialInfo(true, true, "09:43:52", 35032));

    [Theory]
    [MemberData(nameof(EntitlementChanges))]
    public void SameAnswer_IsFalse_WhenAnyFieldTheAnswerShowsDiffers(string change)
    {
        var changed = change switch
        {
            "ProductId" => Full with { ProductId = "9NBLGGH4R316" },
            "SkuId" => Full with { SkuId = "0011" },
            "ProductKind" => Full with { ProductKind = "Durable" },
            "ProductKind null" => Full with { ProductKind = null },
            "AcquisitionType" => Full with { AcquisitionType = "Recurring" },
            "AcquisitionType null" => Full with { AcquisitionType = null },
            "Quantity" => Full with { Quantity = 2 },
            "StartDate" => Full with { StartDate = Full.StartDate.AddTicks(1) },
            // The same instant written with another offset is another answer JSON.
            "StartDate offset" => Full with { StartDate = Full.StartDate.ToOffset(TimeSpan.FromHours(2)) },
            "EndDate" => Full with { EndDate = Full.EndDate.AddTicks(1) },
            "EndDate offset" => Full with { EndDate = Full.EndDate.ToOffset(TimeSpan.FromHours(-5)) },
            "AcquiredDate" => Full with { AcquiredDate = Full.AcquiredDate!.Value.AddTicks(1) },
            "AcquiredDate null" => Full with { AcquiredDate = null },
            "AcquiredDate offset" => Full with { AcquiredDate = Full.AcquiredDate!.Value.ToOffset(TimeSpan.FromHours(1)) },
            "SatisfiedByProductIds" => Full with { SatisfiedByProductIds = ["9NBLGGH4R317"] },
            "SatisfiedByProductIds longer" => Full with { SatisfiedByProductIds = ["9NBLGGH4R315", "9NBLGGH4R317"] },
            "Trial" => Full with { Trial = Full.Trial with { IsInTrialPeriod = false } },
            "Trial remaining" => Full with { Trial = new TrialInfo(true, true, "09:43:51", 35031) },
            _ => throw new ArgumentOutOfRangeException(nameof(change)),
        };

        Assert.False(ResultCache.SameAnswer([Full], [changed]));
        Assert.False(ResultCache.SameAnswer([changed], [Full]));
    }

    [Fact]
    public void SameAnswer_ComparesEveryEntitlementInOrder_AndTheirCount()
    {
        var copy = Full with { SatisfiedByProductIds = [.. Full.SatisfiedByProductIds], Trial = Full.Trial with { } };
        Assert.True(ResultCache.SameAnswer([Full, Game], [copy, Game]));
        Assert.True(ResultCache.SameAnswer([], []));
        Assert.False(ResultCache.SameAnswer([Full, Game], [Game, copy]));
        Assert.False(ResultCache.SameAnswer([Full, Game], [copy]));
        Assert.False(ResultCache.SameAnswer([Full], [copy, Game]));
        Assert.False(ResultCache.SameAnswer([Full, Game], [copy, Game with { Quantity = 3 }]));
    }

    [Fact]
    public void SameAnswer_CoversEveryFieldOfAnEntitlement()
    {
        // A field added to Entitlement must be added to the comparison (and to the theory above) too.
        Assert.Equal(
            ["AcquiredDate", "AcquisitionType", "EndDate", "ProductId", "ProductKind", "Quantity", "SatisfiedByProductIds", "SkuId", "StartDate", "Trial"],
            typeof(Entitlement).GetConstructors().Single().GetParameters().Select(p => p.Name!).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Remove_ForgetsTheEntry()
    {
        var time = new ManualTimeProvider();
        using var cache = Create(time);
        await cache.SetAsync("k", "p", [Game], time.GetUtcNow(), CancellationToken.None);
        await cache.RemoveAsync("k", CancellationToken.None);
        Assert.Null(await cache.GetAsync("k", "p", CancellationToken.None));
        Assert.False(cache.UsesRedis);
    }

    [Fact]
    public async Task DropPlayer_HidesThatPlayersAnswers_FreshAndStale_AndNoOneElses()
    {
        var time = new ManualTimeProvider();
        using var cache = Create(time);
        await cache.SetAsync("fresh", "p", [Game], time.GetUtcNow(), CancellationToken.None);
        await cache.SetAsync("old", "p", [Game], time.GetUtcNow() - TimeSpan.FromMinutes(5), CancellationToken.None);
        await cache.SetAsync("other", "q", [Game], time.GetUtcNow(), CancellationToken.None);
        time.Advance(TimeSpan.FromSeconds(1));

        Assert.True(await cache.DropPlayerAsync("p", CancellationToken.None));

        Assert.Null(await cache.GetAsync("fresh", "p", CancellationToken.None));
        Assert.Null(await cache.GetAsync("old", "p", CancellationToken.None));
        Assert.NotNull(await cache.GetAsync("other", "q", CancellationToken.None));
    }

    [Fact]
    public async Task DropPlayer_HidesAnAnswerWhoseFetchBeganBeforeIt_ButKeepsOneFetchedAfter()
    {
        var time = new ManualTimeProvider();
        using var cache = Create(time);
        var fetchBegan = time.GetUtcNow();
        time.Advance(TimeSpan.FromMilliseconds(10));
        await cache.DropPlayerAsync("p", CancellationToken.None); // e.g. a consume finished while the fetch was on its way
        time.Advance(TimeSpan.FromMilliseconds(10));

        await cache.SetAsync("k", "p", [Game], fetchBegan, CancellationToken.None);
        Assert.Null(await cache.GetAsync("k", "p", CancellationToken.None));

        await cache.SetAsync("k", "p", [Game], time.GetUtcNow(), CancellationToken.None);
        Assert.NotNull(await cache.GetAsync("k", "p", CancellationToken.None));
    }

    [Fact]
    public async Task DropPlayer_AnswerFetchedAtTheDropsInstant_IsHidden()
    {
        var time = new ManualTimeProvider();
        using var cache = Create(time);
        await cache.SetAsync("k", "p", [Game], time.GetUtcNow(), CancellationToken.None);
        await cache.DropPlayerAsync("p", CancellationToken.None);
        Assert.Null(await cache.GetAsync("k", "p", CancellationToken.None));
    }

    [Fact]
    public void Options_AreValidatedWithMessagesThatNameTheKey()
    {
        var validator = new CacheOptionsValidator();
        Assert.True(validator.Validate(null, new CacheOptions()).Succeeded);
        var bad = validator.Validate(null, new CacheOptions { Ttl = TimeSpan.FromMinutes(20), MaxStale = TimeSpan.FromMinutes(15), MaxEntries = 0 });
        Assert.Contains("Cache:MaxStale", bad.FailureMessage);
        Assert.Contains("Cache:MaxEntries", bad.FailureMessage);
        Assert.Contains("Cache:Ttl", validator.Validate(null, new CacheOptions { Ttl = TimeSpan.Zero }).FailureMessage);
    }
}
