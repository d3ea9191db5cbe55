using EntitlementGateway.Budget;
using EntitlementGateway.Entitlements.Caching;
using EntitlementGateway.UnitTests.Infrastructure;
using Microsoft.Extensions.Options;

namespace EntitlementGateway.UnitTests.Budget;

/// <summary>Keys come from client-chosen claims: what the in-memory structures keep per key is bounded.</summary>
[Collection(ProcessMemoryCollection.Name)]
public sealed class InMemoryBudgetBoundsTests
{
    private readonly ManualTimeProvider _time = new();

    private InMemoryUserBudget Budget(int maxKeys = 1_000) =>
        new(Options.Create(new BudgetOptions { Limit = 5, WindowSeconds = 2, SafetyMarginMs = 0, MaxKeysInMemory = maxKeys }), _time);

    [Fact]
    public async Task Refund_OfAKeysOnlyUnit_DropsTheKeyAtOnce_ButABlockedKeyStays()
    {
        var budget = Budget();
        var forged = await budget.TryAcquireAsync("user-forged");
        await budget.RefundAsync("user-forged", forged.Lease!);
        Assert.Equal(0, budget.KeyCount);

        var blocked = await budget.TryAcquireAsync("user-blocked");
        await budget.BlockUntilAsync("user-blocked", _time.GetUtcNow().AddSeconds(30));
        await budget.RefundAsync("user-blocked", blocked.Lease!);
        Assert.Equal(1, budget.KeyCount);
        Assert.False((await budget.TryAcquireAsync("user-blocked")).Allowed);
    }

    [Fact]
    public async Task WhenFull_ANewKeyIsRefusedUntilAKeyGoesIdle_KnownKeysAreServed_AndSweptKeysMakeRoom()
    {
        var budget = Budget(maxKeys: 2);
        Assert.True((await budget.TryAcquireAsync("a")).Allowed);
        Assert.True((await budget.TryAcquireAsync("b")).Allowed);

        var refused = await budget.TryAcquireAsync("c");
        Assert.False(refused.Allowed);
        Assert.Null(refused.Lease);
        Assert.Equal(TimeSpan.FromSeconds(2), refused.RetryAfter); // a and b leave the 2 s window then
        Assert.True((await budget.TryAcquireAsync("a")).Allowed);
        Assert.Equal(2, budget.KeyCount);

        _time.Advance(TimeSpan.FromSeconds(3)); // a and b leave the window
        Assert.True((await budget.TryAcquireAsync("c")).Allowed);
    }

    [Fact]
    public async Task WhenFull_RetryAfter_IsTheTimeUntilTheFirstKeyGoesIdle_AtLeastASecond()
    {
        var budget = Budget(maxKeys: 3);
        await budget.TryAcquireAsync("a"); // idle at 2.0 s
        await budget.BlockUntilAsync("a", _time.GetUtcNow().AddSeconds(30)); // ... but blocked until 30 s
        _time.Advance(TimeSpan.FromMilliseconds(300));
        await budget.TryAcquireAsync("b"); // idle at 2.3 s
        _time.Advance(TimeSpan.FromMilliseconds(200));
        await budget.TryAcquireAsync("c");
        await budget.TryAcquireAsync("c"); // its last unit at 0.5 s: idle at 2.5 s

        Assert.Equal(TimeSpan.FromMilliseconds(1_800), (await budget.TryAcquireAsync("new-1")).RetryAfter); // b, at 2.3 s
        _time.Advance(TimeSpan.FromMilliseconds(400)); // no second sweep within a second: the same instant, 0.4 s nearer
        Assert.Equal(TimeSpan.FromMilliseconds(1_400), (await budget.TryAcquireAsync("new-2")).RetryAfter);
        await budget.TryAcquireAsync("b"); // b busy again: idle at 2.9 s
        _time.Advance(TimeSpan.FromMilliseconds(100));
        await budget.TryAcquireAsync("c"); // c busy again: idle at 3.0 s
        _time.Advance(TimeSpan.FromMilliseconds(500)); // 1.5 s: a second after the last sweep, a new one: b first, at 2.9 s
        Assert.Equal(TimeSpan.FromMilliseconds(1_400), (await budget.TryAcquireAsync("new-3")).RetryAfter);
        _time.Advance(TimeSpan.FromMilliseconds(700)); // 2.2 s: b idle in 0.7 s, but the next sweep is a second away
        Assert.Equal(TimeSpan.FromSeconds(1), (await budget.TryAcquireAsync("new-4")).RetryAfter);
        _time.Advance(TimeSpan.FromMilliseconds(900)); // 3.1 s: b and c have gone idle and are swept
        Assert.True((await budget.TryAcquireAsync("new-5")).Allowed);
    }

    [Fact]
    public async Task WhenFull_RightAfterASweepDroppedAKey_RetryAfter_CountsOnlyTheKeysStillHeld()
    {
        var budget = new InMemoryUserBudget(Options.Create(new BudgetOptions { Limit = 5, WindowSeconds = 2, SafetyMarginMs = 0, MaxKeysInMemory = 2 }), _time)
        {
            SweepInterval = TimeSpan.FromMilliseconds(100),
        };
        await budget.TryAcquireAsync("a"); // idle at 2.0 s
        _time.Advance(TimeSpan.FromMilliseconds(1_500));
        await budget.TryAcquireAsync("b"); // idle at 3.5 s
        _time.Advance(TimeSpan.FromMilliseconds(100));
        Assert.Equal(TimeSpan.FromSeconds(1), (await budget.TryAcquireAsync("x")).RetryAfter); // 1.6 s: a in 0.4 s; the floor
        _time.Advance(TimeSpan.FromMilliseconds(500));
        Assert.True((await budget.TryAcquireAsync("c")).Allowed); // 2.1 s: a sweep drops a; c takes its place

        _time.Advance(TimeSpan.FromMilliseconds(50)); // no sweep of either kind is due: the last one's finding stands
        Assert.Equal(TimeSpan.FromMilliseconds(1_350), (await budget.TryAcquireAsync("d")).RetryAfter); // b, at 3.5 s
    }

    [Fact]
    public async Task WhenFull_RightAfterASweepThatLeftNoKey_RetryAfter_IsTheFloor()
    {
        var budget = new InMemoryUserBudget(Options.Create(new BudgetOptions { Limit = 5, WindowSeconds = 2, SafetyMarginMs = 0, MaxKeysInMemory = 1 }), _time)
        {
            SweepInterval = TimeSpan.FromMilliseconds(100),
        };
        await budget.TryAcquireAsync("a");
        _time.Advance(TimeSpan.FromMilliseconds(1_500));
        Assert.Equal(TimeSpan.FromSeconds(1), (await budget.TryAcquireAsync("x")).RetryAfter); // 1.5 s: a in 0.5 s; the floor
        _time.Advance(TimeSpan.FromMilliseconds(600));
        Assert.True((await budget.TryAcquireAsync("c")).Allowed); // 2.1 s: the sweep left no key but c

        _time.Advance(TimeSpan.FromMilliseconds(50));
        Assert.Equal(TimeSpan.FromSeconds(1), (await budget.TryAcquireAsync("d")).RetryAfter);
    }

    [Fact]
    public async Task LongKeys_AreHeldAsFixedSizeHashes()
    {
        var budget = Budget(maxKeys: 10_000);
        await budget.TryAcquireAsync("warm-up");
        var before = GC.GetTotalMemory(forceFullCollection: true);
        for (var i = 0; i < 1_000; i++) await budget.TryAcquireAsync(i + new string('k', 100_000));
        var growth = GC.GetTotalMemory(forceFullCollection: true) - before;

        Assert.Equal(1_001, budget.KeyCount);
        // The keys themselves are 200 MB as .NET strings; the budget keeps a few hundred bytes per key.
        Assert.True(growth < 4 * 1024 * 1024, $"grew by {growth} bytes");
        Assert.Equal(4, (await budget.GetAsync("7" + new string('k', 100_000))).Remaining);
    }

    [Fact]
    public async Task SingleFlight_PastItsBound_RunsUnshared_AndTracksNoMoreFlights()
    {
        var flights = new SingleFlight<int>(maxFlights: 2);
        var release = new TaskCompletionSource();
        var runs = 0;
        Task<int> Run(string key) => flights.RunAsync(key, async () =>
        {
            Interlocked.Increment(ref runs);
            await release.Task;
            return 1;
        }, CancellationToken.None);

        var tracked = new[] { Run("a"), Run("b"), Run("a") };
        var untracked = new[] { Run("c"), Run("c") };
        await Task.Delay(50);

        Assert.Equal(2, flights.Count);
        release.SetResult();
        Assert.All(await Task.WhenAll(tracked.Concat(untracked)), v => Assert.Equal(1, v));
        Assert.Equal(4, runs); // a and b shared; the two c callers ran on their own
        Assert.Equal(0, flights.Count);
        Assert.Equal(1, await Run("d")); // room again once the flights ended
    }
}
