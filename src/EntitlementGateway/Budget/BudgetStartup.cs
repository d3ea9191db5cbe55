using EntitlementGateway.Infrastructure.Logging;
using Microsoft.Extensions.Options;
namespace EntitlementGateway.Budget;

/// <summary>
/// Says at start-up which budget runs (the in-memory one is only correct for one replica) and, for Redis, connects and
/// loads the scripts early. Never fails start-up: Redis being down is handled per call by the caller's policy.
/// </summary>
internal sealed partial class BudgetStartup(IUserBudget budget, IServiceProvider services, IOptions<BudgetOptions> options, ILogger<BudgetStartup> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        switch (budget)
        {
            case InMemoryUserBudget when options.Value.Replicas == 1:
                Log.InMemory(logger);
                break;
            case InMemoryUserBudget:
                Log.InMemoryShare(logger, options.Value.Replicas, options.Value.LocalShare);
                break;
            case FailoverUserBudget when services.GetService<RedisUserBudget>() is { } redis:
                try
                {
                    await redis.WarmUpAsync(cancellationToken);
                    Log.RedisReady(logger);
                }
                catch (BudgetUnavailableException e) when (redis.CredentialsRefused)
                {
                    Log.RedisCredentialsRefused(logger, e);
                }
                catch (BudgetUnavailableException e)
                {
                    Log.RedisNotReady(logger, e);
                }

                break;
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private static partial class Log
    {
        [LoggerMessage(EventId = EventIds.BudgetInMemory, EventName = nameof(EventIds.BudgetInMemory), Level = LogLevel.Warning, Message = "Budget: in memory. Correct for ONE replica only; set Redis:ConnectionString when running more.")]
        public static partial void InMemory(ILogger logger);

        [LoggerMessage(EventId = EventIds.BudgetInMemoryShare, EventName = nameof(EventIds.BudgetInMemoryShare), Level = LogLevel.Warning, Message = "Budget: in memory with Budget:Replicas={Replicas} and no Redis:ConnectionString: each replica allows {Share} calls per player per window; set Redis:ConnectionString to share the whole limit.")]
        public static partial void InMemoryShare(ILogger logger, int replicas, int share);

        [LoggerMessage(EventId = EventIds.BudgetRedisReady, EventName = nameof(EventIds.BudgetRedisReady), Level = LogLevel.Information, Message = "Budget: Redis, connected and scripts loaded.")]
        public static partial void RedisReady(ILogger logger);

        [LoggerMessage(EventId = EventIds.BudgetRedisNotReady, EventName = nameof(EventIds.BudgetRedisNotReady), Level = LogLevel.Warning, Message = "Budget: Redis not reachable at start-up; will keep reconnecting.")]
        public static partial void RedisNotReady(ILogger logger, Exception exception);

        [LoggerMessage(EventId = EventIds.BudgetRedisCredentialsRefused, EventName = nameof(EventIds.BudgetRedisCredentialsRefused), Level = LogLevel.Error, Message = "Budget: Redis refused the gateway's credentials (the password or user in Redis:ConnectionString); every budget call fails until they are fixed, and readiness is Unhealthy.")]
        public static partial void RedisCredentialsRefused(ILogger logger, Exception exception);
    }
}
