using EntitlementGateway.Consumables;
using EntitlementGateway.UnitTests.Infrastructure;
using Microsoft.Extensions.Options;

namespace EntitlementGateway.UnitTests.Consumables;

public sealed class InMemoryConsumeLedgerTests
{
    private readonly ManualTimeProvider _time = new();

    private InMemoryConsumeLedger Ledger(int max = 100) =>
        new(Options.Create(new ConsumeOptions { PendingLeaseSeconds = 30, RetentionDays = 1, MemoryMaxEntries = max }), _time);

    [Fact]
    public async Task Claim_ANewTrackingId_IsClaimed_ThenPendingForOthers_UntilRecorded()
    {
        var ledger = Ledger();
        Assert.Equal(LedgerState.Claimed, (await ledger.ClaimAsync("t1", "fp", "a", default)).State);
        Assert.Equal(LedgerState.Pending, (await ledger.ClaimAsync("t1", "fp", "b", default)).State);

        await ledger.CompleteAsync("t1", "fp", "outcome", default);

        Assert.Equal(new LedgerClaim(LedgerState.Recorded, "outcome"), await ledger.ClaimAsync("t1", "fp", "b", default));
    }

    [Fact]
    public async Task Claim_WithAnotherFingerprint_IsReused_InEveryState()
    {
        var ledger = Ledger();
        await ledger.ClaimAsync("t1", "fp", "a", default);
        Assert.Equal(LedgerState.Reused, (await ledger.ClaimAsync("t1", "other", "b", default)).State);
        await ledger.ReleaseAsync("t1", "a", default);
        Assert.Equal(LedgerState.Reused, (await ledger.ClaimAsync("t1", "other", "b", default)).State);
        await ledger.CompleteAsync("t1", "fp", "outcome", default);
        Assert.Equal(LedgerState.Reused, (await ledger.ClaimAsync("t1", "other", "b", default)).State);
    }

    [Fact]
    public async Task Release_ByItsOwner_LetsTheSameRequestClaimAgain_ButNotByAnotherOwner()
    {
        var ledger = Ledger();
        await ledger.ClaimAsync("t1", "fp", "a", default);
        await ledger.ReleaseAsync("t1", "intruder", default);
        Assert.Equal(LedgerState.Pending, (await ledger.ClaimAsync("t1", "fp", "b", default)).State);

        await ledger.ReleaseAsync("t1", "a", default);

        Assert.Equal(LedgerState.Resumed, (await ledger.ClaimAsync("t1", "fp", "b", default)).State);
    }

    [Fact]
    public async Task Claim_PendingPastItsLease_IsTakenOver()
    {
        var ledger = Ledger();
        await ledger.ClaimAsync("t1", "fp", "a", default);
        _time.Advance(TimeSpan.FromSeconds(29));
        Assert.Equal(LedgerState.Pending, (await ledger.ClaimAsync("t1", "fp", "b", default)).State);

        _time.Advance(TimeSpan.FromSeconds(1));

        Assert.Equal(LedgerState.TakenOver, (await ledger.ClaimAsync("t1", "fp", "b", default)).State);
        Assert.Equal(LedgerState.Pending, (await ledger.ClaimAsync("t1", "fp", "c", default)).State);
    }

    [Fact]
    public async Task AResumedOrTakenOverClaim_CarriesWhenTheTrackingIdWasFirstClaimed_AndANewOneNone()
    {
        var ledger = Ledger();
        var first = _time.GetUtcNow();
        Assert.Equal(new LedgerClaim(LedgerState.Claimed), await ledger.ClaimAsync("t1", "fp", "a", default));
        _time.Advance(TimeSpan.FromSeconds(5));
        await ledger.ReleaseAsync("t1", "a", default);

        var resumed = await ledger.ClaimAsync("t1", "fp", "b", default);
        _time.Advance(TimeSpan.FromSeconds(30));
        var takenOver = await ledger.ClaimAsync("t1", "fp", "c", default);

        Assert.Equal(new LedgerClaim(LedgerState.Resumed, FirstClaimedAt: first), resumed);
        Assert.Equal(new LedgerClaim(LedgerState.TakenOver, FirstClaimedAt: first), takenOver);
    }

    [Fact]
    public async Task Complete_NeverReplacesARecordedOutcome()
    {
        var ledger = Ledger();
        await ledger.ClaimAsync("t1", "fp", "a", default);
        await ledger.CompleteAsync("t1", "fp", "first", default);
        await ledger.CompleteAsync("t1", "fp", "second", default);
        Assert.Equal("first", (await ledger.ClaimAsync("t1", "fp", "b", default)).Outcome);
    }

    [Fact]
    public async Task Recorded_OutcomesExpireAfterTheRetention()
    {
        var ledger = Ledger();
        await ledger.ClaimAsync("t1", "fp", "a", default);
        await ledger.CompleteAsync("t1", "fp", "outcome", default);

        _time.Advance(TimeSpan.FromDays(1));

        Assert.Equal(LedgerState.Claimed, (await ledger.ClaimAsync("t1", "other", "b", default)).State);
    }

    [Fact]
    public async Task WhenFull_TheOldestFinishedEntriesGo_ButPendingOnesStay()
    {
        var ledger = Ledger(max: 100);
        await ledger.ClaimAsync("pending", "fp", "a", default);
        for (var i = 0; i < 99; i++)
        {
            await ledger.ClaimAsync("t" + i, "fp", "a", default);
            await ledger.CompleteAsync("t" + i, "fp", "o", default);
        }
        Assert.Equal(100, ledger.Count);

        await ledger.ClaimAsync("new", "fp", "a", default);

        Assert.Equal(100, ledger.Count);
        Assert.Equal(LedgerState.Pending, (await ledger.ClaimAsync("pending", "fp", "b", default)).State);
        Assert.Equal(LedgerState.Claimed, (await ledger.ClaimAsync("t0", "other", "b", default)).State); // t0 was evicted
        Assert.Equal(LedgerState.Recorded, (await ledger.ClaimAsync("t98", "fp", "b", default)).State);
    }

    [Fact]
    public async Task Complete_WithoutAClaim_StillRecordsTheOutcome()
    {
        var ledger = Ledger();
        await ledger.CompleteAsync("t1", "fp", "outcome", default);
        Assert.Equal(new LedgerClaim(LedgerState.Recorded, "outcome"), await ledger.ClaimAsync("t1", "fp", "a", default));
        Assert.Equal(LedgerState.Reused, (await ledger.ClaimAsync("t1", "other", "a", default)).State);
    }

    [Fact]
    public async Task Forget_ByItsOwner_LeavesNothing_SoAnyRequestClaimsItAnew()
    {
        var ledger = Ledger();
        await ledger.ClaimAsync("t1", "fp", "a", default);

        await ledger.ForgetAsync("t1", "a", default);

        Assert.Equal(0, ledger.Count);
        Assert.Equal(new LedgerClaim(LedgerState.Claimed), await ledger.ClaimAsync("t1", "other", "b", default));
    }

    [Fact]
    public async Task Forget_ChangesNothing_ForAnotherOwner_OrAnUnknownOrRecordedOutcome()
    {
        var ledger = Ledger();
        await ledger.ClaimAsync("pending", "fp", "a", default);
        await ledger.ClaimAsync("unknown", "fp", "a", default);
        await ledger.ReleaseAsync("unknown", "a", default);
        await ledger.CompleteAsync("recorded", "fp", "outcome", default);

        await ledger.ForgetAsync("pending", "intruder", default);
        await ledger.ForgetAsync("unknown", "a", default);
        await ledger.ForgetAsync("recorded", "a", default);
        await ledger.ForgetAsync("never", "a", default);

        Assert.Equal(3, ledger.Count);
        Assert.Equal(LedgerState.Pending, (await ledger.ClaimAsync("pending", "fp", "b", default)).State);
        Assert.Equal(LedgerState.Reused, (await ledger.ClaimAsync("unknown", "other", "b", default)).State);
        Assert.Equal(LedgerState.Recorded, (await ledger.ClaimAsync("recorded", "fp", "b", default)).State);
    }

    [Fact]
    public async Task Release_OfAnUnknownOrRecordedTrackingId_ChangesNothing()
    {
        var ledger = Ledger();
        await ledger.ReleaseAsync("never", "a", default);
        await ledger.CompleteAsync("t1", "fp", "outcome", default);
        await ledger.ReleaseAsync("t1", "a", default);
        Assert.Equal(0 + 1, ledger.Count);
        Assert.Equal(LedgerState.Recorded, (await ledger.ClaimAsync("t1", "fp", "a", default)).State);
    }

    [Fact]
    public async Task WhenFull_EntriesExpiredExactlyNow_AllGoFirst()
    {
        var ledger = Ledger(max: 100);
        for (var i = 0; i < 100; i++) await ledger.CompleteAsync("t" + i, "fp", "o", default);
        _time.Advance(TimeSpan.FromDays(1));

        await ledger.ClaimAsync("new", "fp", "a", default);

        Assert.Equal(1, ledger.Count);
    }

    [Fact]
    public async Task APendingEntrySkippedByEviction_IsEvictedInItsTurnOnceFinished()
    {
        var ledger = Ledger(max: 100);
        await ledger.ClaimAsync("p", "fp", "a", default);
        for (var i = 0; i < 99; i++) await ledger.CompleteAsync("t" + i, "fp", "o", default);
        await ledger.ClaimAsync("n0", "fp", "a", default); // evicts t0, skips p (pending)
        await ledger.CompleteAsync("p", "fp", "o", default);

        for (var i = 1; i < 101; i++) await ledger.CompleteAsync("n" + i, "fp", "o", default);

        Assert.Equal(100, ledger.Count);
        Assert.Equal(LedgerState.Claimed, (await ledger.ClaimAsync("p", "other", "b", default)).State);
    }

    [Fact]
    public async Task ATrackingIdRecordedAgainAfterExpiry_IsEvictedAsNew_NotByItsOldPlaceInTheQueue()
    {
        var ledger = Ledger(max: 100);
        await ledger.CompleteAsync("again", "fp", "o", default);
        _time.Advance(TimeSpan.FromHours(12));
        for (var i = 0; i < 98; i++) await ledger.CompleteAsync("t" + i, "fp", "o", default);
        _time.Advance(TimeSpan.FromHours(12));
        await ledger.ClaimAsync("again", "fp2", "a", default); // expired: a new entry, queued last
        await ledger.CompleteAsync("again", "fp2", "o2", default);
        await ledger.CompleteAsync("x", "fp", "o", default);

        await ledger.CompleteAsync("newest", "fp", "o", default);

        Assert.Equal(100, ledger.Count);
        Assert.Equal(LedgerState.Claimed, (await ledger.ClaimAsync("t0", "other", "b", default)).State);
        Assert.Equal(LedgerState.Recorded, (await ledger.ClaimAsync("again", "fp2", "b", default)).State);
    }

    [Fact]
    public async Task TheEvictionQueue_StaysBounded_WhenEntriesKeepExpiringAndComingBack()
    {
        var ledger = Ledger(max: 100);
        for (var round = 0; round < 5; round++)
        {
            for (var i = 0; i < 60; i++) await ledger.CompleteAsync("t" + i, "fp", "o", default);
            _time.Advance(TimeSpan.FromDays(1));
            for (var i = 0; i < 60; i++)
            {
                await ledger.ClaimAsync("t" + i, "fp", "a", default);
                Assert.True(ledger.Queued >= ledger.Count, "every live entry keeps its place in the eviction queue");
            }
        }

        Assert.InRange(ledger.Queued, ledger.Count, 200);
        Assert.Equal(60, ledger.Count);
        // The compacted queue still holds every live entry in its place: the churned ones are the oldest, and go first.
        for (var i = 0; i < 60; i++) await ledger.CompleteAsync("t" + i, "fp", "o", default);
        for (var i = 0; i < 100; i++) await ledger.CompleteAsync("n" + i, "fp", "o", default);
        Assert.Equal(100, ledger.Count);
        Assert.Equal(LedgerState.Recorded, (await ledger.ClaimAsync("n0", "fp", "b", default)).State);
        Assert.Equal(LedgerState.Claimed, (await ledger.ClaimAsync("t59", "other", "b", default)).State);
    }
}
