using EntitlementGateway.Consumables;
using EntitlementGateway.Infrastructure.Redis;
using EntitlementGateway.IntegrationTests.Infrastructure;
using Microsoft.Extensions.Options;

namespace EntitlementGateway.IntegrationTests.Consumables;

/// <summary>The Redis ledger's claims against a real redis-server: what a resend learns of the first sending.</summary>
[Collection(RedisCollection.Name)]
public sealed class RedisConsumeLedgerTests(RedisServerFixture redis)
{
    [Fact]
    public async Task AResumedOrTakenOverClaim_CarriesWhenTheTrackingIdWasFirstClaimed_AndANewOneNone()
    {
        var options = new RedisOptions { ConnectionString = redis.ConnectionString, OperationTimeoutMs = 5_000 };
        await using var connection = new RedisConnection(Options.Create(options));
        var ledger = new RedisConsumeLedger(connection, Options.Create(new ConsumeOptions { PendingLeaseSeconds = 1 }), Options.Create(options));
        var trackingId = Guid.NewGuid().ToString();
        var before = DateTimeOffset.UtcNow.AddMilliseconds(-50);

        var first = await ledger.ClaimAsync(trackingId, "fp", "a", default);
        var after = DateTimeOffset.UtcNow.AddMilliseconds(50);
        await Task.Delay(300);
        await ledger.ReleaseAsync(trackingId, "a", default);
        var resumed = await ledger.ClaimAsync(trackingId, "fp", "b", default);
        await Task.Delay(1_100);
        var takenOver = await ledger.ClaimAsync(trackingId, "fp", "c", default);

        Assert.Equal(new LedgerClaim(LedgerState.Claimed), first);
        Assert.Equal(LedgerState.Resumed, resumed.State);
        Assert.InRange(resumed.FirstClaimedAt!.Value, before, after);
        Assert.Equal(LedgerState.TakenOver, takenOver.State);
        Assert.Equal(resumed.FirstClaimedAt, takenOver.FirstClaimedAt);
    }

    [Fact]
    public async Task Forget_RemovesOnlyItsOwnersPendingClaim()
    {
        var options = new RedisOptions { ConnectionString = redis.ConnectionString, OperationTimeoutMs = 5_000 };
        await using var connection = new RedisConnection(Options.Create(options));
        var ledger = new RedisConsumeLedger(connection, Options.Create(new ConsumeOptions()), Options.Create(options));
        string Id() => Guid.NewGuid().ToString();
        var (forgotten, pending, unknown, recorded) = (Id(), Id(), Id(), Id());
        await ledger.ClaimAsync(forgotten, "fp", "a", default);
        await ledger.ClaimAsync(pending, "fp", "a", default);
        await ledger.ClaimAsync(unknown, "fp", "a", default);
        await ledger.ReleaseAsync(unknown, "a", default);
        await ledger.CompleteAsync(recorded, "fp", "outcome", default);

        await ledger.ForgetAsync(forgotten, "a", default);
        await ledger.ForgetAsync(pending, "intruder", default);
        await ledger.ForgetAsync(unknown, "a", default);
        await ledger.ForgetAsync(recorded, "a", default);

        Assert.Equal(new LedgerClaim(LedgerState.Claimed), await ledger.ClaimAsync(forgotten, "other", "b", default));
        Assert.Equal(LedgerState.Pending, (await ledger.ClaimAsync(pending, "fp", "b", default)).State);
        Assert.Equal(LedgerState.Reused, (await ledger.ClaimAsync(unknown, "other", "b", default)).State);
        Assert.Equal(LedgerState.Recorded, (await ledger.ClaimAsync(recorded, "fp", "b", default)).State);
    }
}
