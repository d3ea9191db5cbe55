using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Net.Http.Headers;

namespace EntitlementGateway.Infrastructure.Http;

/// <summary>
/// Reads a request's JSON body on the hot path: the whole body (bounded by the request's body-size limit) first, then one
/// synchronous deserialisation through source-generated metadata, instead of the framework's resumable async reader.
/// Refuses as minimal-API binding does, with the same exceptions, so the same problem details come out: 400 for a
/// request without a body, 415 for a body that is not JSON, 400 for a null body, 400 with the <see cref="JsonException"/>
/// for one that does not parse. A UTF-16 or UTF-32 charset is honoured (transcoded first); any other but UTF-8 is a 415.
/// </summary>
public static class JsonBody
{
    /// <summary>
    /// A body that does not arrive in one read must arrive whole within this long. Kestrel's minimum data rate is an
    /// average over the body, so a client that sends most of it at once and then stalls short of its end would otherwise
    /// hold the request (and its connection) for minutes before the 408.
    /// </summary>
    public static readonly TimeSpan BodyDeadline = TimeSpan.FromSeconds(10);

    public static ValueTask<T> ReadAsync<T>(HttpRequest request, JsonTypeInfo<T> type, CancellationToken cancellationToken)
        where T : class =>
        ReadAsync(request, type, BodyDeadline, cancellationToken);

    internal static async ValueTask<T> ReadAsync<T>(HttpRequest request, JsonTypeInfo<T> type, TimeSpan deadline, CancellationToken cancellationToken)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(type);
        if (request.HttpContext.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody != true) throw NotProvided<T>();
        if (!request.HasJsonContentType())
            throw new BadHttpRequestException($"Expected a supported JSON media type but got \"{request.ContentType}\".", StatusCodes.Status415UnsupportedMediaType);
        // A compressed body would only fail as "not JSON": say what is wrong instead.
        if (request.Headers.ContentEncoding is { Count: > 0 } coding && !string.Equals(coding.ToString(), "identity", StringComparison.OrdinalIgnoreCase))
            throw new BadHttpRequestException($"The request's Content-Encoding \"{coding}\" is not read.", StatusCodes.Status415UnsupportedMediaType);
        var encoding = DeclaredEncoding(request.ContentType);

        var reader = request.BodyReader;
        // The body so far, when it takes more than one read: each piece is copied out and consumed at once. A reader left
        // holding bytes it examined but did not consume cannot be drained once the client breaks the body off, and
        // Kestrel then logs a warning with a stack trace for the connection (at times an error too).
        ArrayBufferWriter<byte>? pieces = null;
        ReadResult result;
        try
        {
            result = await reader.ReadAsync(cancellationToken);
            if (!result.IsCompleted)
            {
                // The usual body arrives whole in the first read; this one has until the deadline. The deadline cancels
                // the pending read (a canceled result, consumed like any other): cancelling through a token would leave
                // Kestrel's reader mid-read, and the same warning. Its timer stops once the body is whole.
                pieces = new ArrayBufferWriter<byte>(4096);
                using var late = new CancellationTokenSource(deadline);
                using var cancelRead = late.Token.UnsafeRegister(static r => ((PipeReader)r!).CancelPendingRead(), reader);
                while (!result.IsCompleted)
                {
                    foreach (var segment in result.Buffer) pieces.Write(segment.Span);
                    reader.AdvanceTo(result.Buffer.End);
                    if (result.IsCanceled && late.IsCancellationRequested) break;
                    result = await reader.ReadAsync(cancellationToken);
                }
            }
        }
        catch (BadHttpRequestException tooLarge) when (tooLarge.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            // A chunked body that grew past the limit: the size is what is wrong, not the framing.
            throw;
        }
        catch (BadHttpRequestException slow) when (slow.StatusCode == StatusCodes.Status408RequestTimeout)
        {
            throw new BadHttpRequestException("The request body was not sent in time.", StatusCodes.Status408RequestTimeout, slow);
        }
        catch (IOException broken)
        {
            // Kestrel's own framing errors (a chunk size that overflows, bad chunk data) surface as IOException: the
            // client's bytes, so a 400, not a server error.
            throw new BadHttpRequestException("The request body's framing is broken.", StatusCodes.Status400BadRequest, broken);
        }
        // Read to the deadline and no further: consumed so far, and the rest never comes.
        if (!result.IsCompleted)
            throw new BadHttpRequestException($"The request body was not sent in time: a body must arrive whole within {deadline.TotalSeconds:0.#} s.",
                StatusCodes.Status408RequestTimeout);
        try
        {
            if (pieces is null) return Deserialize(result.Buffer, encoding, type) ?? throw NotProvided<T>();
            foreach (var segment in result.Buffer) pieces.Write(segment.Span);
            return Deserialize(new ReadOnlySequence<byte>(pieces.WrittenMemory), encoding, type) ?? throw NotProvided<T>();
        }
        finally
        {
            reader.AdvanceTo(result.Buffer.End);
        }
    }

    private static ReadOnlySpan<byte> Utf8Bom => [0xEF, 0xBB, 0xBF];

    private static BadHttpRequestException NotProvided<T>() =>
        new($"Required parameter \"{typeof(T).Name}\" was not provided from body.", StatusCodes.Status400BadRequest);

    /// <summary>The declared charset when it is not UTF-8 (null for UTF-8 or none), as the framework's JSON reader resolves it.</summary>
    internal static Encoding? DeclaredEncoding(string? contentType)
    {
        // A charset is a parameter: without a ';' there is none to parse (the usual "application/json").
        if (contentType is null || !contentType.Contains(';')) return null;
        if (!MediaTypeHeaderValue.TryParse(contentType, out var mediaType) || mediaType.Charset is not { Length: > 0 } charset) return null;
        var name = charset.Length >= 2 && charset[0] == '"' && charset[^1] == '"' ? charset.Subsegment(1, charset.Length - 2).ToString() : charset.ToString();
        // An empty charset, quoted or not, names none: the body is UTF-8, as without one.
        if (name.Length == 0) return null;
        try
        {
            var encoding = System.Text.Encoding.GetEncoding(name);
            // JSON is Unicode text: a body declared Latin-1 or ASCII is not JSON as the contract defines it, and
            // transcoding it would turn each character outside that charset into '?' silently.
            return encoding.CodePage switch
            {
                65001 => null,
                1200 or 1201 or 12000 or 12001 => encoding,
                _ => throw new BadHttpRequestException($"The request's charset \"{name}\" is not a Unicode encoding.", StatusCodes.Status415UnsupportedMediaType),
            };
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException)
        {
            // NotSupportedException: an encoding .NET knows and refuses to use (UTF-7).
            throw new BadHttpRequestException($"The request's charset \"{name}\" is not a known encoding.", StatusCodes.Status415UnsupportedMediaType);
        }
    }

    /// <summary>
    /// A UTF-16 or UTF-32 body may start with its byte order mark (most encoders write one): it gives the byte order and
    /// is not part of the JSON text. Without one, the first code unit gives it: JSON text starts with an ASCII character
    /// (whitespace or the start of a value), so its one non-zero byte is the low one. A plain "utf-16" label alone would
    /// not do: .NET reads it little-endian, the charset's own definition big-endian, and senders write either. Else the
    /// label's order holds.
    /// </summary>
    internal static (Encoding Encoding, int Skip) ByteOrder(Encoding declared, ReadOnlySpan<byte> body)
    {
        Encoding[] family = declared.CodePage switch
        {
            1200 or 1201 => [System.Text.Encoding.Unicode, System.Text.Encoding.BigEndianUnicode],
            12000 or 12001 => [System.Text.Encoding.UTF32, BigEndianUtf32],
            _ => [declared],
        };
        foreach (var candidate in family)
        {
            var mark = candidate.Preamble;
            if (!mark.IsEmpty && body.StartsWith(mark)) return (candidate, mark.Length);
        }
        foreach (var candidate in family)
        {
            if (StartsWithAscii(candidate, body)) return (candidate, 0);
        }
        return (declared, 0);
    }

    /// <summary>Whether the body's first code unit in <paramref name="encoding"/> is an ASCII character other than NUL.</summary>
    private static bool StartsWithAscii(Encoding encoding, ReadOnlySpan<byte> body)
    {
        var width = encoding.CodePage is 1200 or 1201 ? 2 : 4;
        if (body.Length < width) return false;
        var unit = body[..width];
        var bigEndian = encoding.CodePage is 1201 or 12001;
        var low = bigEndian ? unit[^1] : unit[0];
        var high = bigEndian ? unit[..^1] : unit[1..];
        return low is > 0 and < 0x80 && !high.ContainsAnyExcept((byte)0);
    }

    private static readonly Encoding BigEndianUtf32 = new UTF32Encoding(bigEndian: true, byteOrderMark: true);

    /// <summary>
    /// The body, when it is UTF-8 throughout. JSON text is UTF-8, but the reader checks only the strings it decodes: bytes
    /// that are not UTF-8 inside a value it skips (an unknown field) would pass unnoticed.
    /// </summary>
    internal static ReadOnlySpan<byte> Utf8Text(ReadOnlySpan<byte> body) =>
        System.Text.Unicode.Utf8.IsValid(body) ? body : throw new JsonException("The request body is not valid UTF-8.");

    /// <summary>
    /// A UTF-16 or UTF-32 body as UTF-8, decoded strictly: a lone surrogate, a code point past Unicode's range or a body
    /// cut inside a code unit is refused, as bytes that are not UTF-8 are (a lenient decoder would put U+FFFD in their place).
    /// </summary>
    internal static byte[] Transcoded(Encoding declared, byte[] body, int index, int count)
    {
        var strict = System.Text.Encoding.GetEncoding(declared.CodePage, EncoderFallback.ExceptionFallback, DecoderFallback.ExceptionFallback);
        try
        {
            return System.Text.Encoding.UTF8.GetBytes(strict.GetChars(body, index, count));
        }
        catch (DecoderFallbackException)
        {
            throw new JsonException($"The request body is not valid {(declared.CodePage is 1200 or 1201 ? "UTF-16" : "UTF-32")}.");
        }
    }

    private static T? Deserialize<T>(ReadOnlySequence<byte> body, Encoding? encoding, JsonTypeInfo<T> type)
    {
        try
        {
            // A UTF-8 byte order mark is allowed before JSON text and ignored, as the framework's stream reader does.
            if (encoding is null && body.FirstSpan.StartsWith(Utf8Bom)) body = body.Slice(Utf8Bom.Length);
            if (encoding is null && body.IsSingleSegment) return JsonSerializer.Deserialize(Utf8Text(body.FirstSpan), type);
            var length = checked((int)body.Length);
            var copy = ArrayPool<byte>.Shared.Rent(length);
            try
            {
                body.CopyTo(copy);
                if (encoding is null) return JsonSerializer.Deserialize(Utf8Text(copy.AsSpan(0, length)), type);
                var (declared, skip) = ByteOrder(encoding, copy.AsSpan(0, length));
                return JsonSerializer.Deserialize(Transcoded(declared, copy, skip, length - skip), type);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(copy);
            }
        }
        catch (JsonException json)
        {
            throw new BadHttpRequestException($"Failed to read \"{typeof(T).Name}\" from the request body as JSON.", StatusCodes.Status400BadRequest, json);
        }
    }
}
