using EntitlementGateway.Hosting;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using EntitlementGateway.Infrastructure.Redis;
using EntitlementGateway.Infrastructure;

namespace EntitlementGateway.Budget;

public static class BudgetServiceCollectionExtensions
{
    /// <summary>
    /// The per-user budget: shared in Redis when <c>Redis:ConnectionString</c> is set, otherwise in memory (one
    /// replica only; logged at start-up). Options are validated at start-up.
    /// </summary>
    public static IServiceCollection AddUserBudget(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);

        services.AddValidatedOptions<BudgetOptions, BudgetOptionsValidator>(BudgetOptions.Section);
        services.AddValidatedOptions<RedisOptions, RedisOptionsValidator>(RedisOptions.Section);
        services.TryAddSingleton(TimeProvider.System);

        var connectionString = configuration[$"{RedisOptions.Section}:{nameof(RedisOptions.ConnectionString)}"];
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            services.TryAddSingleton<IUserBudget, InMemoryUserBudget>();
        }
        else
        {
            services.TryAddSingleton<RedisConnection>();
            services.TryAddSingleton<RedisUserBudget>();
            services.TryAddSingleton<FailoverUserBudget>();
            services.TryAddSingleton<IUserBudget>(sp => sp.GetRequiredService<FailoverUserBudget>());
            services.AddHealthChecks().AddCheck<FailoverUserBudget>("budget-redis", tags: [HealthTags.Ready]);
        }

        services.AddHostedService<BudgetStartup>();
        return services;
    }
}
