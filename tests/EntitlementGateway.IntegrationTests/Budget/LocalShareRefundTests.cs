using EntitlementGateway.Budget;
using EntitlementGateway.IntegrationTests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace EntitlementGateway.IntegrationTests.Budget;

/// <summary>LocalShare mirrors each Redis unit in the replica's own log; a refund must give both back.</summary>
[Collection(RedisCollection.Name)]
public sealed class LocalShareRefundTests(RedisServerFixture redis)
{
    [LocalRedisFact]
    public async Task UnitsRefundedWhileRedisAnswered_AreNotCountedByTheLocalShareWhenRedisGoesAway()
    {
        var user = "user-" + Guid.NewGuid().ToString("N");
        await using var replica = new BudgetReplica(redis.ConnectionString, limit: 2, windowSeconds: 60, operationTimeoutMs: 250);
        var options = new BudgetOptions { Limit = 2, WindowSeconds = 60, SafetyMarginMs = 0, WhenRedisUnavailable = RedisUnavailablePolicy.LocalShare, Replicas = 1 };
        var budget = new FailoverUserBudget(replica.Budget, Options.Create(options), TimeProvider.System, NullLogger<FailoverUserBudget>.Instance);

        // Two forged UCIDs: units taken (Redis and the local mirror), then refunded when the Store refused them.
        for (var i = 0; i < 2; i++)
        {
            var decision = await budget.TryAcquireAsync(user);
            Assert.True(decision.Allowed);
            await budget.RefundAsync(user, decision.Lease!);
        }
        Assert.Equal(0, (await replica.Budget.GetAsync(user)).Used);

        await redis.StopAsync();
        try
        {
            // The local share is whole again: both units were given back locally too.
            Assert.True((await budget.TryAcquireAsync(user)).Allowed);
            Assert.True((await budget.TryAcquireAsync(user)).Allowed);
            Assert.False((await budget.TryAcquireAsync(user)).Allowed);
        }
        finally
        {
            await redis.StartAgainAsync();
        }
    }
}
