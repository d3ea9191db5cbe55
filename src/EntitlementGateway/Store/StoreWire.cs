using System.Buffers;
using System.Net;
using System.Net.Http.Headers;
using System.Reflection;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace EntitlementGateway.Store;

/// <summary>
/// The request side of the Store's documented wire, shared by every Store call: a JSON body sent whole with its
/// <c>Content-Length</c> (never chunked: the documented header table lists Content-Length, and a front end that
/// enforces it reads a chunked body as empty), <c>Content-Type: application/json</c> (the table's only supported value,
/// sent literally: a front end comparing the header to it refuses any parameter, and JSON defines no charset), a
/// <c>User-Agent</c> that names the service and its version, and an <c>MS-CV</c> correlation vector per call.
/// </summary>
public static class StoreWire
{
    public const string CorrelationVectorHeader = "MS-CV";
    public const string CorrelationIdHeader = "MS-CorrelationId";
    public const string RequestIdHeader = "MS-RequestId";

    public const string ProductName = "EntitlementGateway";

    /// <summary><c>EntitlementGateway/1.2.3</c>: the product and its informational version.</summary>
    public static readonly ProductInfoHeaderValue UserAgent = new(ProductName,
        ProductVersion(typeof(StoreWire).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion));

    private static readonly MediaTypeHeaderValue Json = new("application/json");

    /// <summary>
    /// The body serialised once into a buffer: its length is known, so it is sent with Content-Length. Text is escaped
    /// only where JSON requires it, as the documents' examples write it: a continuation token the Store gave as
    /// <c>{"checkSatisfactionIndex":2}</c> goes back as <c>"{\"checkSatisfactionIndex\":2}"</c>, not with <c>\u0022</c>
    /// (the same JSON, but not the bytes of the example, for a Store that compares them).
    /// </summary>
    public static StoreRequestBody JsonBody<T>(T value, JsonTypeInfo<T> type)
    {
        // One buffer and writer per thread, reused (serialising never yields): the body array is the call's only allocation.
        var buffer = t_body ??= new ArrayBufferWriter<byte>(1024);
        buffer.ResetWrittenCount();
        var writer = t_writer ??= new Utf8JsonWriter(buffer, BodyWriter);
        writer.Reset(buffer);
        JsonSerializer.Serialize(writer, value, type);
        var content = new StoreRequestBody(buffer.WrittenSpan.ToArray());
        content.Headers.ContentType = Json;
        return content;
    }

    // The body goes to the Store only, never into a page: HTML-sensitive characters need no escaping.
    private static readonly JsonWriterOptions BodyWriter = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    [ThreadStatic] private static ArrayBufferWriter<byte>? t_body;
    [ThreadStatic] private static Utf8JsonWriter? t_writer;

    // Correlation ids only have to differ from each other; nobody gains by guessing one. They come from the runtime's
    // shared generator: Guid.NewGuid reads the kernel's random source and RandomNumberGenerator asks OpenSSL, which
    // checks the process id: a system call or two on every Store call, for nothing these ids need.

    /// <summary>A new correlation vector base (22 base64 characters, as version 2 vectors have); extend it per call.</summary>
    public static string NewCorrelationVector()
    {
        Span<byte> random = stackalloc byte[16];
        Random.Shared.NextBytes(random);
        Span<char> text = stackalloc char[24];
        Convert.TryToBase64Chars(random, text, out _);
        var vector = text[..22];
        vector.Replace('+', 'A');
        vector.Replace('/', 'B');
        return new string(vector);
    }

    /// <summary>A new random (version 4) GUID for <c>MS-CorrelationId</c>.</summary>
    public static Guid NewCorrelationId()
    {
        Span<byte> random = stackalloc byte[16];
        Random.Shared.NextBytes(random);
        random[7] = (byte)((random[7] & 0x0F) | 0x40); // version 4 (the high nibble of the third group)
        random[8] = (byte)((random[8] & 0x3F) | 0x80); // the RFC 9562 variant
        return new Guid(random);
    }

    /// <summary>The header's first value as received (not parsed: these ids are only logged).</summary>
    public static string? Header(HttpResponseMessage response, string name) => First(response.Headers, name);

    /// <summary>The header's first value as the gateway sent it.</summary>
    public static string? Header(HttpRequestMessage request, string name) => First(request.Headers, name);

    private static string? First(System.Net.Http.Headers.HttpHeaders headers, string name)
    {
        if (!headers.NonValidated.TryGetValues(name, out var values)) return null;
        foreach (var value in values) return value;
        return null;
    }

    /// <summary>
    /// What is wrong with the answer's <c>Content-Length</c>, in one pass over its values; null when nothing (or none).
    /// <see cref="ContentLengthFault.Conflicting"/>: values that disagree (on two header lines or in one comma-separated
    /// list; several that are all the same are one value, as HTTP lets a recipient take them). The handler takes the
    /// first and ignores the rest, but such a message has no defined end: a proxy and the gateway may split it
    /// differently, which is how responses are smuggled. <see cref="ContentLengthFault.NotALength"/>: a value that is not
    /// digits only (no sign, no blank) within a 64-bit count. The handler drops a value it cannot read and takes the body
    /// up to the connection's close, where a proxy may end it elsewhere; HTTP calls such framing invalid.
    /// </summary>
    public static ContentLengthFault? ContentLengthFaultOf(HttpResponseMessage response)
    {
        ArgumentNullException.ThrowIfNull(response);
        if (!response.Content.Headers.NonValidated.TryGetValues("Content-Length", out var values)) return null;
        string? first = null;
        var notALength = false;
        foreach (var value in values)
        {
            foreach (var part in value.Split(',', StringSplitOptions.TrimEntries))
            {
                first ??= part;
                if (!string.Equals(first, part, StringComparison.Ordinal)) return ContentLengthFault.Conflicting;
                notALength |= !long.TryParse(part, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out _);
            }
        }
        return notALength ? ContentLengthFault.NotALength : null;
    }

    /// <summary>
    /// What ended a call: over HTTP/2 a stream's own failure comes wrapped (an error of kind Unknown around an IOException
    /// around the cause), so the first kind that is known, outside in.
    /// </summary>
    public static HttpRequestError ErrorOf(HttpRequestException exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        for (Exception? e = exception; e is not null; e = e.InnerException)
            if (e is HttpRequestException { HttpRequestError: not HttpRequestError.Unknown } known) return known.HttpRequestError;
        return HttpRequestError.Unknown;
    }

    /// <summary>The TLS handshake failed (the Store's certificate is not trusted, or no TLS version is shared): the
    /// request was never sent, and another attempt meets the same certificate.</summary>
    public static bool IsTlsRefusal(HttpRequestException exception) =>
        exception.InnerException is System.Security.Authentication.AuthenticationException;

    /// <summary>HTTP/2's <c>REFUSED_STREAM</c>: the peer closed the stream without processing the request.</summary>
    internal const long RefusedStream = 0x7;

    /// <summary>HTTP/2's PROTOCOL_ERROR: the peer, or this client reading it, broke the protocol.</summary>
    internal const long ProtocolError = 0x1;

    /// <summary>
    /// The HTTP/2 error code with which the Store (or the client, for the Store's protocol error) ended the attempt's
    /// stream or connection: <c>RST_STREAM</c>, <c>GOAWAY</c> or a frame the client could not take. Null for any other failure.
    /// </summary>
    public static long? Http2ErrorOf(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
            if (e is HttpProtocolException protocol) return protocol.ErrorCode;
        return null;
    }

    /// <summary>The Store refused the attempt's stream (<c>REFUSED_STREAM</c>): by HTTP/2's own rule it did not process
    /// the request at all.</summary>
    public static bool IsRefusedStream(Exception exception) => Http2ErrorOf(exception) == RefusedStream;

    /// <summary>The Store answered, but not in HTTP, or with more headers than the gateway reads: the next answer is the same.</summary>
    public static bool IsUnreadableAnswer(HttpRequestException exception) =>
        ErrorOf(exception) is HttpRequestError.InvalidResponse or HttpRequestError.ConfigurationLimitExceeded;

    /// <summary>
    /// The answer without a UTF-8 byte order mark before its buffered body: JSON's own rules let a reader ignore one, and a
    /// writer set up with a UTF-8 encoding that emits its preamble sends one. The same response when there is none.
    /// </summary>
    public static async ValueTask<HttpResponseMessage> WithoutByteOrderMarkAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(response);
        var body = await response.Content.ReadAsStreamAsync(cancellationToken);
        if (!body.CanSeek || !StartsWithByteOrderMark(body)) return response;
        var rest = new byte[body.Length - body.Position - Utf8Bom.Length];
        body.Position += Utf8Bom.Length;
        body.ReadExactly(rest);
        ReplaceBody(response, rest, []);
        return response;
    }

    /// <summary>
    /// Puts <paramref name="body"/> in place of the answer's buffered body, with the content headers it had but its length
    /// (the new body gives its own) and those named in <paramref name="dropped"/>.
    /// </summary>
    internal static void ReplaceBody(HttpResponseMessage response, byte[] body, string[] dropped)
    {
        var content = new ByteArrayContent(body);
        foreach (var header in response.Content.Headers)
            if (!header.Key.Equals("Content-Length", StringComparison.OrdinalIgnoreCase) && !dropped.Contains(header.Key, StringComparer.OrdinalIgnoreCase))
                content.Headers.TryAddWithoutValidation(header.Key, header.Value);
        response.Content.Dispose();
        response.Content = content;
    }

    private static ReadOnlySpan<byte> Utf8Bom => [0xEF, 0xBB, 0xBF];

    private static bool StartsWithByteOrderMark(Stream body)
    {
        var start = body.Position;
        Span<byte> head = stackalloc byte[3];
        var read = body.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        body.Position = start;
        return read == head.Length && head.SequenceEqual(Utf8Bom);
    }

    /// <summary>
    /// Whether an answer labelled <paramref name="mediaType"/> may hold the Store's JSON, for its body to decide: a JSON
    /// media type, none, or <c>text/plain</c>, which a front end or server framework that guesses the type of what it
    /// writes puts on JSON. Any other type (a proxy's HTML page, XML) is not the Store's answer.
    /// </summary>
    public static bool MayBeJson(string? mediaType) =>
        mediaType is null || mediaType.Contains("json", StringComparison.OrdinalIgnoreCase) ||
        mediaType.Equals("text/plain", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Whether a buffered 2xx answer can be what the Store documents, a JSON object: a media type that <see cref="MayBeJson"/>,
    /// and '{' as its first byte after JSON white space. A proxy's HTML page, JSON null or an empty body cannot.
    /// </summary>
    public static async ValueTask<bool> IsJsonObjectAnswerAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (!MayBeJson(response.Content.Headers.ContentType?.MediaType)) return false;
        // Asynchronously: once a content's stream was taken that way, taking it synchronously throws.
        var body = await response.Content.ReadAsStreamAsync(cancellationToken);
        // Only a buffered body is looked at (the handler buffers every answer); it is left where it was.
        return !body.CanSeek || StartsWithObject(body);
    }

    private static bool StartsWithObject(Stream body)
    {
        var start = body.Position;
        try
        {
            Span<byte> chunk = stackalloc byte[256];
            int read;
            while ((read = body.Read(chunk)) > 0)
            {
                var first = chunk[..read].IndexOfAnyExcept(JsonWhiteSpace);
                if (first >= 0) return chunk[first] == (byte)'{';
            }
            return false;
        }
        finally
        {
            body.Position = start;
        }
    }

    private static ReadOnlySpan<byte> JsonWhiteSpace => " \t\r\n"u8;

    /// <summary>The product version of an informational version: the SDK appends <c>+commit</c>, which is left off.</summary>
    internal static string ProductVersion(string? informational) => (informational ?? "0.0.0").Split('+')[0];
}

/// <summary>
/// A Store request's body, counting the times the handler began to send it. Every Store request has a body, and an
/// HTTP/1.1 or HTTP/2 request is not complete without it, so an attempt that failed before its body began to go out
/// was never processed by the Store, whatever the failure (a TLS handshake that stalls, a connection that never came).
/// </summary>
public sealed class StoreRequestBody(byte[] body) : ByteArrayContent(body)
{
    private int _sends;

    /// <summary>How many times sending began. The handlers serialise the body afresh for each send (nothing here buffers a
    /// request's content, which would let later sends copy the buffer unseen).</summary>
    /// <remarks>The handlers send through the overload with a cancellation token; the one without is what the base
    /// class's falls back to for a derived type, so counting it as well would count a send twice.</remarks>
    public int Sends => Volatile.Read(ref _sends);

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _sends);
        return base.SerializeToStreamAsync(stream, context, cancellationToken);
    }

    protected override void SerializeToStream(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _sends);
        base.SerializeToStream(stream, context, cancellationToken);
    }
}

/// <summary>Why an answer's <c>Content-Length</c> leaves its end ambiguous (<see cref="StoreWire.ContentLengthFaultOf"/>).</summary>
public enum ContentLengthFault
{
    /// <summary>Values that disagree.</summary>
    Conflicting,

    /// <summary>A value that is not a number of bytes.</summary>
    NotALength,
}
