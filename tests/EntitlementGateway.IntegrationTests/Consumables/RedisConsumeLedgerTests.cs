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
}
