using EntitlementGateway.Store.Resilience;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace EntitlementGateway.Store;

/// <summary>
/// The <c>store</c> readiness entry: where the Store is, and Degraded while this replica's circuit is open. Degraded,
/// not Unhealthy: the Store is shared, so taking every replica out of the load balancer would only turn stale answers
/// and clear 503s into refused connections.
/// </summary>
internal sealed class StoreCircuitHealthCheck(IHealthCheck store, StoreResiliencePipelines pipelines) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var located = await store.CheckHealthAsync(context, cancellationToken);
        // Not Polly's state: after the break it stays Open until the next call, and an idle replica would stay Degraded.
        if (located.Status != HealthStatus.Healthy || !pipelines.CircuitRefusesNow) return located;
        var until = pipelines.OpenUntil is { } at ? $" until {at:HH:mm:ss} UTC" : "";
        return HealthCheckResult.Degraded($"{located.Description}; the circuit is open{until}: the Store failed too often, so calls are not sent (stale answers or 503 upstream_unavailable).");
    }
}
