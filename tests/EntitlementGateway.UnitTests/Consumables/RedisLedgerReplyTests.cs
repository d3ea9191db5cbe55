using EntitlementGateway.Consumables;
using StackExchange.Redis;

namespace EntitlementGateway.UnitTests.Consumables;

/// <summary>The first claim's instant as the Redis ledger's claim script answers it.</summary>
public sealed class RedisLedgerReplyTests
{
    [Fact]
    public void FirstClaimedAt_IsTheRepliedRedisTimeInMilliseconds()
    {
        var reply = new[] { RedisResult.Create((RedisValue)"resumed"), RedisResult.Create((RedisValue)"1764734000123") };

        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1_764_734_000_123), RedisConsumeLedger.FirstClaimedAt(reply));
    }

    [Theory]
    [InlineData(null)] // an entry written before the first claim was kept
    [InlineData("")]
    [InlineData("-5")]
    [InlineData("1.5e12")]
    [InlineData(" 17")]
    [InlineData("253402300800000")] // one millisecond past DateTimeOffset.MaxValue
    public void FirstClaimedAt_IsNull_WhenMissingOrNotAPlainInstant(string? since)
    {
        var reply = new[] { RedisResult.Create((RedisValue)"resumed"), RedisResult.Create(since is null ? RedisValue.Null : (RedisValue)since) };

        Assert.Null(RedisConsumeLedger.FirstClaimedAt(reply));
    }

    [Fact]
    public void FirstClaimedAt_IsNull_ForAReplyOfOneElement() =>
        Assert.Null(RedisConsumeLedger.FirstClaimedAt([RedisResult.Create((RedisValue)"resumed")]));

    [Fact]
    public void FirstClaimedAt_TakesTheLastInstantDateTimeOffsetHolds() =>
        Assert.Equal(DateTimeOffset.MaxValue.AddTicks(-(DateTimeOffset.MaxValue.Ticks % TimeSpan.TicksPerMillisecond)),
            RedisConsumeLedger.FirstClaimedAt([RedisResult.Create((RedisValue)"resumed"), RedisResult.Create((RedisValue)"253402300799999")]));
}
