using Microsoft.Extensions.Diagnostics.HealthChecks;
using EntitlementGateway.Hosting;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using EntitlementGateway.Infrastructure.Redis;
using EntitlementGateway.Infrastructure;

namespace EntitlementGateway.Budget;

public static class BudgetSetup
{
    /// <summary>
    /// Without Redis: healthy for one replica; degraded when <c>Budget:Replicas</c> says more run, because each then
    /// keeps only its share of the limit.
    /// </summary>
    internal sealed class InMemoryHealth(BudgetOptions options) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
            Task.FromResult(options.Replicas == 1
                ? HealthCheckResult.Healthy("In-memory budget (one replica only).")
                : HealthCheckResult.Degraded($"In-memory budget without Redis for {options.Replicas} replicas: each allows {options.LocalShare} calls per player per window."));
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
        // Replicas that cannot share a count each keep their share of the limit, so together they stay within it.
        services.TryAddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<BudgetOptions>>().Value;
            return new InMemoryUserBudget(Options.Create(options.ShareOfOneReplica()), sp.GetRequiredService<TimeProvider>());
        });
        services.TryAddSingleton<RedisConnection>();
        services.TryAddSingleton<RedisUserBudget>();
        services.TryAddSingleton<FailoverUserBudget>();
        services.TryAddSingleton<IUserBudget>(sp => sp.GetRequiredService<IOptions<RedisOptions>>().Value.Configured
            ? sp.GetRequiredService<FailoverUserBudget>()
            : sp.GetRequiredService<InMemoryUserBudget>());
        services.AddHealthChecks().Add(new HealthCheckRegistration("budget",
            sp => sp.GetRequiredService<IUserBudget>() as IHealthCheck ?? new InMemoryHealth(sp.GetRequiredService<IOptions<BudgetOptions>>().Value), null, [HealthTags.Ready]));

        services.AddHostedService<BudgetStartup>();
        return services;
    }
}
