using System.IO.Compression;
using EntitlementGateway.Store.Resilience;

namespace EntitlementGateway.Store;

/// <summary>
/// A Store answer in a content coding. The gateway sends no <c>Accept-Encoding</c>, and HTTP lets a server that gets
/// none choose any coding: a front end that compresses JSON may. gzip (and its old name x-gzip), deflate (the zlib
/// format) and br are decoded, layer by layer from the last one listed; identity is none. Any other coding is refused,
/// not guessed at. The decoded bytes are held to the same limit as the bytes on the wire, so a small answer that
/// expands without bound is refused before it is buffered.
/// </summary>
internal static class StoreContentCoding
{
    private const string Header = "Content-Encoding";

    /// <summary>
    /// <paramref name="response"/> with its buffered body decoded and its <c>Content-Encoding</c> and
    /// <c>Content-Length</c> gone; the same response when it names no coding but identity.
    /// </summary>
    /// <exception cref="StoreUnreadableAnswerException">An unknown coding, bytes that are not valid in their coding,
    /// or decoded bytes over <paramref name="maxBytes"/>.</exception>
    public static async ValueTask<HttpResponseMessage> DecodedAsync(HttpResponseMessage response, long maxBytes, CancellationToken cancellationToken)
    {
        var status = (int)response.StatusCode;
        var codings = Codings(response.Content.Headers) ?? throw new StoreUnreadableAnswerException(
            $"The Store's {status} answer is in a content coding the gateway does not read (it reads gzip, deflate and br): it was not read.");
        if (codings.Count == 0) return response;
        var body = await response.Content.ReadAsByteArrayAsync(cancellationToken);
        for (var i = codings.Count - 1; i >= 0; i--) body = Decode(body, codings[i], maxBytes, status);
        StoreWire.ReplaceBody(response, body, [Header]);
        return response;
    }

    /// <summary>
    /// The codings applied, in the order listed, identity left out, each by its canonical name; null when one of them is
    /// not read. Read from the header's text: the typed list leaves out values it cannot parse, which would let an
    /// unparsable coding pass as none.
    /// </summary>
    internal static IReadOnlyList<string>? Codings(System.Net.Http.Headers.HttpContentHeaders headers)
    {
        // Nearly every answer has none: nothing is allocated for it.
        if (!headers.NonValidated.TryGetValues(Header, out var values)) return [];
        var codings = new List<string>();
        foreach (var value in values)
            foreach (var token in value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                if (token.Equals("identity", StringComparison.OrdinalIgnoreCase)) continue;
                if (Canonical(token) is not { } coding) return null;
                codings.Add(coding);
            }
        return codings;
    }

    private static string? Canonical(string token) =>
        token.Equals("gzip", StringComparison.OrdinalIgnoreCase) || token.Equals("x-gzip", StringComparison.OrdinalIgnoreCase) ? "gzip"
        : token.Equals("deflate", StringComparison.OrdinalIgnoreCase) ? "deflate"
        : token.Equals("br", StringComparison.OrdinalIgnoreCase) ? "br"
        : null;

    /// <summary>A limit as its callers state it: whole MiB (a Store answer's), else KiB (a renewal's).</summary>
    internal static string Size(long bytes) =>
        bytes % (1024 * 1024) == 0 ? $"{bytes / (1024 * 1024)} MiB" : $"{bytes / 1024} KiB";

    private static byte[] Decode(byte[] body, string coding, long maxBytes, int status)
    {
        using var input = new MemoryStream(body);
        using Stream decoder = coding switch
        {
            "gzip" => new GZipStream(input, CompressionMode.Decompress),
            "deflate" => new ZLibStream(input, CompressionMode.Decompress),
            _ => new BrotliStream(input, CompressionMode.Decompress),
        };
        using var output = new MemoryStream();
        var buffer = new byte[16 * 1024];
        try
        {
            int read;
            while ((read = decoder.Read(buffer)) > 0)
            {
                if (output.Length + read > maxBytes)
                    throw new StoreUnreadableAnswerException(
                        $"The Store's {status} answer decodes ({coding}) to more than the {Size(maxBytes)} the gateway reads: it was not read.");
                output.Write(buffer, 0, read);
            }
        }
        // Brotli's decoder reports bad data as an invalid operation, the others as invalid data.
        catch (Exception ex) when (ex is InvalidDataException or InvalidOperationException)
        {
            throw new StoreUnreadableAnswerException($"The Store's {status} answer is labelled {coding} but its bytes are not: it was not read.");
        }
        return output.ToArray();
    }
}
