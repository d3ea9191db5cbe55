using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using EntitlementGateway.Infrastructure;

namespace EntitlementGateway.Hosting;

/// <summary><c>/health/live</c>: the process answers. <c>/health/ready</c>: its dependencies answer too.</summary>
public static class HealthSetup
{
    public static IHealthChecksBuilder AddGatewayHealthChecks(this IServiceCollection services) =>
        services.AddHealthChecks();

    public static WebApplication MapGatewayHealthChecks(this WebApplication app)
    {
        // Probes read: any other method is a 405, as on every other read-only path (the framework maps every method).
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false, ResponseWriter = WriteAsync })
            .WithTags("Operations").WithSummary("Liveness: the process answers").WithMetadata(ProbeMethods);
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = c => c.Tags.Contains(HealthTags.Ready), ResponseWriter = WriteAsync })
            .WithTags("Operations").WithSummary("Readiness: the dependencies answer").WithMetadata(ProbeMethods);
        return app;
    }

    private static readonly Microsoft.AspNetCore.Routing.HttpMethodMetadata ProbeMethods = new([HttpMethods.Get, HttpMethods.Head]);

    private static Task WriteAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json";
        var checks = report.Entries.ToDictionary(e => e.Key, e => new { status = e.Value.Status.ToString(), description = e.Value.Description });
        return context.Response.WriteAsync(JsonSerializer.Serialize(new { status = report.Status.ToString(), checks }));
    }
}
