using EntitlementGateway.Emulator;
using EntitlementGateway.UnitTests.Infrastructure;

namespace EntitlementGateway.UnitTests.Emulator;

public class SlidingWindowLogTests
{
    private static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(1);

    [Fact]
    public void Audit_PastItsCapacity_KeepsTheLastAdmittedCallsOldestFirst()
    {
        var log = new SlidingWindowLog();
        const int calls = SlidingWindowLog.AuditCapacity + 5;
        for (var i = 0; i < calls; i++) Assert.True(log.TryAdmit(Start.AddSeconds(2 * i), 1, Window).Allowed);

        var audit = log.Audit();

        Assert.Equal(Enumerable.Range(5, SlidingWindowLog.AuditCapacity).Select(i => Start.AddSeconds(2 * i)), audit);
    }

    [Fact]
    public void Audit_BelowItsCapacity_HasEveryAdmittedCallAndNoRefusedOne()
    {
        var log = new SlidingWindowLog();
        Assert.True(log.TryAdmit(Start, 2, Window).Allowed);
        Assert.True(log.TryAdmit(Start.AddMilliseconds(1), 2, Window).Allowed);
        Assert.False(log.TryAdmit(Start.AddMilliseconds(2), 2, Window).Allowed);

        Assert.Equal([Start, Start.AddMilliseconds(1)], log.Audit());
        Assert.Equal(2, log.MaxInWindow);
    }

    [Fact]
    public void AWindowOfMoreCallsThanTheAudit_StillLimitsExactly_AndIsForgottenOnceItsCallsLeaveIt()
    {
        var log = new SlidingWindowLog();
        const int limit = SlidingWindowLog.AuditCapacity + 5;
        var hour = TimeSpan.FromHours(1);
        for (var i = 0; i < limit; i++) Assert.True(log.TryAdmit(Start.AddMilliseconds(i), limit, hour).Allowed);

        // The oldest call, no longer in the audit, still holds its slot: the next one frees an hour after it.
        var refused = log.TryAdmit(Start.AddMinutes(30), limit, hour);
        Assert.False(refused.Allowed);
        Assert.Equal(1800, refused.RetryAfterSeconds);
        Assert.Equal(limit, log.Kept);
        Assert.Equal(Enumerable.Range(5, SlidingWindowLog.AuditCapacity).Select(i => Start.AddMilliseconds(i)), log.Audit());
        Assert.Equal(limit, log.MaxInWindow);

        // One window later every call has left it: what the audit does not need is dropped, not kept for ever.
        Assert.True(log.TryAdmit(Start.AddHours(2), limit, hour).Allowed);
        Assert.Equal(SlidingWindowLog.AuditCapacity, log.Kept);
        Assert.Equal(Start.AddHours(2), log.Audit()[^1]);
        Assert.Equal(Start.AddMilliseconds(6), log.Audit()[0]);
    }

    [Fact]
    public void Kept_BelowTheAuditsCapacity_GrowsWithEveryAdmittedCall_AndNotWithRefusedOnes()
    {
        var log = new SlidingWindowLog();
        for (var i = 0; i < 9; i++) log.TryAdmit(Start.AddMilliseconds(i), 5, Window);

        Assert.Equal(5, log.Kept);
        for (var i = 0; i < 9; i++) log.TryAdmit(Start.AddSeconds(5 + i), 5, Window);
        Assert.Equal(14, log.Kept);
        Assert.Equal(Start.AddMilliseconds(4), log.Audit()[4]);
        Assert.Equal(Start.AddSeconds(13), log.Audit()[^1]);
    }

    [Fact]
    public void Refused_WaitsUntilTheOldestCallInTheWindowLeavesIt_RoundedUpToWholeSeconds()
    {
        var log = new SlidingWindowLog();
        var minute = TimeSpan.FromMinutes(1);
        log.TryAdmit(Start, 2, minute);
        log.TryAdmit(Start.AddSeconds(20), 2, minute);

        var refused = log.TryAdmit(Start.AddSeconds(30.5), 2, minute);

        Assert.Equal(new RateDecision(false, 30), refused);
        Assert.Equal(new RateDecision(false, 1), log.TryAdmit(Start.AddSeconds(59.9995), 2, minute));
        Assert.True(log.TryAdmit(Start + minute, 2, minute).Allowed);
        Assert.Equal(new RateDecision(false, 20), log.TryAdmit(Start + minute, 2, minute));
    }

    [Fact]
    public void MaxInWindow_RemembersTheBusiestWindow_AfterItsCallsHaveLeftTheAudit()
    {
        var log = new SlidingWindowLog();
        for (var i = 0; i < 3; i++) log.TryAdmit(Start.AddMilliseconds(i), 5, Window);
        for (var i = 0; i < SlidingWindowLog.AuditCapacity; i++) log.TryAdmit(Start.AddSeconds(10 + 2 * i), 5, Window);

        Assert.DoesNotContain(Start, log.Audit());
        Assert.Equal(3, log.MaxInWindow);
    }

    [Fact]
    public void MaxInWindow_CountsCallsInTheHalfOpenWindow_NotOnesThatLeftIt()
    {
        var log = new SlidingWindowLog();
        log.TryAdmit(Start, 10, Window);
        log.TryAdmit(Start.AddMilliseconds(500), 10, Window);
        // Exactly one window after the first call: the first has left (t - window, t].
        log.TryAdmit(Start + Window, 10, Window);

        Assert.Equal(2, log.MaxInWindow);
    }

    [Fact]
    public void MaxCallsInAnyWindow_ForTheLimitersWindow_CoversCallsNoLongerInTheAudit_AndForAnotherWindowWhatTheAuditHolds()
    {
        var time = new ManualTimeProvider();
        using var state = new EmulatorState(new EmulatorOptions { RateLimit = 3, RateLimitWindowSeconds = 60, TimeProvider = time });
        for (var i = 0; i < 3; i++) state.TryAdmitQuery("u");
        for (var i = 0; i < SlidingWindowLog.AuditCapacity; i++)
        {
            time.Advance(TimeSpan.FromSeconds(61));
            state.TryAdmitQuery("u");
        }

        Assert.Equal(3, state.MaxCallsInAnyWindow("u"));
        Assert.Equal(3, state.MaxCallsInAnyWindow("u", TimeSpan.FromSeconds(60)));
        Assert.Equal(1, state.MaxCallsInAnyWindow("u", TimeSpan.FromSeconds(30)));
        Assert.Equal(0, state.MaxCallsInAnyWindow("nobody"));
        Assert.Equal(SlidingWindowLog.AuditCapacity, state.GetAdmittedCalls("u").Count);
    }
}
