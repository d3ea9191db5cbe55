using Microsoft.AspNetCore.Http.Features;

namespace EntitlementGateway.Hosting;

/// <summary>
/// The API description, generated once and then served as the same bytes. The framework builds the document anew for
/// every request (tens of milliseconds of CPU and about 100 KB of garbage each), which a client fetching it in a loop
/// would turn into a denial of service; nothing in it depends on the request. Runs as the endpoint's filter, so the
/// document's access check (Ops:Swagger) still comes first.
/// </summary>
internal sealed class OpenApiDocumentCache
{
    private sealed record Document(byte[] Body, string? ContentType);

    private Document? _document;

    /// <summary>How many times the document was generated rather than served from here.</summary>
    public int Generated => Volatile.Read(ref _generated);
    private int _generated;

    public async ValueTask<object?> ServeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        if (Volatile.Read(ref _document) is not { } document)
        {
            document = await GenerateAsync(context, next);
            if (document is null) return Results.Empty;
            Interlocked.Increment(ref _generated);
            Volatile.Write(ref _document, document);
        }

        http.Response.StatusCode = StatusCodes.Status200OK;
        http.Response.ContentType = document.ContentType;
        http.Response.ContentLength = document.Body.Length;
        await http.Response.Body.WriteAsync(document.Body, http.RequestAborted);
        return Results.Empty;
    }

    /// <summary>The framework's answer, captured; null (and the answer passed on as it is) unless it is a 200.</summary>
    private static async Task<Document?> GenerateAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var original = http.Features.Get<IHttpResponseBodyFeature>()!;
        using var buffer = new MemoryStream();
        var capture = new StreamResponseBodyFeature(buffer);
        http.Features.Set<IHttpResponseBodyFeature>(capture);
        try
        {
            var result = await next(context);
            if (result is IResult written) await written.ExecuteAsync(http);
            await capture.CompleteAsync();
        }
        finally
        {
            http.Features.Set(original);
        }

        if (http.Response.StatusCode == StatusCodes.Status200OK && buffer.Length > 0) return new Document(buffer.ToArray(), http.Response.ContentType);
        buffer.Position = 0;
        await buffer.CopyToAsync(original.Stream, http.RequestAborted);
        return null;
    }
}
