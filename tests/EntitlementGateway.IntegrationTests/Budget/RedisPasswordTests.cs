using EntitlementGateway.Budget;
using EntitlementGateway.IntegrationTests.Infrastructure;

namespace EntitlementGateway.IntegrationTests.Budget;

/// <summary>A server with <c>requirepass</c>: the password in the connection string is used, and its absence fails cleanly.</summary>
public sealed class RedisPasswordTests(PasswordRedisServerFixture redis) : IClassFixture<PasswordRedisServerFixture>
{
    [Fact]
    public async Task Connects_WithPassword_ByHostName()
    {
        if (redis.External is not null)
        {
            return; // REDIS_URL names one server; its password, if any, is in that URL
        }

        await using var replica = new BudgetReplica(redis.ConnectionStringByHostName, limit: 2, windowSeconds: 2);

        Assert.True((await replica.Budget.TryAcquireAsync("u")).Allowed);
        Assert.True((await replica.Budget.TryAcquireAsync("u")).Allowed);
        Assert.False((await replica.Budget.TryAcquireAsync("u")).Allowed);
    }

    [Fact]
    public async Task WithoutThePassword_CallsFailWithBudgetUnavailable()
    {
        if (redis.External is not null)
        {
            return;
        }

        await using var replica = new BudgetReplica($"127.0.0.1:{redis.Port}", limit: 2, windowSeconds: 2);

        await Assert.ThrowsAsync<BudgetUnavailableException>(() => replica.Budget.TryAcquireAsync("u").AsTask());
    }
}
