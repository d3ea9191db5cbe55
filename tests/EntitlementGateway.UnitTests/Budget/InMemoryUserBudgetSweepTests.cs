using EntitlementGateway.Budget;
using EntitlementGateway.UnitTests.Infrastructure;
using Microsoft.Extensions.Options;

namespace EntitlementGateway.UnitTests.Budget;

/// <summary>The exact instants at which a full in-memory budget makes room, and a refund forgets a key.</summary>
public sealed class InMemoryUserBudgetSweepTests
{
    private readonly ManualTimeProvider _time = new();

    // A one-key budget with a one-second window, swept only when full (the idle sweep is pushed an hour away).
    private InMemoryUserBudget OneKeyBudget() =>
        new(Options.Create(new BudgetOptions { Limit = 5, WindowSeconds = 1, SafetyMarginMs = 0, MaxKeysInMemory = 1 }), _time)
        {
            SweepInterval = TimeSpan.FromHours(1),
        };

    [Fact]
    public async Task WhenFull_ASweepToMakeRoom_RunsAtMostOnceASecond_AndFreesKeysWhoseUnitsLeftTheWindow()
    {
        var budget = OneKeyBudget();
        _time.Advance(TimeSpan.FromSeconds(10));
        Assert.True((await budget.TryAcquireAsync("user-a")).Allowed); // at t0

        _time.Advance(TimeSpan.FromMilliseconds(500));
        var whileAInWindow = await budget.TryAcquireAsync("user-c"); // full: sweeps (the last was 10 s ago); a stays
        Assert.False(whileAInWindow.Allowed);
        Assert.Equal(TimeSpan.FromSeconds(1), whileAInWindow.RetryAfter);

        _time.Advance(TimeSpan.FromMilliseconds(700)); // t0 + 1.2 s: a's unit has left the window...
        Assert.False((await budget.TryAcquireAsync("user-d")).Allowed); // ...but the last sweep was 0.7 s ago
        Assert.Equal(1, budget.KeyCount);

        _time.Advance(TimeSpan.FromMilliseconds(300)); // exactly a second after the last sweep
        Assert.True((await budget.TryAcquireAsync("user-e")).Allowed); // a second sweep runs and frees a's place
        Assert.Equal(1, budget.KeyCount);
    }

    [Fact]
    public async Task Refund_WhenTheBlockEndsThisVeryInstant_ForgetsTheKey()
    {
        var budget = new InMemoryUserBudget(Options.Create(new BudgetOptions { Limit = 5, WindowSeconds = 60, SafetyMarginMs = 0 }), _time);
        var unit = await budget.TryAcquireAsync("user-a");
        await budget.BlockUntilAsync("user-a", _time.GetUtcNow().AddSeconds(5));
        _time.Advance(TimeSpan.FromSeconds(5));

        await budget.RefundAsync("user-a", unit.Lease!);

        Assert.Equal(0, budget.KeyCount); // blocked until now is not blocked: nothing left to keep
    }

    [Fact]
    public async Task Refund_WhileStillBlocked_KeepsTheKey()
    {
        var budget = new InMemoryUserBudget(Options.Create(new BudgetOptions { Limit = 5, WindowSeconds = 60, SafetyMarginMs = 0 }), _time);
        var unit = await budget.TryAcquireAsync("user-a");
        await budget.BlockUntilAsync("user-a", _time.GetUtcNow().AddSeconds(5));
        _time.Advance(TimeSpan.FromSeconds(4.999));

        await budget.RefundAsync("user-a", unit.Lease!);

        Assert.Equal(1, budget.KeyCount);
    }
}
