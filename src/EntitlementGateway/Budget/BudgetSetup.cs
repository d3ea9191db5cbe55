using Microsoft.Extensions.Diagnostics.HealthChecks;
using EntitlementGateway.Hosting;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using EntitlementGateway.Infrastructure.Redis;
using EntitlementGateway.Infrastructure;

namespace EntitlementGateway.Budget;

public static class BudgetSetup
{
    private static readonly IHealthCheck InMemoryBudgetHealth = new InMemoryHealth();

    private sealed class InMemoryHealth : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
            Task.FromResult(HealthCheckResult.Healthy("In-memory budget (one replica only)."));
    }

    /// <summary>
    /// The per-user budget: shared in Redis when <c>Redis:ConnectionString</c> is set, otherwise in memory (one
    /// replica only; logged at start-up). Options are validated at start-up.
    /// </summary>
    public static IServiceCollection AddUserBudget(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);

        services.AddValidatedOptions<BudgetOptions, BudgetOptionsValidator>(BudgetOptions.Section);
        services.AddValidatedOptions<RedisOptions, RedisOptionsValidator>(RedisOptions.Section);
        services.TryAddSingleton(TimeProvider.System);

        // Which budget runs is decided from the validated Redis options, when the container builds it.
        services.TryAddSingleton<InMemoryUserBudget>();
        services.TryAddSingleton<RedisConnection>();
        services.TryAddSingleton<RedisUserBudget>();
        services.TryAddSingleton<FailoverUserBudget>();
        services.TryAddSingleton<IUserBudget>(sp => sp.GetRequiredService<IOptions<RedisOptions>>().Value.Configured
            ? sp.GetRequiredService<FailoverUserBudget>()
            : sp.GetRequiredService<InMemoryUserBudget>());
        services.AddHealthChecks().Add(new HealthCheckRegistration("budget",
            sp => sp.GetRequiredService<IUserBudget>() as IHealthCheck ?? InMemoryBudgetHealth, null, [HealthTags.Ready]));

        services.AddHostedService<BudgetStartup>();
        return services;
    }
}
