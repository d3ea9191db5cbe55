using EntitlementGateway.Hosting;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

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

        services.AddOptions<BudgetOptions>().BindConfiguration(BudgetOptions.Section).ValidateDataAnnotations()
            .Validate(o => o.WhenRedisUnavailable != RedisUnavailablePolicy.LocalShare || o.Replicas <= o.Limit,
                "Budget:Replicas must not exceed Budget:Limit with Budget:WhenRedisUnavailable=LocalShare (each replica's share would be 0).")
            .ValidateOnStart();
        services.AddOptions<RedisOptions>().BindConfiguration(RedisOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RedisOptions>, RedisOptionsValidator>());
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
            services.AddHealthChecks().AddCheck<FailoverUserBudget>("budget-redis", tags: [Hosting.HealthSetup.ReadyTag]);
        }

        services.AddHostedService<BudgetStartup>();
        return services;
    }
}
