using System.Runtime.CompilerServices;
using EntitlementGateway.Infrastructure.Http;
using EntitlementGateway.Infrastructure;
using EntitlementGateway.Infrastructure.Logging;
using EntitlementGateway.Infrastructure.Redis;
using EntitlementGateway.Store;
using Microsoft.Extensions.Options;

namespace EntitlementGateway.Clawback;

/// <summary>Refunds and chargebacks: the queue reader, the webhook outbox, the order book and their shared state.</summary>
public static partial class ClawbackSetup
{
    public const string StoreClientName = "clawback-store";

    public static IServiceCollection AddClawback(this IServiceCollection services)
    {
        services.AddValidatedOptions<ClawbackOptions, ClawbackOptionsValidator>(ClawbackOptions.Section);
        // Shared through Redis when it is configured (any number of replicas), else in this process (one replica).
        services.AddSingleton<IClawbackStore>(sp =>
        {
            var redis = sp.GetRequiredService<IOptions<RedisOptions>>();
            if (redis.Value.Configured) return RedisStore(sp, redis);
            if (sp.GetRequiredService<IOptions<ClawbackOptions>>().Value.Enabled)
                LogInMemory(sp.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(ClawbackSetup).FullName!));
            return new InMemoryClawbackStore(sp.GetRequiredService<TimeProvider>());
        });
        services.Configure<Microsoft.AspNetCore.Http.Json.JsonOptions>(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, ClawbackRecordJsonContext.Default));
        services.AddSingleton<OrderBook>();
        services.AddSingleton<EntitlementGateway.Consumables.IConsumeListener, ConsumedOrders>();
        services.AddSingleton<WebhookSignal>();
        services.AddSingleton<ClawbackProcessor>();
        services.AddHttpClient(StoreClientName, (sp, client) =>
            {
                client.Timeout = TimeSpan.FromSeconds(sp.GetRequiredService<IOptions<StoreOptions>>().Value.TimeoutSeconds);
                client.DefaultRequestHeaders.UserAgent.Add(StoreWire.UserAgent);
            })
            .ConfigurePrimaryHttpMessageHandler(sp => StoreTls.CreateHandler(sp.GetRequiredService<IStoreLocator>()));
        // One instance keeps the SAS URI between reads.
        services.AddClientOnce<ClawbackSasClient>(StoreClientName);
        // Named clients made once for the one worker that uses each (AddClientOnce says why not typed clients).
        services.AddHttpClient(nameof(AzureQueueClient), client =>
            {
                // AzureQueueClient.CallTimeout bounds each call, its answer's body included: the one bound.
                client.Timeout = Timeout.InfiniteTimeSpan;
                client.DefaultRequestHeaders.UserAgent.Add(StoreWire.UserAgent);
            })
            .ConfigurePrimaryHttpMessageHandler(sp => StoreTls.CreateHandler(sp.GetRequiredService<IStoreLocator>()));
        services.AddClientOnce<AzureQueueClient>(nameof(AzureQueueClient));
        // The receiver is the studio's: system trust only, and no redirects (a 3xx is not an acknowledgement).
        services.AddHttpClient(nameof(WebhookSender), client => client.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AllowAutoRedirect = false, PooledConnectionLifetime = TimeSpan.FromMinutes(5) });
        services.AddClientOnce<WebhookSender>(nameof(WebhookSender));
        services.AddHostedService<ClawbackWorker>();
        services.AddHostedService<WebhookDeliveryWorker>();
        return services;
    }

    // A method of its own, never inlined: compiling the factory above then does not load the Redis client where no Redis
    // is configured.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static IClawbackStore RedisStore(IServiceProvider services, IOptions<RedisOptions> redis) =>
        new RedisClawbackStore(services.GetRequiredService<RedisConnection>(), redis);

    [LoggerMessage(EventId = EventIds.ClawbackInMemory, EventName = nameof(EventIds.ClawbackInMemory), Level = LogLevel.Warning,
        Message = "Clawback state is in memory (no Redis:ConnectionString): run one replica only; order ids, handled events and pending webhooks are lost on restart")]
    private static partial void LogInMemory(ILogger logger);
}
