using EntitlementGateway.Infrastructure;
using EntitlementGateway.Store;
using EntitlementGateway.Store.Resilience;
using Microsoft.AspNetCore.Http.HttpResults;

namespace EntitlementGateway.Api;

/// <summary>Read-only views for operators: the Store path's health and the settings in effect, on the replica that answers.</summary>
public static class OpsDiagnosticsApi
{
    public static RouteGroupBuilder MapOpsDiagnostics(this RouteGroupBuilder group)
    {
        group.MapGet("/store/health", GetStoreHealth)
            .WithName("GetStoreHealth")
            .WithSummary("The Store path's health on this replica")
            .WithDescription("Circuit state (each replica has its own), the last Store errors by problem code, the service token's state " +
                             "(never its value) and whether the Store is refusing the gateway's credentials.")
            .Produces<StoreHealthReport>()
            .ProducesOpsProblems();
        group.MapGet("/config", GetConfiguration)
            .WithName("GetEffectiveConfiguration")
            .WithSummary("The settings in effect, secrets redacted")
            .WithDescription("Every validated section as bound, defaults included. Secrets (client secret, certificate password, API key, " +
                             "Redis password, OTLP headers) are shown as " + EffectiveConfiguration.Redacted + ".")
            .Produces<EffectiveConfigurationReport>()
            .ProducesOpsProblems();
        return group;
    }

    internal static Ok<StoreHealthReport> GetStoreHealth(StoreHealth health, StoreResiliencePipelines pipelines, StoreCredentialsMonitor credentials) =>
        TypedResults.Ok(health.Report(pipelines, credentials));

    internal static Ok<EffectiveConfigurationReport> GetConfiguration(IServiceProvider services, IHostEnvironment environment) =>
        TypedResults.Ok(EffectiveConfiguration.Build(services, environment));
}
