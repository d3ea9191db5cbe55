using StackExchange.Redis;

namespace EntitlementGateway.UnitTests.Budget;

/// <summary>Facts about StackExchange.Redis that RedisUserBudget's error handling relies on (checked on 1.2.6; true in 2.x).</summary>
public sealed class RedisClientAssumptionsTests
{
    [Fact]
    public void RedisTimeoutException_IsATimeoutException_NotARedisException()
    {
        Assert.True(typeof(RedisTimeoutException).IsAssignableTo(typeof(TimeoutException)));
        Assert.False(typeof(RedisTimeoutException).IsAssignableTo(typeof(RedisException)));
    }

    [Fact]
    public void ConnectionAndServerErrors_AreRedisExceptions()
    {
        Assert.True(typeof(RedisConnectionException).IsAssignableTo(typeof(RedisException)));
        Assert.True(typeof(RedisServerException).IsAssignableTo(typeof(RedisException)));
    }
}
