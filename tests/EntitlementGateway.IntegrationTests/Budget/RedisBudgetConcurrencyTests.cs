using EntitlementGateway.IntegrationTests.Infrastructure;

namespace EntitlementGateway.IntegrationTests.Budget;

/// <summary>The limit holds under contention, within one process and across two "replicas" (two multiplexers).</summary>
[Collection(RedisCollection.Name)]
public sealed class RedisBudgetConcurrencyTests(RedisServerFixture redis)
{
    private const int Limit = 50;
    private const int WindowSeconds = 60;

    [Fact]
    public async Task ConcurrentAcquires_FromManyTasks_NeverAdmitMoreThanLimit()
    {
        var user = "user-" + Guid.NewGuid().ToString("N");
        await using var replica = new BudgetReplica(redis.ConnectionString, Limit, WindowSeconds);

        var decisions = await Task.WhenAll(Enumerable.Range(0, 400).Select(_ => replica.Budget.TryAcquireAsync(user).AsTask()));

        Assert.Equal(Limit, decisions.Count(d => d.Allowed));
        Assert.Equal(Limit, decisions.Where(d => d.Allowed).Select(d => d.Lease).Distinct().Count());
        Assert.Equal(Limit, (await replica.Budget.GetAsync(user)).Used);
    }

    [Fact]
    public async Task ConcurrentAcquires_FromTwoReplicas_NeverAdmitMoreThanLimitInTotal()
    {
        var users = Enumerable.Range(0, 4).Select(i => $"user-{i}-" + Guid.NewGuid().ToString("N")).ToArray();
        await using var first = new BudgetReplica(redis.ConnectionString, Limit, WindowSeconds);
        await using var second = new BudgetReplica(redis.ConnectionStringByHostName, Limit, WindowSeconds);

        // 16 workers per replica, each hammering every user: 4 users x 300 attempts, 50 allowed each.
        async Task<List<(string User, bool Allowed)>> Worker(BudgetReplica replica, int seed)
        {
            var results = new List<(string, bool)>();
            for (var i = 0; i < 300 / 32 * users.Length + 4; i++)
            {
                var user = users[(seed + i) % users.Length];
                results.Add((user, (await replica.Budget.TryAcquireAsync(user)).Allowed));
            }

            return results;
        }

        var workers = Enumerable.Range(0, 16).SelectMany(i => new[] { Worker(first, i), Worker(second, i + 1) });
        var all = (await Task.WhenAll(workers)).SelectMany(r => r).ToList();

        foreach (var user in users)
        {
            var attempts = all.Where(r => r.User == user).ToList();
            Assert.True(attempts.Count > Limit, $"test needs more attempts than the limit ({attempts.Count})");
            Assert.Equal(Limit, attempts.Count(r => r.Allowed));
        }
    }
}
