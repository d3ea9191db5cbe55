using System.Diagnostics;
using EntitlementGateway.Infrastructure.Telemetry;

namespace EntitlementGateway.Hosting;

/// <summary>
/// Counts every request by route template (never the raw path: it may hold a key), status and problem <c>code</c>, and
/// names ASP.NET Core's request span after the route, so traces read "POST /v1/entitlements/query".
/// </summary>
public sealed class RequestTelemetryMiddleware(RequestDelegate next, GatewayMetrics metrics)
{
    private static readonly object ProblemCodeKey = new();

    /// <summary>Called where every problem body is written (the problem-details customiser), so the code is the one sent.</summary>
    public static void SetProblemCode(HttpContext context, string code) => context.Items[ProblemCodeKey] = code;

    public async Task InvokeAsync(HttpContext context)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            await next(context);
        }
        finally
        {
            var route = context.GetEndpoint() is RouteEndpoint { RoutePattern.RawText: { } raw } ? raw : "other";
            var status = context.Response.StatusCode;
            var code = context.Items.TryGetValue(ProblemCodeKey, out var value) && value is string problem ? problem : "none";
            metrics.Request(route, status, code, Stopwatch.GetElapsedTime(started).TotalSeconds);
            if (Activity.Current is { } activity)
            {
                activity.DisplayName = context.Request.Method + " " + route;
                activity.SetTag("http.route", route);
                activity.SetTag("http.response.status_code", status);
                if (!ReferenceEquals(code, "none")) activity.SetTag("error.code", code);
            }
        }
    }
}
