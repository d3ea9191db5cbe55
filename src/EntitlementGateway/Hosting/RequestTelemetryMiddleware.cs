using System.Diagnostics;
using EntitlementGateway.Infrastructure.Telemetry;

namespace EntitlementGateway.Hosting;

/// <summary>
/// Counts every request by route template (never the raw path: it may hold a key), status and problem <c>code</c>, and
/// names ASP.NET Core's request span after the route, so traces read "POST /v1/entitlements/query".
/// </summary>
public sealed class RequestTelemetryMiddleware(RequestDelegate next, GatewayMetrics metrics)
{
    /// <summary>Called where every problem body is written (the problem-details customiser), so the code is the one sent.
    /// A feature rather than Items: reading it on every request allocates nothing.</summary>
    public static void SetProblemCode(HttpContext context, string code) => context.Features.Set(new ProblemCode(code));

    private sealed record ProblemCode(string Code);

    public async Task InvokeAsync(HttpContext context)
    {
        var started = Stopwatch.GetTimestamp();
        // Matched before the handler runs: the exception handler clears the endpoint when it answers a body that could
        // not be read, and that request would otherwise count under "other".
        var matched = context.GetEndpoint();
        try
        {
            await next(context);
        }
        finally
        {
            var route = (context.GetEndpoint() ?? matched) is RouteEndpoint { RoutePattern.RawText: { } raw } ? raw : "other";
            var status = context.Response.StatusCode;
            var problem = context.Features.Get<ProblemCode>()?.Code;
            metrics.Request(route, status, problem ?? "none", Stopwatch.GetElapsedTime(started).TotalSeconds);
            // Only a span an exporter samples is named and tagged; without one this costs nothing.
            if (Activity.Current is { Recorded: true } activity)
            {
                activity.DisplayName = RequestLoggingMiddleware.LoggedMethod(context.Request.Method) + " " + route;
                activity.SetTag("http.route", route);
                activity.SetTag("http.response.status_code", status);
                if (problem is not null) activity.SetTag("error.code", problem);
            }
        }
    }
}
