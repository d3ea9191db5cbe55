using System.Text;
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

/// <summary>
/// The last <see cref="Capacity"/> Store requests, oldest first. Thread-safe. A ring of slots taken in turn: each keeps
/// its body's bytes in an array of its own that the next request in that slot overwrites, and the body's text is made
/// only when the audit is read. A body string per call lived for 500 calls, long enough to reach the old generation,
/// so every burst of Store calls left MBs of garbage there (in the gateway's process, on its embedded defaults).
/// </summary>
internal sealed class StoreRequestLog
{
    public const int Capacity = 500;
    public const int MaxBodyBytes = 64 * 1024;
    // A slot's array is kept for the next body when it is not much larger than that body needs: one large body does
    // not hold 64 KB in its slot for good.
    private const int KeptBodyBytes = 4 * 1024;

    private readonly Slot?[] _slots = new Slot?[Capacity];
    private int _next;
    private int _count;

    /// <summary>Adds <paramref name="record"/> (its <see cref="StoreRequestRecord.Body"/> is ignored) with the first
    /// <see cref="MaxBodyBytes"/> of <paramref name="body"/>, replacing the oldest request once full.</summary>
    public void Add(StoreRequestRecord record, ReadOnlySpan<byte> body)
    {
        body = body[..Math.Min(body.Length, MaxBodyBytes)];
        lock (_slots)
        {
            var slot = _slots[_next] ??= new Slot();
            if (slot.Body.Length < body.Length || slot.Body.Length > Math.Max(KeptBodyBytes, 2 * body.Length))
                slot.Body = new byte[body.Length];
            body.CopyTo(slot.Body);
            slot.Length = body.Length;
            slot.Record = record;
            _next = (_next + 1) % Capacity;
            _count = Math.Min(_count + 1, Capacity);
        }
    }

    public IReadOnlyList<StoreRequestRecord> Snapshot()
    {
        lock (_slots)
        {
            var records = new StoreRequestRecord[_count];
            for (var i = 0; i < _count; i++)
            {
                var slot = _slots[(_next - _count + i + Capacity) % Capacity]!;
                records[i] = slot.Record! with { Body = Encoding.UTF8.GetString(slot.Body, 0, slot.Length) };
            }
            return records.OrderBy(r => r.At).ToArray(); // stable: ties keep the order they finished in
        }
    }

    public void Clear()
    {
        lock (_slots)
        {
            Array.Clear(_slots);
            _next = 0;
            _count = 0;
        }
    }

    private sealed class Slot
    {
        public StoreRequestRecord? Record;
        public byte[] Body = [];
        public int Length;
    }
}

// Its own context: the audit writes nulls (contentLength: null says "no header"), the Store wire context omits them.
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(IReadOnlyList<StoreRequestRecord>))]
internal sealed partial class AuditJson : JsonSerializerContext;
