using EntitlementGateway.Entitlements;
using EntitlementGateway.Entitlements.Caching;
using EntitlementGateway.Security;
using EntitlementGateway.Store;
using EntitlementGateway.Store.Resilience;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;
using EntitlementGateway.Infrastructure.Http;
using EntitlementGateway.Infrastructure.Redis;
using EntitlementGateway.Infrastructure;

namespace EntitlementGateway.Hosting;

/// <summary>The composition of the gateway, one concern per method; Program.cs calls them in order.</summary>
public static class GatewayServices
{
    /// <summary>Problem details everywhere, with unreadable bodies reported as 4xx.</summary>
    public static IServiceCollection AddGatewayProblemDetails(this IServiceCollection services)
    {
        services.AddProblemDetails(options => options.CustomizeProblemDetails = context =>
        {
            // The path as the request line logs it: a UCID pasted into the URL is not echoed whole in the answer.
            context.ProblemDetails.Instance ??= RequestLoggingMiddleware.LoggedPath(context.HttpContext.Request.Path.Value is { Length: > 0 } path ? path : "/");
            var ops = context.HttpContext.Request.Path.StartsWithSegments("/ops");
            if (ops && context.ProblemDetails.Status == 401 && context.HttpContext.Response.Headers.WWWAuthenticate.Count == 0)
                context.HttpContext.Response.Headers.WWWAuthenticate = $"ApiKey header=\"{Security.OpsOptions.ApiKeyHeader}\"";
            context.ProblemDetails.Detail ??= context.ProblemDetails.Status switch
            {
                401 when ops => $"An ops credential is required: the {Security.OpsOptions.ApiKeyHeader} header (Ops:ApiKey), or Authorization: Bearer <operator token> where Ops:Authority is set.",
                401 => "A valid token is required: Authorization: Bearer <token>, not expired and for this API's audience.",
                403 => "The token is valid but does not allow this request.",
                404 => "No endpoint at this path; see /swagger for the API.",
                405 => "This path does not accept that method; see /swagger for the API.",
                415 => "The body must be JSON (Content-Type: application/json).",
                _ => null,
            };
            context.ProblemDetails.Extensions.TryAdd("code", context.ProblemDetails.Status switch
            {
                401 => GatewayProblems.Unauthorized,
                403 => GatewayProblems.Forbidden,
                404 => GatewayProblems.NotFound,
                405 => GatewayProblems.MethodNotAllowed,
                >= 500 => GatewayProblems.InternalError,
                _ => GatewayProblems.InvalidRequest,
            });
            if (context.ProblemDetails.Extensions["code"] is string code) RequestTelemetryMiddleware.SetProblemCode(context.HttpContext, code);
        });
        AnswerEveryAccept(services);
        services.AddExceptionHandler<GatewayExceptionHandler>();
        // Without this, a body that fails to bind is answered with an empty 400 outside Development.
        services.Configure<RouteHandlerOptions>(options => options.ThrowOnBadRequest = true);
        services.Configure<JsonOptions>(options => options.SerializerOptions.TypeInfoResolverChain.Insert(0, Api.ApiJsonContext.Default));
        return services;
    }

    /// <summary>
    /// The framework's writer declines when the request's Accept names no JSON type (text/html, application/xml), and a
    /// problem then went out as an empty body or a text/plain status line with no code. Every error is problem JSON,
    /// whatever the client accepts: the same writer, told it always can.
    /// </summary>
    private static void AnswerEveryAccept(IServiceCollection services)
    {
        var framework = services.Single(d => d.ServiceType == typeof(IProblemDetailsWriter) && d.ImplementationType is { Name: "DefaultProblemDetailsWriter" });
        var writerType = framework.ImplementationType!;
        services.Remove(framework);
        services.AddSingleton<IProblemDetailsWriter>(sp => new EveryAcceptProblemWriter((IProblemDetailsWriter)ActivatorUtilities.CreateInstance(sp, writerType)));
    }

    internal sealed class EveryAcceptProblemWriter(IProblemDetailsWriter inner) : IProblemDetailsWriter
    {
        public bool CanWrite(ProblemDetailsContext context) => true;

        public ValueTask WriteAsync(ProblemDetailsContext context) => inner.WriteAsync(context);
    }

    /// <summary>What Kestrel itself enforces before the gateway sees a request.</summary>
    public static IServiceCollection AddKestrelLimits(this IServiceCollection services) =>
        // Kestrel's own 30 s lets a client that sends its headers a byte at a time hold a connection three times as long;
        // no game client needs more than a few seconds. Kestrel answers it with a bare 408.
        services.Configure<Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions>(o => o.Limits.RequestHeadersTimeout = RequestHeadersTimeout);

    /// <summary>How long a request's headers may take to arrive whole.</summary>
    public static readonly TimeSpan RequestHeadersTimeout = TimeSpan.FromSeconds(10);

    /// <summary>Middleware in order: request logging and metrics around everything, errors, the size limits, then security.</summary>
    public static WebApplication UseGatewayPipeline(this WebApplication app)
    {
        app.UseMiddleware<RequestLoggingMiddleware>();
        app.UseMiddleware<RequestTelemetryMiddleware>();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseMiddleware<RequestLimitsMiddleware>();
        app.UseGatewaySecurity();
        return app;
    }
}
