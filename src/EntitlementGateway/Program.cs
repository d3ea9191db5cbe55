using EntitlementGateway.Api;
using EntitlementGateway.Budget;
using EntitlementGateway.Consumables;
using EntitlementGateway.Clawback;
using EntitlementGateway.Entitlements;
using EntitlementGateway.Hosting;
using EntitlementGateway.Infrastructure.Telemetry;
using EntitlementGateway.Security;
using EntitlementGateway.Store;
using Serilog;

Log.Logger = GatewayLogging.CreateBootstrapLogger();
IHostApplicationLifetime? lifetime = null;
try
{
    var builder = WebApplication.CreateBuilder(GatewayHost.Options(args, Directory.GetCurrentDirectory(), AppContext.BaseDirectory, Environment.GetEnvironmentVariable));
    builder.AddGatewayLogging();
    builder.AddGracefulShutdown();
    builder.Services.AddNativeHeapTrim();
    builder.Services.AddGatewayTelemetry();
    builder.Services.AddKestrelLimits();
    builder.Services.AddGatewayProblemDetails();
    builder.Services.AddGatewayOpenApi();
    builder.Services.AddGatewayHealthChecks();
    builder.Services.AddUserBudget();
    builder.AddStore();
    builder.AddGatewaySecurity();
    builder.Services.AddEntitlements();
    builder.Services.AddConsumables();
    builder.Services.AddClawback();

    var app = builder.Build();
    lifetime = app.Lifetime;
    app.UseGatewayPipeline();
    app.MapGatewayOpenApi();
    app.MapGatewayHealthChecks();
    app.MapEntitlementsApi();
    app.MapConsumablesApi();
    app.MapSubscriptionsApi();
    app.MapUserCollectionsIdApi();
    app.MapOpsApi();
    app.MapClawbackOpsApi();
    app.MapStore();
    app.Run();
    return 0;
}
catch (OperationCanceledException) when (lifetime?.ApplicationStopping.IsCancellationRequested == true)
{
    // SIGTERM while starting (a rollout replacing a pod that is not ready yet) is a stop, not a crash.
    Log.Information("EntitlementGateway was asked to stop before it finished starting; stopped");
    return 0;
}
catch (Exception ex) when (ex is not HostAbortedException)
{
    // A refused setting is one line naming it (what an operator reads in a crash loop); anything else keeps its trace.
    if (EntitlementGateway.Hosting.StartupRefusal.Describe(ex) is { } refusal) Log.Fatal("EntitlementGateway refused to start: {Refusal}", refusal);
    else Log.Fatal(ex, "EntitlementGateway failed to start");
    return 1;
}
finally
{
    Log.CloseAndFlush();
}

/// <summary>Entry point, public for WebApplicationFactory.</summary>
public partial class Program;
