using EntitlementGateway.Budget;
using EntitlementGateway.IntegrationTests.Infrastructure;

namespace EntitlementGateway.IntegrationTests.Budget;

/// <summary>A server with <c>requirepass</c>: the password in the connection string is used, and its absence fails cleanly.</summary>
public sealed class RedisPasswordTests(PasswordRedisServerFixture redis) : IClassFixture<PasswordRedisServerFixture>
{
    [LocalRedisFact]
    public async Task Connects_WithPassword_ByHostName()
    {
        await using var replica = new BudgetReplica(redis.ConnectionStringByHostName, limit: 2, windowSeconds: 2);

        Assert.True((await replica.Budget.TryAcquireAsync("u")).Allowed);
        Assert.True((await replica.Budget.TryAcquireAsync("u")).Allowed);
        Assert.False((await replica.Budget.TryAcquireAsync("u")).Allowed);
    }

    [LocalRedisFact]
    public async Task WithoutThePassword_CallsFailWithBudgetUnavailable()
    {
        await using var replica = new BudgetReplica($"127.0.0.1:{redis.Port}", limit: 2, windowSeconds: 2);

        await Assert.ThrowsAsync<BudgetUnavailableException>(() => replica.Budget.TryAcquireAsync("u").AsTask());
    }
}
