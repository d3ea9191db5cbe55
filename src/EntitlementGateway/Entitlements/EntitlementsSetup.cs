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
        services.AddSingleton(sp => ActivatorUtilities.CreateInstance<ResultCache>(sp,
            sp.GetService<RedisConnection>() is { } redis ? [redis] : []));
        services.AddSingleton<CachedEntitlementQueries>();
        services.AddScoped<EntitlementQueryService>();
        return services;
    }
}
