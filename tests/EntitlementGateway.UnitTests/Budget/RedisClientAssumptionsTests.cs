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

/// <summary>How a refused password is told apart from an outage in the client's connect log.</summary>
public sealed class RedisCredentialsRefusedTests
{
    [Theory]
    [InlineData("127.0.0.1:6379 faulted: AuthenticationFailure on PING")]
    [InlineData("Response from Interactive/127.0.0.1:6379 / ECHO: Error: NOAUTH Authentication required.")]
    [InlineData("Error: WRONGPASS invalid username-password pair or user is disabled.")]
    [InlineData("Error: ERR Invalid password")]
    public void TheServersRefusal_IsRecognised(string line) =>
        Assert.True(EntitlementGateway.Infrastructure.Redis.RedisConnection.ShowsRefusedCredentials("Connecting...\n" + line + "\nNo masters detected"));

    [Theory]
    [InlineData("127.0.0.1:6379 faulted: SocketFailure on PING\nNo masters detected")]
    [InlineData("127.0.0.1:6379 faulted: UnableToConnect on PING")]
    [InlineData("")]
    [InlineData("Authenticating (password)\nfaulted: authenticationfailure")] // the client's words are matched as it writes them
    public void AnOutage_IsNotARefusal(string log) =>
        Assert.False(EntitlementGateway.Infrastructure.Redis.RedisConnection.ShowsRefusedCredentials(log));
}
