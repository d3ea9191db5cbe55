using EntitlementGateway.Infrastructure;
using EntitlementGateway.Store;
using EntitlementGateway.Store.Replicas;
using EntitlementGateway.Store.Resilience;
using Microsoft.AspNetCore.Http.HttpResults;

namespace EntitlementGateway.Api;

/// <summary>Read-only views for operators: the Store path's health and the settings in effect, on the replica that answers (and the Store health of every replica).</summary>
public static class OpsDiagnosticsApi
{
    public static RouteGroupBuilder MapOpsDiagnostics(this RouteGroupBuilder group)
    {
        group.MapGet("/store/health", GetStoreHealthAsync)
            .WithName("GetStoreHealth")
            .WithSummary("The Store path's health on this replica and every other")
            .WithDescription("Circuit state (each replica has its own), the last Store errors by problem code, the service token's state " +
                             "(never its value) and whether the Store is refusing the gateway's credentials: this replica's at the top level, " +
                             "every live replica's in replicas (newest first, shared through Redis). allReplicasKnown is false when Redis " +
                             "did not answer: only this replica is listed.")
            .Produces<StoreHealthOverview>()
            .ProducesOpsProblems();
        group.MapGet("/config", GetConfiguration)
            .WithName("GetEffectiveConfiguration")
            .WithSummary("The settings in effect, secrets redacted")
            .WithDescription("Every validated section as bound, defaults included. Secrets (client secret, certificate password, API key, " +
                             "Redis password, OTLP headers, a URL's user info and query, a private key) are shown as " + EffectiveConfiguration.Redacted + ". Answered with Cache-Control: no-store.")
            .Produces<EffectiveConfigurationReport>()
            .ProducesOpsProblems();
        return group;
    }

    internal static async Task<Ok<StoreHealthOverview>> GetStoreHealthAsync(StoreHealth health, StoreResiliencePipelines pipelines,
        StoreCredentialsMonitor credentials, ReplicaHealthStore replicas, CancellationToken cancellationToken)
    {
        var self = health.Report(pipelines, credentials);
        return TypedResults.Ok(StoreHealthOverview.Combine(self, replicas.Shared, await replicas.ReadAsync(cancellationToken)));
    }

    internal static Ok<EffectiveConfigurationReport> GetConfiguration(IServiceProvider services, IHostEnvironment environment, HttpResponse response)
    {
        // Hosts and settings of the deployment: no cache between the operator and the gateway keeps them.
        response.Headers.CacheControl = "no-store";
        return TypedResults.Ok(EffectiveConfiguration.Build(services, environment));
    }
}
