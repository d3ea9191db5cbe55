using System.Diagnostics;
using EntitlementGateway.Budget;
using EntitlementGateway.IntegrationTests.Infrastructure;

namespace EntitlementGateway.IntegrationTests.Budget;

/// <summary>Redis going away never hangs a request: one exception type within the timeout, and recovery when it returns.</summary>
[Collection(RedisCollection.Name)]
public sealed class RedisBudgetAvailabilityTests(RedisServerFixture redis)
{
    private const int TimeoutMs = 250;

    // The hard timeout plus 1.5 s for a timer continuation on a starved thread pool (a loaded 2-core CI machine); still
    // below the 2 s connect timeout and the 3 s stall, so passing means the operation timeout, not something else, ended the call.
    private static readonly TimeSpan Bound = TimeSpan.FromMilliseconds(TimeoutMs + 1500);

    [LocalRedisFact]
    public async Task WhenRedisStops_CallsFailWithBudgetUnavailableWithinTheTimeout_AndWorkAgainAfterItRestarts()
    {
        var user = "user-" + Guid.NewGuid().ToString("N");
        await using var replica = new BudgetReplica(redis.ConnectionString, limit: 5, windowSeconds: 2, operationTimeoutMs: TimeoutMs);
        await replica.Budget.WarmUpAsync(); // connect + SCRIPT LOAD: 250 ms is too short for them on a busy machine
        Assert.True((await replica.Budget.TryAcquireAsync(user)).Allowed);

        await redis.StopAsync();
        try
        {
            for (var i = 0; i < 5; i++)
            {
                var watch = Stopwatch.StartNew();
                await Assert.ThrowsAsync<BudgetUnavailableException>(() => replica.Budget.TryAcquireAsync(user).AsTask());
                Assert.True(watch.Elapsed < Bound, $"call {i} took {watch.Elapsed.TotalMilliseconds} ms");
            }

            var refund = Stopwatch.StartNew();
            await Assert.ThrowsAsync<BudgetUnavailableException>(() => replica.Budget.RefundAsync(user, "x").AsTask());
            await Assert.ThrowsAsync<BudgetUnavailableException>(() => replica.Budget.BlockUntilAsync(user, DateTimeOffset.UtcNow.AddSeconds(1)).AsTask());
            await Assert.ThrowsAsync<BudgetUnavailableException>(() => replica.Budget.GetAsync(user).AsTask());
            Assert.True(refund.Elapsed < 3 * Bound);
        }
        finally
        {
            await redis.StartAgainAsync();
        }

        // The multiplexer reconnects on its own; the restarted server has no scripts, so this also exercises NOSCRIPT.
        var recovered = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                Assert.True((await replica.Budget.TryAcquireAsync(user)).Allowed);
                break;
            }
            catch (BudgetUnavailableException) when (recovered.Elapsed < TimeSpan.FromSeconds(20))
            {
                await Task.Delay(100);
            }
        }

        Assert.Equal(1, (await replica.Budget.GetAsync(user)).Used); // the restarted server kept nothing
    }

    [LocalRedisFact]
    public async Task WhenRedisStalls_CallFailsWithBudgetUnavailableWithinTheTimeout_AndTheConnectionStaysUsable()
    {
        var user = "user-" + Guid.NewGuid().ToString("N");
        // A window longer than the test: the count below must not depend on how long redis-cli took to start.
        await using var replica = new BudgetReplica(redis.ConnectionString, limit: 5, windowSeconds: 60, operationTimeoutMs: TimeoutMs);
        await replica.Budget.WarmUpAsync(); // connect + SCRIPT LOAD: 250 ms is too short for them on a busy machine
        Assert.True((await replica.Budget.TryAcquireAsync(user)).Allowed);

        var stall = redis.StallAsync(TimeSpan.FromSeconds(3));
        await redis.WaitUntilStalledAsync();

        var watch = Stopwatch.StartNew();
        await Assert.ThrowsAsync<BudgetUnavailableException>(() => replica.Budget.TryAcquireAsync(user).AsTask());
        Assert.True(watch.Elapsed < Bound, $"took {watch.Elapsed.TotalMilliseconds} ms");

        await stall;

        // The abandoned acquire still ran once Redis woke up: it took a unit (erring towards fewer calls, never more).
        Assert.True((await replica.Budget.TryAcquireAsync(user)).Allowed);
        Assert.Equal(3, (await replica.Budget.GetAsync(user)).Used);
    }

    [Fact]
    public async Task WhenNothingListens_FirstCallFailsWithBudgetUnavailableWithinTheTimeout()
    {
        var port = LoopbackPort.Free();

        await using var replica = new BudgetReplica($"127.0.0.1:{port}", limit: 5, windowSeconds: 2, operationTimeoutMs: TimeoutMs);

        var watch = Stopwatch.StartNew();
        await Assert.ThrowsAsync<BudgetUnavailableException>(() => replica.Budget.TryAcquireAsync("u").AsTask());
        Assert.True(watch.Elapsed < Bound, $"took {watch.Elapsed.TotalMilliseconds} ms");
    }

    [LocalRedisFact]
    public async Task WhileRedisDoesNotAnswer_EachFailedCallIsADebugLine_NotAWarningWithItsStack()
    {
        var levels = new System.Collections.Concurrent.ConcurrentQueue<Microsoft.Extensions.Logging.LogLevel>();
        await using var replica = new BudgetReplica(redis.ConnectionString, limit: 5, windowSeconds: 60, operationTimeoutMs: TimeoutMs,
            logger: new EventLevels(levels));
        await replica.Budget.WarmUpAsync();

        var stall = redis.StallAsync(TimeSpan.FromSeconds(2));
        await redis.WaitUntilStalledAsync();
        for (var i = 0; i < 3; i++) await Assert.ThrowsAsync<BudgetUnavailableException>(() => replica.Budget.TryAcquireAsync("user-" + i).AsTask());
        await stall;

        Assert.Equal(3, levels.Count);
        Assert.All(levels, level => Assert.Equal(Microsoft.Extensions.Logging.LogLevel.Debug, level));
    }

    /// <summary>The level of each "budget store unavailable" line.</summary>
    private sealed class EventLevels(System.Collections.Concurrent.ConcurrentQueue<Microsoft.Extensions.Logging.LogLevel> levels) : Microsoft.Extensions.Logging.ILogger<RedisUserBudget>
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(Microsoft.Extensions.Logging.LogLevel logLevel) => true;

        public void Log<TState>(Microsoft.Extensions.Logging.LogLevel logLevel, Microsoft.Extensions.Logging.EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (eventId.Id == EntitlementGateway.Infrastructure.Logging.EventIds.BudgetRedisCallFailed) levels.Enqueue(logLevel);
        }
    }
}
