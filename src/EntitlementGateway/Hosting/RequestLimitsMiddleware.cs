using EntitlementGateway.Api;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using EntitlementGateway.Infrastructure.Http;

namespace EntitlementGateway.Hosting;

/// <summary>
/// Refuses oversized requests with a problem before anything reads them: headers over 16 KiB (Kestrel's own, larger
/// limit answers a bare 431 beyond that), bodies over 64 KiB by Content-Length at once, and by Kestrel's limit when chunked.
/// Also a method in another letter case than the endpoint's (<c>post</c>): methods are case-sensitive, but routing
/// matches them ignoring case, so a proxy whose rules name POST would let through a request the gateway runs as one.
/// </summary>
public sealed class RequestLimitsMiddleware(RequestDelegate next)
{
    public const long MaxBodyBytes = 64 * 1024;
    public const int MaxHeaderBytes = 16 * 1024;

    public Task InvokeAsync(HttpContext context)
    {
        var headerBytes = 0;
        foreach (var (name, values) in context.Request.Headers)
        {
            headerBytes += name.Length;
            foreach (var value in values) headerBytes += value?.Length ?? 0;
        }
        if (headerBytes > MaxHeaderBytes)
        {
            return GatewayProblems.Create(431, GatewayProblems.RequestHeadersTooLarge, "The request headers are too large.",
                $"The request headers total more than {MaxHeaderBytes / 1024} KiB.").ExecuteAsync(context);
        }
        if (context.Request.ContentLength > MaxBodyBytes)
        {
            var result = GatewayProblems.Create(413, GatewayProblems.RequestTooLarge, "The request body is too large.",
                $"The request body is larger than {MaxBodyBytes / 1024} KiB.");
            return result.ExecuteAsync(context);
        }
        if (context.GetEndpoint()?.Metadata.GetMetadata<IHttpMethodMetadata>() is { } methods && !methods.HttpMethods.Contains(context.Request.Method)
            && methods.HttpMethods.Contains(context.Request.Method, StringComparer.OrdinalIgnoreCase))
        {
            var allowed = string.Join(", ", methods.HttpMethods);
            context.Response.Headers.Allow = allowed;
            return GatewayProblems.Create(405, GatewayProblems.MethodNotAllowed, "Method Not Allowed",
                $"Methods are case-sensitive: this path accepts {allowed}.").ExecuteAsync(context);
        }
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
            limit.MaxRequestBodySize = MaxBodyBytes;
        return next(context);
    }
}
