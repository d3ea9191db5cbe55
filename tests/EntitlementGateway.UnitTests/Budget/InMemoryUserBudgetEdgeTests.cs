using EntitlementGateway.Budget;
using EntitlementGateway.UnitTests.Infrastructure;
using Microsoft.Extensions.Options;

namespace EntitlementGateway.UnitTests.Budget;

/// <summary>The in-memory budget's arithmetic at its edges: reset and retry times, blocks that end, snapshots, and the idle-key sweep.</summary>
public sealed class InMemoryUserBudgetEdgeTests
{
    private const int Limit = 5;
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan Sweep = TimeSpan.FromSeconds(10);
    private readonly ManualTimeProvider _time = new();
    private readonly InMemoryUserBudget _budget;

    public InMemoryUserBudgetEdgeTests() =>
        _budget = new InMemoryUserBudget(Options.Create(new BudgetOptions { Limit = Limit, WindowSeconds = 2, SafetyMarginMs = 0 }), _time)
        {
            SweepInterval = Sweep,
        };

    [Theory]
    [InlineData("1", 1L)]
    [InlineData("9", 9L)]
    [InlineData("1234567", 1234567L)]
    [InlineData("9223372036854775807", long.MaxValue)]
    [InlineData("0", null)]
    [InlineData("007", null)]
    [InlineData("", null)]
    [InlineData("-1", null)]
    [InlineData("+1", null)]
    [InlineData(" 1", null)]
    [InlineData("1 ", null)]
    [InlineData("1,000", null)]
    [InlineData("12a", null)]
    [InlineData("9223372036854775808", null)]
    [InlineData("\u0661", null)]
    public void LeaseId_ReadsOnlyALeaseAsThisBudgetWritesIt(string lease, long? id) =>
        Assert.Equal(id, InMemoryUserBudget.LeaseId(lease));

    [Fact]
    public async Task Refund_WithALeaseWrittenOtherwise_GivesNothingBack()
    {
        var lease = (await _budget.TryAcquireAsync("u")).Lease!;
        await _budget.TryAcquireAsync("u");

        await _budget.RefundAsync("u", "0" + lease);
        await _budget.RefundAsync("u", lease + " ");
        Assert.Equal(2, (await _budget.GetAsync("u")).Used);

        await _budget.RefundAsync("u", lease);
        Assert.Equal(1, (await _budget.GetAsync("u")).Used);
    }

    [Fact]
    public async Task TryAcquire_ResetAfter_IsWhenTheOldestUnitLeaves_NotAFullWindow()
    {
        await _budget.TryAcquireAsync("u");
        _time.Advance(TimeSpan.FromMilliseconds(500));

        var second = await _budget.TryAcquireAsync("u");

        Assert.True(second.Allowed);
        Assert.Equal(TimeSpan.FromMilliseconds(1500), second.ResetAfter);
        Assert.Equal(TimeSpan.Zero, second.RetryAfter);
    }

    [Fact]
    public async Task TryAcquire_BlockedButNotFull_RetryAfterIsTheBlock_NotTheWindowReset()
    {
        await _budget.TryAcquireAsync("u"); // the window resets in 2 s
        await _budget.BlockUntilAsync("u", _time.GetUtcNow().AddMilliseconds(500));

        var denied = await _budget.TryAcquireAsync("u");

        Assert.False(denied.Allowed);
        Assert.Equal(TimeSpan.FromMilliseconds(500), denied.RetryAfter);
        Assert.Equal(Window, denied.ResetAfter);
    }

    [Fact]
    public async Task TryAcquire_WhenTheClockStepsBack_CountsTheNewUnitNoOlderThanTheNewest()
    {
        var clock = new SettableTimeProvider(_time.GetUtcNow());
        var budget = new InMemoryUserBudget(Options.Create(new BudgetOptions { Limit = Limit, WindowSeconds = 2, SafetyMarginMs = 0 }), clock);
        await budget.TryAcquireAsync("u");

        clock.Now -= TimeSpan.FromSeconds(1);
        var second = await budget.TryAcquireAsync("u");

        // Counted at the newest unit's instant, the window resets exactly one window after it: never later.
        Assert.True(second.Allowed);
        Assert.Equal(Window, second.ResetAfter);
    }

    [Fact]
    public async Task BlockUntil_AnInstantAlreadyReached_AddsNoKey()
    {
        await _budget.BlockUntilAsync("u", _time.GetUtcNow());

        Assert.Equal(0, _budget.KeyCount);
        Assert.True((await _budget.TryAcquireAsync("u")).Allowed);
    }

    [Fact]
    public async Task Get_DoesNotCountUnitsThatLeftTheWindow()
    {
        await _budget.TryAcquireAsync("u");
        _time.Advance(Window);

        var snapshot = await _budget.GetAsync("u");

        Assert.Equal((0, Limit, (DateTimeOffset?)null), (snapshot.Used, snapshot.Remaining, snapshot.OldestEntry));
    }

    [Fact]
    public async Task Get_ShowsNoBlockOnceTheBlockHasEnded_ToTheInstant()
    {
        var until = _time.GetUtcNow().AddSeconds(1);
        await _budget.BlockUntilAsync("u", until);
        Assert.Equal(until, (await _budget.GetAsync("u")).BlockedUntil);

        _time.Advance(TimeSpan.FromSeconds(1));

        Assert.Null((await _budget.GetAsync("u")).BlockedUntil);
    }

    [Fact]
    public async Task IdleKeys_AreSweptOnlyOncePerSweepInterval()
    {
        await _budget.TryAcquireAsync("a");
        _time.Advance(Window + TimeSpan.FromSeconds(1)); // "a" is idle, but no sweep is due yet

        await _budget.TryAcquireAsync("b");

        Assert.Equal(2, _budget.KeyCount);
    }

    [Fact]
    public async Task IdleKeys_AreSweptAgainAtEachInterval_CountedFromTheLastSweep()
    {
        await _budget.TryAcquireAsync("a");
        _time.Advance(Sweep);
        await _budget.TryAcquireAsync("b"); // sweep 1: "a" goes
        Assert.Equal(1, _budget.KeyCount);

        _time.Advance(Window + TimeSpan.FromSeconds(1));
        await _budget.TryAcquireAsync("c"); // "b" is idle, but the last sweep was 3 s ago
        Assert.Equal(2, _budget.KeyCount);

        _time.Advance(Sweep);
        await _budget.TryAcquireAsync("d"); // sweep 2: "b" and "c" go
        Assert.Equal(1, _budget.KeyCount);
    }

    [Fact]
    public async Task Sweep_DropsAKeyWhoseBlockEndsExactlyNow_AndKeepsOneStillBlocked()
    {
        var start = _time.GetUtcNow();
        await _budget.BlockUntilAsync("ends", start + Sweep);
        await _budget.BlockUntilAsync("later", start + Sweep + TimeSpan.FromTicks(1));
        _time.Advance(Sweep);

        await _budget.TryAcquireAsync("caller");

        Assert.Equal(2, _budget.KeyCount); // "later" and "caller"
        Assert.Null((await _budget.GetAsync("ends")).BlockedUntil);
        Assert.False((await _budget.TryAcquireAsync("later")).Allowed);
    }

    [Fact]
    public async Task TryAcquire_WithANullKey_ThrowsBeforeSweepingAnyKey()
    {
        // A call refused for its argument must have no side effect, not even the sweep it would have run.
        await _budget.TryAcquireAsync("idle");
        _time.Advance(Sweep);

        await Assert.ThrowsAsync<ArgumentNullException>(async () => await _budget.TryAcquireAsync(null!));

        Assert.Equal(1, _budget.KeyCount);
    }

    [Fact]
    public async Task Arguments_AreChecked()
    {
        Assert.Throws<ArgumentNullException>(() => new InMemoryUserBudget(null!, _time));
        Assert.Throws<ArgumentNullException>(() => new InMemoryUserBudget(Options.Create(new BudgetOptions()), null!));
        await Assert.ThrowsAsync<ArgumentNullException>(async () => await _budget.RefundAsync("u", null!));
        await Assert.ThrowsAsync<ArgumentNullException>(async () => await _budget.BlockUntilAsync(null!, _time.GetUtcNow().AddSeconds(-1)));
    }

    /// <summary>A clock the test can also move backwards (an NTP step), which the manual clock refuses.</summary>
    private sealed class SettableTimeProvider(DateTimeOffset start) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = start;

        public override DateTimeOffset GetUtcNow() => Now;
    }
}
