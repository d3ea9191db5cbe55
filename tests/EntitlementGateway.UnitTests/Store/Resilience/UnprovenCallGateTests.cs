using EntitlementGateway.Store;
using EntitlementGateway.Store.Resilience;
using EntitlementGateway.UnitTests.Infrastructure;

namespace EntitlementGateway.UnitTests.Store.Resilience;

/// <summary>Calls whose budget key is an unverified claim wait their turn, a few per key; proven ones never do.</summary>
public class UnprovenCallGateTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 22, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void AKeyTakenFromTheCredentialsClaim_IsUnproven_UntilTheStoreHasAnsweredForThatUcid()
    {
        var accepted = new AcceptedUcids();
        var ucid = UserCollectionsId.TryParse(TestUcid.Create(Now, userId: "p1"), out _)!;

        Assert.True(UnprovenCallGate.IsUnproven("user-p1", ucid, accepted));
        accepted.Remember(new AcceptedUcids.Entry(ucid));
        Assert.False(UnprovenCallGate.IsUnproven("user-p1", ucid, accepted));
        // An Xbox authorization is never remembered; a bound player's key and a whole-token hash are not claims.
        Assert.True(UnprovenCallGate.IsUnproven("xbl-123", null, accepted));
        Assert.False(UnprovenCallGate.IsUnproven("player-p1", ucid, new AcceptedUcids()));
        Assert.False(UnprovenCallGate.IsUnproven("ucid-0123456789abcdef", ucid, new AcceptedUcids()));
        Assert.False(UnprovenCallGate.IsUnproven(null, ucid, new AcceptedUcids()));
    }

    [Fact]
    public async Task AKey_HasAtMostPerKeyTurns_AndTheNextWaitsForOneToEnd()
    {
        var gate = new UnprovenCallGate(TimeProvider.System, perKey: 2);
        var first = await gate.EnterAsync("user-a", null, CancellationToken.None);
        var second = await gate.EnterAsync("user-a", null, CancellationToken.None);
        var other = await gate.EnterAsync("user-b", null, CancellationToken.None);
        var third = gate.EnterAsync("user-a", null, CancellationToken.None).AsTask();

        await Task.Delay(50);
        Assert.False(third.IsCompleted);
        first!.Dispose();
        first.Dispose(); // a second dispose gives back nothing more
        var turn = await third.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.NotNull(turn);
        Assert.Equal(2, gate.Keys);

        foreach (var t in new[] { second, other, turn }) t!.Dispose();
        Assert.Equal(0, gate.Keys);
    }

    [Fact]
    public async Task AWaiter_StopsWaitingAtItsMoment_AsItsTimeRunningOut_AndLeavesNothingBehind()
    {
        var gate = new UnprovenCallGate(TimeProvider.System, perKey: 1);
        using var held = await gate.EnterAsync("user-a", null, CancellationToken.None);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => gate.EnterAsync("user-a", DateTimeOffset.UtcNow.AddMilliseconds(100), CancellationToken.None).AsTask());
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => gate.EnterAsync("user-a", DateTimeOffset.UtcNow.AddSeconds(-1), CancellationToken.None).AsTask());
        using var cancelled = new CancellationTokenSource(50);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => gate.EnterAsync("user-a", null, cancelled.Token).AsTask());
        Assert.Equal(1, gate.Keys);
    }

    [Fact]
    public async Task PastItsKeyLimit_ACallGoesUngated()
    {
        var gate = new UnprovenCallGate(TimeProvider.System, perKey: 1, maxKeys: 1);
        using var held = await gate.EnterAsync("user-a", null, CancellationToken.None);

        Assert.Null(await gate.EnterAsync("user-b", null, CancellationToken.None));
        Assert.Equal(1, gate.Keys);
    }

    [Fact]
    public void StopWaitingAt_IsNineTenthsOfTheTotalAhead()
    {
        var time = new ManualTimeProvider(Now);
        Assert.Equal(Now + TimeSpan.FromSeconds(9), new UnprovenCallGate(time).StopWaitingAt(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task WaitersThatGaveUp_LeaveTheKey_OnceItsTurnsAreReturned()
    {
        var gate = new UnprovenCallGate(TimeProvider.System, perKey: 1);
        var held = await gate.EnterAsync("user-a", null, CancellationToken.None);

        var gaveUp = await Assert.ThrowsAsync<OperationCanceledException>(() => gate.EnterAsync("user-a", DateTimeOffset.UtcNow.AddMilliseconds(20), CancellationToken.None).AsTask());
        Assert.Equal("No turn at the Store came before this call's time ran out.", gaveUp.Message);
        held!.Dispose();

        Assert.Equal(0, gate.Keys);
    }

    [Fact]
    public async Task AMomentJustPast_IsNotWaitedFor()
    {
        // A millisecond past is TimeSpan's "for ever" to a wait: it must still mean "not at all".
        var time = new ManualTimeProvider(Now);
        var gate = new UnprovenCallGate(time, perKey: 1);
        using var held = await gate.EnterAsync("user-a", null, CancellationToken.None);

        var waiting = gate.EnterAsync("user-a", Now - TimeSpan.FromMilliseconds(1), CancellationToken.None).AsTask();

        await Assert.ThrowsAsync<OperationCanceledException>(() => waiting.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task AWaiter_WhoseMomentIsAhead_GetsATurnReturnedBeforeIt()
    {
        var time = new ManualTimeProvider(Now);
        var gate = new UnprovenCallGate(time, perKey: 1);
        var held = await gate.EnterAsync("user-a", null, CancellationToken.None);

        var waiting = gate.EnterAsync("user-a", Now + TimeSpan.FromMinutes(1), CancellationToken.None).AsTask();
        held!.Dispose();

        using var turn = await waiting.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.NotNull(turn);
    }

    [Fact]
    public void IsUnproven_WithoutTheAcceptedUcids_IsRefused() =>
        Assert.Throws<ArgumentNullException>(() => UnprovenCallGate.IsUnproven("user-a", null, null!));
}
