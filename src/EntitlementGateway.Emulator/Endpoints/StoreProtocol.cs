using System.Buffers;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Net.Http.Headers;

namespace EntitlementGateway.Emulator.Endpoints;

/// <summary>
/// The endpoint filter of every Store endpoint (the <c>/emulator/store</c> group): it records each request in the
/// request audit and, before faults, auth or anything else, enforces the request header table of the Store's
/// documentation: a POST needs a <c>Content-Length</c> (a chunked body is refused with 411) and a
/// <c>Content-Type</c> of <c>application/json</c> for any body (parameters such as charset allowed, as the documented
/// examples send one, unless <see cref="FaultSettings.LiteralContentType"/> is set; else 415).
/// </summary>
internal static class StoreProtocol
{
    public static async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var ctx = context.HttpContext;
        var state = ctx.RequestServices.GetRequiredService<EmulatorState>();
        var request = ctx.Request;
        var at = state.Time.GetUtcNow();
        var status = 0;
        // Pooled: a new 64 KB array per Store call was most of what the embedded emulator allocated in a burst of calls.
        var body = ArrayPool<byte>.Shared.Rent(StoreRequestLog.MaxBodyBytes);
        var bodyLength = 0;
        try
        {
            bodyLength = await ReadBodyForAuditAsync(request, body, ctx.RequestAborted);
            var refusal = Refusal(request, state.Faults.LiteralContentType);
            if (refusal is not null) state.CountProtocolError();
            var result = refusal ?? await next(context);
            // Executed here rather than by the framework, so the audit knows the status really answered.
            if (result is IResult answer)
            {
                await answer.ExecuteAsync(ctx);
                result = Results.Empty;
            }
            status = ctx.Response.StatusCode;
            return result;
        }
        catch when (!StoreHttp.WasAborted(ctx))
        {
            status = StatusCodes.Status500InternalServerError;
            throw;
        }
        finally
        {
            state.RecordRequest(new StoreRequestRecord(
                request.Method,
                request.PathBase.Add(request.Path).ToString(),
                request.ContentLength,
                Header(request.Headers.TransferEncoding),
                Header(request.Headers.ContentType),
                Header(request.Headers.UserAgent),
                Header(request.Headers["MS-CV"]),
                Header(request.Headers["MS-CorrelationId"]),
                AuthorizationScheme(request.Headers.Authorization.ToString()),
                request.Headers.ContainsKey("Signature"),
                "",
                StoreHttp.WasAborted(ctx) ? 0 : status,
                at,
                Header(request.Headers["traceparent"]),
                request.Protocol,
                ctx.Connection.Id), body.AsSpan(0, bodyLength));
            ArrayPool<byte>.Shared.Return(body);
        }
    }

    /// <summary>The 411 or 415 a Store front end answers to this request, or null when its framing is acceptable.</summary>
    private static IResult? Refusal(HttpRequest request, bool literalContentType)
    {
        if (!HttpMethods.IsPost(request.Method)) return null;
        var transferEncoding = request.Headers.TransferEncoding.ToString();
        if (transferEncoding.Contains("chunked", StringComparison.OrdinalIgnoreCase))
            return StoreHttp.Error(StatusCodes.Status411LengthRequired, "LengthRequired",
                "Transfer-Encoding: chunked is not accepted: send the whole body with a Content-Length header.");
        if (request.ContentLength is null)
            return StoreHttp.Error(StatusCodes.Status411LengthRequired, "LengthRequired",
                "The Content-Length header is required.");
        // A Content-Type describes a body: a POST without one (the sastoken call) needs none.
        if (request.ContentLength == 0 && request.ContentType is null) return null;
        if (literalContentType ? !string.Equals(request.ContentType, "application/json", StringComparison.Ordinal)
            : !MediaTypeHeaderValue.TryParse(request.ContentType, out var mediaType) ||
              !mediaType.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase))
            return StoreHttp.Error(StatusCodes.Status415UnsupportedMediaType, "UnsupportedMediaType",
                $"Content-Type must be application/json (got '{request.ContentType}').");
        return null;
    }

    /// <summary>
    /// Reads the first <see cref="StoreRequestLog.MaxBodyBytes"/> bytes of the body into <paramref name="buffer"/> and
    /// returns how many; the body is buffered and rewound, so the endpoint still reads all of it.
    /// </summary>
    private static async Task<int> ReadBodyForAuditAsync(HttpRequest request, byte[] buffer, CancellationToken ct)
    {
        request.EnableBuffering();
        var length = 0;
        int read;
        while (length < StoreRequestLog.MaxBodyBytes &&
               (read = await request.Body.ReadAsync(buffer.AsMemory(length, StoreRequestLog.MaxBodyBytes - length), ct)) > 0)
            length += read;
        request.Body.Position = 0;
        return length;
    }

    private static string? Header(Microsoft.Extensions.Primitives.StringValues values) =>
        values.Count == 0 ? null : values.ToString();

    /// <summary>
    /// "Bearer", "XBL3.0", ...: the word before the credentials, never the credentials (a value without a scheme gives
    /// null, since it may be a bare token).
    /// </summary>
    private static string? AuthorizationScheme(string authorization)
    {
        var trimmed = authorization.Trim();
        var space = trimmed.IndexOf(' ', StringComparison.Ordinal);
        return space <= 0 ? null : trimmed[..space];
    }
}
