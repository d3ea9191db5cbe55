using EntitlementGateway.Budget;
using EntitlementGateway.UnitTests.Infrastructure;
using Microsoft.Extensions.Options;

namespace EntitlementGateway.UnitTests.Budget;

public sealed class InMemoryUserBudgetTests
{
    private const int Limit = 5;
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(2);
    private readonly ManualTimeProvider _time = new();
    private readonly InMemoryUserBudget _budget;

    public InMemoryUserBudgetTests() =>
        _budget = new InMemoryUserBudget(Options.Create(new BudgetOptions { Limit = Limit, WindowSeconds = 2, SafetyMarginMs = 0 }), _time);

    [Fact]
    public async Task TryAcquire_AdmitsExactlyLimit_ThenDeniesWithRetryAfterOfTheWindow()
    {
        for (var i = 0; i < Limit; i++)
        {
            var decision = await _budget.TryAcquireAsync("u");
            Assert.True(decision.Allowed);
            Assert.Equal(Limit - i - 1, decision.Remaining);
            Assert.Equal(Window, decision.ResetAfter);
        }

        var denied = await _budget.TryAcquireAsync("u");

        Assert.False(denied.Allowed);
        Assert.Equal(0, denied.Remaining);
        Assert.Null(denied.Lease);
        Assert.Equal(Window, denied.RetryAfter);
    }

    [Fact]
    public async Task TryAcquire_WhenDenied_RetryAfterIsOldestEntryPlusWindowMinusNow()
    {
        await _budget.TryAcquireAsync("u");
        _time.Advance(TimeSpan.FromMilliseconds(800));
        for (var i = 1; i < Limit; i++)
        {
            await _budget.TryAcquireAsync("u");
        }

        _time.Advance(TimeSpan.FromMilliseconds(100));
        var denied = await _budget.TryAcquireAsync("u");

        Assert.Equal(TimeSpan.FromMilliseconds(1100), denied.RetryAfter);
        Assert.Equal(TimeSpan.FromMilliseconds(1100), denied.ResetAfter);
    }

    [Fact]
    public async Task Window_IsRolling_NotFixed_NeverMoreThanLimitInAnyWindow()
    {
        // One call every 100 ms for 10 s: in every 2 s span at most 5 may be admitted.
        var admitted = new List<DateTimeOffset>();
        for (var step = 0; step < 100; step++)
        {
            if ((await _budget.TryAcquireAsync("u")).Allowed)
            {
                admitted.Add(_time.GetUtcNow());
            }

            _time.Advance(TimeSpan.FromMilliseconds(100));
        }

        foreach (var start in admitted)
        {
            Assert.True(admitted.Count(a => a >= start && a < start + Window) <= Limit);
        }

        Assert.Equal(25, admitted.Count); // 5 per 2 s over 10 s: the log is exact, not lossy
    }

    [Fact]
    public async Task Entry_LeavesTheWindowExactlyWhenItIsWindowOld()
    {
        for (var i = 0; i < Limit; i++)
        {
            await _budget.TryAcquireAsync("u");
        }

        _time.Advance(Window - TimeSpan.FromTicks(1));
        Assert.False((await _budget.TryAcquireAsync("u")).Allowed);

        _time.Advance(TimeSpan.FromTicks(1));
        Assert.True((await _budget.TryAcquireAsync("u")).Allowed);
    }

    [Fact]
    public async Task Refund_GivesExactlyThatUnitBack_AndIgnoresUnknownLeases()
    {
        var leases = new List<string>();
        for (var i = 0; i < Limit; i++)
        {
            leases.Add((await _budget.TryAcquireAsync("u")).Lease!);
        }

        Assert.Equal(Limit, leases.Distinct().Count());

        await _budget.RefundAsync("u", leases[3]);
        await _budget.RefundAsync("u", leases[3]);
        await _budget.RefundAsync("u", "nope");
        await _budget.RefundAsync("other", leases[0]);

        Assert.Equal(Limit - 1, (await _budget.GetAsync("u")).Used);
        Assert.True((await _budget.TryAcquireAsync("u")).Allowed);
        Assert.False((await _budget.TryAcquireAsync("u")).Allowed);
    }

    [Fact]
    public async Task BlockUntil_DeniesUntilThen_WithThatRetryAfter_AndKeepsTheLaterInstant()
    {
        var until = _time.GetUtcNow().AddSeconds(30);
        await _budget.BlockUntilAsync("u", until);
        await _budget.BlockUntilAsync("u", _time.GetUtcNow().AddSeconds(5));

        var denied = await _budget.TryAcquireAsync("u");
        Assert.False(denied.Allowed);
        Assert.Equal(TimeSpan.FromSeconds(30), denied.RetryAfter);
        Assert.Equal(until, (await _budget.GetAsync("u")).BlockedUntil);

        _time.Advance(TimeSpan.FromSeconds(30));

        Assert.True((await _budget.TryAcquireAsync("u")).Allowed);
        Assert.Null((await _budget.GetAsync("u")).BlockedUntil);
    }

    [Fact]
    public async Task BlockUntil_WhenAlsoFull_RetryAfterIsTheLaterOfBoth()
    {
        for (var i = 0; i < Limit; i++)
        {
            await _budget.TryAcquireAsync("u");
        }

        await _budget.BlockUntilAsync("u", _time.GetUtcNow().AddMilliseconds(500));
        Assert.Equal(Window, (await _budget.TryAcquireAsync("u")).RetryAfter);

        await _budget.BlockUntilAsync("u", _time.GetUtcNow().AddSeconds(9));
        Assert.Equal(TimeSpan.FromSeconds(9), (await _budget.TryAcquireAsync("u")).RetryAfter);
    }

    [Fact]
    public async Task Keys_AreIndependent()
    {
        for (var i = 0; i < Limit; i++)
        {
            await _budget.TryAcquireAsync("a");
        }

        Assert.False((await _budget.TryAcquireAsync("a")).Allowed);
        Assert.True((await _budget.TryAcquireAsync("b")).Allowed);
    }

    [Fact]
    public async Task Get_ReportsUsedOldestAndRemaining_WithoutTakingAUnit()
    {
        var first = _time.GetUtcNow();
        await _budget.TryAcquireAsync("u");
        _time.Advance(TimeSpan.FromMilliseconds(300));
        await _budget.TryAcquireAsync("u");

        var snapshot = await _budget.GetAsync("u");
        var again = await _budget.GetAsync("u");

        Assert.Equal(new BudgetSnapshot("u", Limit, 2, 2, Limit - 2, first, null), snapshot);
        Assert.Equal(snapshot, again);
    }

    [Fact]
    public async Task IdleKeys_AreDropped_SoMemoryFollowsActiveUsers()
    {
        for (var i = 0; i < 1000; i++)
        {
            await _budget.TryAcquireAsync("user-" + i);
        }

        await _budget.BlockUntilAsync("blocked", _time.GetUtcNow().AddMinutes(1));
        Assert.Equal(1001, _budget.KeyCount);

        _time.Advance(Window);
        await _budget.TryAcquireAsync("fresh"); // a sweep runs at most once per window, on a caller

        Assert.Equal(2, _budget.KeyCount); // "fresh" and the still-blocked key
        Assert.True((await _budget.TryAcquireAsync("user-1")).Allowed);
    }

    [Fact]
    public async Task ConcurrentAcquires_NeverAdmitMoreThanLimit_EvenWhileKeysAreSwept()
    {
        // Window 60 s, sweep every 1 s; the clock moves 50 s in all, so no "hot" unit ever leaves the window.
        var budget = new InMemoryUserBudget(Options.Create(new BudgetOptions { Limit = 50, WindowSeconds = 60, SafetyMarginMs = 0 }), _time)
        {
            SweepInterval = TimeSpan.FromSeconds(1),
        };
        var clock = Task.Run(async () =>
        {
            for (var i = 0; i < 50; i++)
            {
                _time.Advance(TimeSpan.FromSeconds(1));
                await Task.Delay(1);
            }
        });

        var workers = Enumerable.Range(0, 16).Select(w => Task.Run(async () =>
        {
            var allowed = 0;
            for (var i = 0; i < 2_000; i++)
            {
                allowed += (await budget.TryAcquireAsync("hot")).Allowed ? 1 : 0;

                // Churn: a key emptied by a refund is swept while other workers race to use it.
                var cold = "cold-" + (i % 8);
                var decision = await budget.TryAcquireAsync(cold);
                if (decision.Lease is { } lease)
                {
                    await budget.RefundAsync(cold, lease);
                }
            }

            return allowed;
        }));

        var total = (await Task.WhenAll(workers)).Sum();
        await clock;

        Assert.Equal(50, total);
        Assert.Equal(50, (await budget.GetAsync("hot")).Used);
        for (var i = 0; i < 8; i++)
        {
            Assert.Equal(0, (await budget.GetAsync("cold-" + i)).Used);
        }
    }
}

public sealed class BudgetSafetyMarginTests
{
    [Fact]
    public async Task SafetyMargin_KeepsAUnitCountedThatMuchPastTheWindow()
    {
        var time = new ManualTimeProvider();
        var budget = new InMemoryUserBudget(Options.Create(new BudgetOptions { Limit = 1, WindowSeconds = 10, SafetyMarginMs = 1500 }), time);
        Assert.True((await budget.TryAcquireAsync("u")).Allowed);

        time.Advance(TimeSpan.FromSeconds(10));
        var denied = await budget.TryAcquireAsync("u");
        Assert.False(denied.Allowed);
        Assert.Equal(TimeSpan.FromMilliseconds(1500), denied.RetryAfter);

        time.Advance(TimeSpan.FromMilliseconds(1500));
        Assert.True((await budget.TryAcquireAsync("u")).Allowed);
    }
}
