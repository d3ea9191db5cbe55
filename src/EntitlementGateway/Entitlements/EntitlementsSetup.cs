using Microsoft.Extensions.Options;
using EntitlementGateway.Entitlements.Caching;
using EntitlementGateway.Infrastructure.Redis;
using EntitlementGateway.Infrastructure;

namespace EntitlementGateway.Entitlements;

/// <summary>The entitlement query: orchestration, the result cache and the default catalog.</summary>
public static class EntitlementsSetup
{
    /// <summary>The query orchestration, the result cache (L2 in Redis when configured) and the default catalog.</summary>
    public static IServiceCollection AddEntitlements(this IServiceCollection services)
    {
        services.AddValidatedOptions<CatalogOptions, CatalogOptionsValidator>(CatalogOptions.Section);
        services.AddValidatedOptions<CacheOptions, CacheOptionsValidator>(CacheOptions.Section);
        services.AddValidatedOptions<GamePassOptions, GamePassOptionsValidator>(GamePassOptions.Section);
        // L2 only when Redis is configured (validated options decide, as for the budget).
        services.AddSingleton(sp =>
        {
            var redis = sp.GetRequiredService<IOptions<RedisOptions>>();
            return new ResultCache(sp.GetRequiredService<IOptions<CacheOptions>>(), redis, sp.GetRequiredService<TimeProvider>(),
                sp.GetRequiredService<ILogger<ResultCache>>(), redis.Value.Configured ? sp.GetRequiredService<RedisConnection>() : null,
                sp.GetRequiredService<Infrastructure.Telemetry.GatewayMetrics>());
        });
        services.AddSingleton<CachedEntitlementQueries>();
        // Stateless between queries (every dependency is a singleton): no scope to create per Store call sequence.
        services.AddSingleton<EntitlementQueryService>();
        // The query body's JSON, reading userCollectionsId against the accepted tokens (no token string on a cache hit).
        services.AddSingleton<Api.EntitlementQueryJson>();
        return services;
    }
}
