using System.IO.Compression;
using System.Net;
using System.Text;
using EntitlementGateway.Store;
using EntitlementGateway.Store.Resilience;

namespace EntitlementGateway.UnitTests.Store;

/// <summary>
/// A Store answer in a content coding nobody asked for: gzip, x-gzip, deflate and br decoded layer by layer, identity
/// ignored, anything else refused, and the decoded size held to the limit.
/// </summary>
public sealed class StoreContentCodingTests
{
    private const long Limit = 1024 * 1024;
    private static readonly byte[] Json = Encoding.UTF8.GetBytes("{\"items\":[{\"productId\":\"9N30KZZF4BR9\"}]}");

    private static byte[] Encoded(byte[] body, params string[] codings)
    {
        foreach (var coding in codings)
        {
            using var packed = new MemoryStream();
            using (Stream encoder = coding switch
            {
                "gzip" => new GZipStream(packed, CompressionLevel.Fastest, leaveOpen: true),
                "deflate" => new ZLibStream(packed, CompressionLevel.Fastest, leaveOpen: true),
                _ => new BrotliStream(packed, CompressionLevel.Fastest, leaveOpen: true),
            })
                encoder.Write(body);
            body = packed.ToArray();
        }
        return body;
    }

    private static async Task<HttpResponseMessage> Answer(byte[] body, HttpStatusCode status = HttpStatusCode.OK, params string[] contentEncoding)
    {
        var content = new ByteArrayContent(body);
        content.Headers.TryAddWithoutValidation("Content-Type", "application/json; charset=utf-8");
        content.Headers.TryAddWithoutValidation("Content-Language", "en");
        foreach (var value in contentEncoding) content.Headers.TryAddWithoutValidation("Content-Encoding", value);
        content.Headers.ContentLength = body.Length;
        var response = new HttpResponseMessage(status) { Content = content };
        await response.Content.LoadIntoBufferAsync();
        return response;
    }

    private static ValueTask<HttpResponseMessage> Decode(HttpResponseMessage response, long limit = Limit) =>
        StoreContentCoding.DecodedAsync(response, limit, CancellationToken.None);

    [Theory]
    [InlineData(null)]
    [InlineData("identity")]
    [InlineData("IDENTITY, identity")]
    [InlineData(" , ")]
    public async Task NoCodingButIdentity_LeavesTheAnswerAsItCame(string? header)
    {
        using var response = await Answer(Json, HttpStatusCode.OK, header is null ? [] : [header]);
        var content = response.Content;

        var same = await Decode(response);

        Assert.Same(response, same);
        Assert.Same(content, same.Content);
        Assert.Equal(Json, await same.Content.ReadAsByteArrayAsync());
    }

    [Theory]
    [InlineData("gzip", "gzip")]
    [InlineData("x-gzip", "gzip")]
    [InlineData("X-GZIP", "gzip")]
    [InlineData("GZip", "gzip")]
    [InlineData("deflate", "deflate")]
    [InlineData("Deflate", "deflate")]
    [InlineData("br", "br")]
    [InlineData("BR", "br")]
    [InlineData("gzip, br", "gzip br")]
    [InlineData("br,deflate", "br deflate")]
    [InlineData("identity, gzip ,, identity", "gzip")]
    [InlineData("gzip, gzip", "gzip gzip")]
    public async Task EachCoding_IsTakenOff_FromTheLastListed_AndTheContentHeadersStay(string header, string applied)
    {
        using var response = await Answer(Encoded(Json, applied.Split(' ')), HttpStatusCode.OK, header);
        var sent = response.Content;

        var decoded = await Decode(response);

        Assert.Same(response, decoded);
        Assert.Equal(Json, await decoded.Content.ReadAsByteArrayAsync());
        Assert.Empty(decoded.Content.Headers.ContentEncoding);
        Assert.False(decoded.Content.Headers.NonValidated.Contains("Content-Encoding"));
        Assert.Equal(Json.Length, decoded.Content.Headers.ContentLength);
        Assert.Equal("application/json", decoded.Content.Headers.ContentType!.MediaType);
        Assert.Equal("utf-8", decoded.Content.Headers.ContentType.CharSet);
        Assert.Equal("en", Assert.Single(decoded.Content.Headers.ContentLanguage));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => sent.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task CodingsOnTwoHeaderLines_AreOneList()
    {
        using var response = await Answer(Encoded(Json, "deflate", "gzip"), HttpStatusCode.OK, "deflate", "gzip");

        Assert.Equal(Json, await (await Decode(response)).Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task AnEmptyBodyInACoding_IsEmpty()
    {
        using var response = await Answer([], HttpStatusCode.NoContent, "gzip");

        var decoded = await Decode(response);

        Assert.Empty(await decoded.Content.ReadAsByteArrayAsync());
        Assert.Empty(decoded.Content.Headers.ContentEncoding);
    }

    [Theory]
    [InlineData("compress")]
    [InlineData("zstd")]
    [InlineData("gzipx")]
    [InlineData("gzip, zstd")]
    [InlineData("zstd, gzip")]
    [InlineData("g zip")]
    [InlineData("@")]
    public async Task ACodingTheGatewayDoesNotRead_IsRefused_WithoutEchoingIt(string header)
    {
        using var response = await Answer(Encoded(Json, "gzip"), HttpStatusCode.ServiceUnavailable, header);

        var refused = await Assert.ThrowsAsync<StoreUnreadableAnswerException>(() => Decode(response).AsTask());

        Assert.Equal("The Store's 503 answer is in a content coding the gateway does not read (it reads gzip, deflate and br): it was not read.", refused.Message);
    }

    [Theory]
    [InlineData("gzip", "gzip")]
    [InlineData("x-gzip", "gzip")]
    [InlineData("deflate", "deflate")]
    [InlineData("br", "br")]
    public async Task BytesNotInTheirCoding_AreRefused_NamingIt(string header, string named)
    {
        using var response = await Answer(Json, HttpStatusCode.OK, header);

        var refused = await Assert.ThrowsAsync<StoreUnreadableAnswerException>(() => Decode(response).AsTask());

        Assert.Equal($"The Store's 200 answer is labelled {named} but its bytes are not: it was not read.", refused.Message);
    }

    [Theory]
    [InlineData("gzip")]
    [InlineData("deflate")]
    [InlineData("br")]
    public async Task TheDecodedBytes_AreHeldToTheLimit_WhichTheyMayReach(string coding)
    {
        var atLimit = new byte[Limit];
        atLimit.AsSpan().Fill((byte)' ');
        using var fits = await Answer(Encoded(atLimit, coding), HttpStatusCode.OK, coding);
        Assert.Equal(Limit, (await (await Decode(fits)).Content.ReadAsByteArrayAsync()).Length);

        using var over = await Answer(Encoded([.. atLimit, (byte)' '], coding), HttpStatusCode.OK, coding);
        var refused = await Assert.ThrowsAsync<StoreUnreadableAnswerException>(() => Decode(over).AsTask());

        Assert.Equal($"The Store's 200 answer decodes ({coding}) to more than the 1 MiB the gateway reads: it was not read.", refused.Message);
    }

    [Fact]
    public async Task ALimitInKiB_IsNamedInKiB()
    {
        using var over = await Answer(Encoded(new byte[64 * 1024 + 1], "gzip"), HttpStatusCode.OK, "gzip");

        var refused = await Assert.ThrowsAsync<StoreUnreadableAnswerException>(() => Decode(over, 64 * 1024).AsTask());

        Assert.Equal("The Store's 200 answer decodes (gzip) to more than the 64 KiB the gateway reads: it was not read.", refused.Message);
    }

    [Theory]
    [InlineData(4L * 1024 * 1024, "4 MiB")]
    [InlineData(1024L * 1024, "1 MiB")]
    [InlineData(64L * 1024, "64 KiB")]
    [InlineData(1024L * 1024 + 1024, "1025 KiB")]
    public void Size_IsWholeMiBOrElseKiB(long bytes, string named) => Assert.Equal(named, StoreContentCoding.Size(bytes));
}
