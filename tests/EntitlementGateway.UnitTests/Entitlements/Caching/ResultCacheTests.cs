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
        var stored = await cache.SetAsync("k", [Game], CancellationToken.None);
        Assert.Equal(time.GetUtcNow() + TimeSpan.FromSeconds(60), stored.FreshUntil);
        Assert.Equal(time.GetUtcNow() + TimeSpan.FromMinutes(15), stored.StaleUntil);

        time.Advance(TimeSpan.FromSeconds(59));
        var fresh = await cache.GetAsync("k", CancellationToken.None);
        Assert.True(time.GetUtcNow() < fresh!.FreshUntil);

        time.Advance(TimeSpan.FromMinutes(10));
        var stale = await cache.GetAsync("k", CancellationToken.None);
        Assert.NotNull(stale);
        Assert.True(time.GetUtcNow() >= stale.FreshUntil);
        Assert.Equal(Game, Assert.Single(stale.Entitlements));

        time.Advance(TimeSpan.FromMinutes(5));
        Assert.Null(await cache.GetAsync("k", CancellationToken.None));
    }

    [Fact]
    public async Task Remove_ForgetsTheEntry()
    {
        using var cache = Create(new ManualTimeProvider());
        await cache.SetAsync("k", [Game], CancellationToken.None);
        await cache.RemoveAsync("k", CancellationToken.None);
        Assert.Null(await cache.GetAsync("k", CancellationToken.None));
        Assert.False(cache.UsesRedis);
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
