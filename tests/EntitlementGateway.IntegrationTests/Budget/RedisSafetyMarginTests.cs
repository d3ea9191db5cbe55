using EntitlementGateway.Budget;
using EntitlementGateway.Hosting;
using EntitlementGateway.IntegrationTests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using EntitlementGateway.Infrastructure.Redis;

namespace EntitlementGateway.IntegrationTests.Budget;

/// <summary>Budget:SafetyMarginMs on the Redis budget: a unit counts that much past the window.</summary>
[Collection(RedisCollection.Name)]
public sealed class RedisSafetyMarginTests(RedisServerFixture redis)
{
    [Fact]
    public async Task AUnit_OnRedis_CountsTheSafetyMarginPastTheWindow()
    {
        var options = new RedisOptions { ConnectionString = redis.ConnectionString, OperationTimeoutMs = 5_000 };
        await using var connection = new RedisConnection(Options.Create(options));
        var budget = new RedisUserBudget(connection,
            Options.Create(new BudgetOptions { Limit = 1, WindowSeconds = 10, SafetyMarginMs = 5_000 }),
            Options.Create(options), TimeProvider.System, NullLogger<RedisUserBudget>.Instance);
        var key = "margin-" + Guid.NewGuid().ToString("N");
        Assert.True((await budget.TryAcquireAsync(key)).Allowed);

        var denied = await budget.TryAcquireAsync(key);

        // Without the margin the unit would free up within the 10 s window; with it, up to 15 s after it was taken.
        Assert.False(denied.Allowed);
        Assert.InRange(denied.RetryAfter, TimeSpan.FromSeconds(10) + TimeSpan.FromTicks(1), TimeSpan.FromSeconds(15));
    }
}
