using EntitlementGateway.Api;
using Microsoft.AspNetCore.Http.Features;

namespace EntitlementGateway.Hosting;

/// <summary>Refuses bodies over 64 KiB before anything reads them: by Content-Length at once, and by Kestrel's limit for chunked bodies.</summary>
public sealed class BodySizeLimitMiddleware(RequestDelegate next)
{
    public const long MaxBodyBytes = 64 * 1024;

    public Task InvokeAsync(HttpContext context)
    {
        if (context.Request.ContentLength > MaxBodyBytes)
        {
            var result = GatewayProblems.Create(413, GatewayProblems.RequestTooLarge, "The request body is too large.",
                $"The request body is larger than {MaxBodyBytes / 1024} KiB.");
            return result.ExecuteAsync(context);
        }
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
            limit.MaxRequestBodySize = MaxBodyBytes;
        return next(context);
    }
}
