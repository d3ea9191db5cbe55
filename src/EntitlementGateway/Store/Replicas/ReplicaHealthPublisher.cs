using EntitlementGateway.Store.Resilience;
using Microsoft.Extensions.Options;

namespace EntitlementGateway.Store.Replicas;

/// <summary>
/// With Redis, writes this replica's Store health every ReplicaHealth:PublishIntervalMs (the first at start-up), so any
/// replica's ops console shows them all. Without Redis it does nothing: there is only this replica.
/// </summary>
public sealed class ReplicaHealthPublisher(
    ReplicaHealthStore store,
    StoreHealth health,
    StoreResiliencePipelines pipelines,
    StoreCredentialsMonitor credentials,
    IOptions<ReplicaHealthOptions> options,
    TimeProvider time) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!store.Shared) return;
        using var timer = new PeriodicTimer(options.Value.PublishInterval, time);
        do
        {
            // A failure is logged by the store and retried at the next tick.
            await store.PublishAsync(health.Report(pipelines, credentials), stoppingToken);
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}
