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
