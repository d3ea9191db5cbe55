using EntitlementGateway.Infrastructure;
using EntitlementGateway.Infrastructure.Redis;
using Microsoft.Extensions.Options;

namespace EntitlementGateway.Consumables;

/// <summary>Consume: options, the ledger (Redis when configured, else memory) and the orchestration.</summary>
public static class ConsumablesSetup
{
    public static IServiceCollection AddConsumables(this IServiceCollection services)
    {
        services.AddValidatedOptions<ConsumeOptions, ConsumeOptionsValidator>(ConsumeOptions.Section);
        // Chosen from validated options when first built, as the budget and the result cache are.
        services.AddSingleton<IConsumeLedger>(sp => sp.GetRequiredService<IOptions<RedisOptions>>().Value.Configured
            ? new RedisConsumeLedger(sp.GetRequiredService<RedisConnection>(), sp.GetRequiredService<IOptions<ConsumeOptions>>(),
                sp.GetRequiredService<IOptions<RedisOptions>>())
            : new InMemoryConsumeLedger(sp.GetRequiredService<IOptions<ConsumeOptions>>(), sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<ConsumeLedgerFailures>();
        services.AddScoped<ConsumeService>();
        return services;
    }
}
