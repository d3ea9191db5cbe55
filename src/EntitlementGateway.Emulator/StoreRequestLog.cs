using System.Text.Json.Serialization;

namespace EntitlementGateway.Emulator;

/// <summary>
/// One request to a Store endpoint as the emulator received it (<c>GET /emulator/requests</c>): what a front end that
/// enforces the Store's request header table would look at. The Authorization token itself is never kept.
/// </summary>
/// <param name="Method">HTTP method.</param>
/// <param name="Path">Request path, e.g. <c>/emulator/store/v8.0/collections/b2bLicensePreview</c>.</param>
/// <param name="ContentLength">The <c>Content-Length</c> header; null when absent (a chunked body, for instance).</param>
/// <param name="TransferEncoding">The <c>Transfer-Encoding</c> header (e.g. <c>chunked</c>); null when absent.</param>
/// <param name="ContentType">The <c>Content-Type</c> header; null when absent.</param>
/// <param name="UserAgent">The <c>User-Agent</c> header; null when absent.</param>
/// <param name="MsCv">The <c>MS-CV</c> header; null when absent.</param>
/// <param name="MsCorrelationId">The <c>MS-CorrelationId</c> header; null when absent.</param>
/// <param name="AuthorizationScheme">The scheme of <c>Authorization</c> (<c>Bearer</c>, <c>XBL3.0</c>); null when absent.</param>
/// <param name="HasSignature">Whether a <c>Signature</c> header was sent.</param>
/// <param name="Body">The raw request body as text, at most <see cref="StoreRequestLog.MaxBodyBytes"/> bytes of it.</param>
/// <param name="Status">The status answered; 0 when the connection was aborted (even after headers were sent).</param>
/// <param name="At">When the request arrived (emulator clock).</param>
/// <param name="Traceparent">The W3C <c>traceparent</c> header, which ties the call to the caller's trace; null when absent.</param>
/// <param name="Protocol">The HTTP version the call came over (<c>HTTP/1.1</c>, <c>HTTP/2</c>).</param>
/// <param name="ConnectionId">The connection it came on: calls with the same id reused one connection.</param>
public sealed record StoreRequestRecord(
    string Method,
    string Path,
    long? ContentLength,
    string? TransferEncoding,
    string? ContentType,
    string? UserAgent,
    string? MsCv,
    string? MsCorrelationId,
    string? AuthorizationScheme,
    bool HasSignature,
    string Body,
    int Status,
    DateTimeOffset At,
    string? Traceparent = null,
    string? Protocol = null,
    string? ConnectionId = null);

/// <summary>The last <see cref="Capacity"/> Store requests, oldest first. Thread-safe.</summary>
internal sealed class StoreRequestLog
{
    public const int Capacity = 500;
    public const int MaxBodyBytes = 64 * 1024;

    private readonly Queue<StoreRequestRecord> _records = new();

    public void Add(StoreRequestRecord record)
    {
        lock (_records)
        {
            _records.Enqueue(record);
            while (_records.Count > Capacity) _records.Dequeue();
        }
    }

    public IReadOnlyList<StoreRequestRecord> Snapshot()
    {
        lock (_records) return _records.OrderBy(r => r.At).ToArray(); // stable: ties keep the order they finished in
    }

    public void Clear()
    {
        lock (_records) _records.Clear();
    }
}

// Its own context: the audit writes nulls (contentLength: null says "no header"), the Store wire context omits them.
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(IReadOnlyList<StoreRequestRecord>))]
internal sealed partial class AuditJson : JsonSerializerContext;
