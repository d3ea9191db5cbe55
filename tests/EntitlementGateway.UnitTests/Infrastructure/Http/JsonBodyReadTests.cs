using System.IO.Pipelines;
using System.Text;
using System.Text.Json;
using EntitlementGateway.Api;
using EntitlementGateway.Infrastructure.Http;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace EntitlementGateway.UnitTests.Infrastructure.Http;

/// <summary>How every body endpoint reads its JSON: what it refuses, with which status, and what it reads.</summary>
public class JsonBodyReadTests
{
    private const string Ucid = "eyJhbGciOiJSUzI1NiJ9.e30.c2ln";
    private static readonly byte[] Json = Encoding.UTF8.GetBytes($$"""{"userCollectionsId":"{{Ucid}}"}""");

    private sealed class BodyDetection(bool value) : IHttpRequestBodyDetectionFeature
    {
        public bool CanHaveBody { get; } = value;
    }

    private sealed class BodyPipe(PipeReader reader) : IRequestBodyPipeFeature
    {
        public PipeReader Reader { get; } = reader;
    }

    /// <summary>A body whose first read fails as a broken or refused transfer would.</summary>
    private sealed class FailingReader(Exception failure) : PipeReader
    {
        public override void AdvanceTo(SequencePosition consumed) { }
        public override void AdvanceTo(SequencePosition consumed, SequencePosition examined) { }
        public override void CancelPendingRead() { }
        public override void Complete(Exception? exception = null) { }
        public override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default) => ValueTask.FromException<ReadResult>(failure);
        public override bool TryRead(out ReadResult result) => throw failure;
    }

    private static HttpRequest Request(PipeReader body, string? contentType = "application/json", bool canHaveBody = true, string? contentEncoding = null)
    {
        var context = new DefaultHttpContext();
        context.Features.Set<IHttpRequestBodyDetectionFeature>(new BodyDetection(canHaveBody));
        context.Features.Set<IRequestBodyPipeFeature>(new BodyPipe(body));
        context.Request.ContentType = contentType;
        if (contentEncoding is not null) context.Request.Headers.ContentEncoding = contentEncoding;
        return context.Request;
    }

    /// <summary>A completed pipe holding the body in the given pieces, each its own segment.</summary>
    private static async Task<PipeReader> PiecesAsync(params byte[][] pieces)
    {
        var pipe = new Pipe(new PipeOptions(minimumSegmentSize: 1, pauseWriterThreshold: 0));
        foreach (var piece in pieces)
        {
            await pipe.Writer.WriteAsync(piece);
        }
        await pipe.Writer.CompleteAsync();
        return pipe.Reader;
    }

    private static ValueTask<RenewUserCollectionsIdRequest> ReadAsync(HttpRequest request) =>
        JsonBody.ReadAsync(request, ApiJsonContext.Default.RenewUserCollectionsIdRequest, CancellationToken.None);

    private static async Task<BadHttpRequestException> RefusedAsync(HttpRequest request) =>
        await Assert.ThrowsAsync<BadHttpRequestException>(async () => await ReadAsync(request));

    [Fact]
    public async Task ReadAsync_AJsonBody_IsRead_AndConsumedWhole()
    {
        var reader = await PiecesAsync(Json);

        var read = await ReadAsync(Request(reader));

        Assert.Equal(Ucid, read.UserCollectionsId);
        Assert.True(reader.TryRead(out var rest));
        Assert.True(rest.Buffer.IsEmpty);
        Assert.True(rest.IsCompleted);
    }

    [Fact]
    public async Task ReadAsync_ABodyArrivingInManyPieces_IsReadWhole()
    {
        var pieces = Json.Chunk(3).ToArray();

        var read = await ReadAsync(Request(await PiecesAsync(pieces)));

        Assert.Equal(Ucid, read.UserCollectionsId);
    }

    [Fact]
    public async Task ReadAsync_ABodyStillArriving_IsReadOnceItEnds()
    {
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 0));
        await pipe.Writer.WriteAsync(Json[..10]);
        var reading = ReadAsync(Request(pipe.Reader)).AsTask();
        await Task.Delay(50);
        Assert.False(reading.IsCompleted);

        await pipe.Writer.WriteAsync(Json[10..]);
        await pipe.Writer.CompleteAsync();

        Assert.Equal(Ucid, (await reading).UserCollectionsId);
    }

    [Theory]
    [InlineData(1000, "utf-8")]
    [InlineData(777, "utf-16")]
    public async Task ReadAsync_ABodyInManyReads_IsConsumedAsItComes_AndReadWhole(int pieceSize, string charset)
    {
        // A writer that waits for each piece to be consumed before it sends the next: a reader that held what it read
        // until the end would wait for a body that never comes.
        var text = $$"""{"other":"{{new string('x', 9000)}}","userCollectionsId":"{{Ucid}}"}""";
        var body = charset == "utf-8" ? Encoding.UTF8.GetBytes(text) : Encoding.Unicode.GetBytes(text);
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 1, resumeWriterThreshold: 1));
        var reading = ReadAsync(Request(pipe.Reader, "application/json; charset=" + charset)).AsTask();

        foreach (var piece in body.Chunk(pieceSize))
            await pipe.Writer.WriteAsync(piece).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        await pipe.Writer.CompleteAsync();

        Assert.Equal(Ucid, (await reading.WaitAsync(TimeSpan.FromSeconds(10))).UserCollectionsId);
    }

    [Fact]
    public async Task ReadAsync_ABodyThatStallsShortOfItsEnd_IsA408_OnceItsDeadlinePasses()
    {
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 0));
        await pipe.Writer.WriteAsync(Json[..^1]);

        var refused = await Assert.ThrowsAsync<BadHttpRequestException>(async () =>
            await JsonBody.ReadAsync(Request(pipe.Reader), ApiJsonContext.Default.RenewUserCollectionsIdRequest, TimeSpan.FromMilliseconds(200), CancellationToken.None));

        Assert.Equal(StatusCodes.Status408RequestTimeout, refused.StatusCode);
        Assert.Equal("The request body was not sent in time: a body must arrive whole within 0.2 s.", refused.Message);
    }

    [Fact]
    public async Task ReadAsync_ABodyThatTakesMoreThanOneRead_IsRead_WithinItsDeadline()
    {
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 0));
        await pipe.Writer.WriteAsync(Json[..10]);
        var reading = JsonBody.ReadAsync(Request(pipe.Reader), ApiJsonContext.Default.RenewUserCollectionsIdRequest, TimeSpan.FromSeconds(5), CancellationToken.None).AsTask();
        await Task.Delay(100);

        await pipe.Writer.WriteAsync(Json[10..]);
        await pipe.Writer.CompleteAsync();

        Assert.Equal(Ucid, (await reading).UserCollectionsId);
    }

    [Fact]
    public async Task ReadAsync_AReadCanceledByAnotherThanTheDeadline_ReadsOn()
    {
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 0));
        await pipe.Writer.WriteAsync(Json[..10]);
        var reading = JsonBody.ReadAsync(Request(pipe.Reader), ApiJsonContext.Default.RenewUserCollectionsIdRequest, TimeSpan.FromSeconds(5), CancellationToken.None).AsTask();
        await Task.Delay(50);

        pipe.Reader.CancelPendingRead();
        await Task.Delay(50);
        await pipe.Writer.WriteAsync(Json[10..]);
        await pipe.Writer.CompleteAsync();

        Assert.Equal(Ucid, (await reading).UserCollectionsId);
    }

    [Fact]
    public async Task ReadAsync_TheCallerGivingUpOnAStalledBody_IsTheCallersCancellation_NotA408()
    {
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 0));
        await pipe.Writer.WriteAsync(Json[..^1]);
        using var caller = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
            await JsonBody.ReadAsync(Request(pipe.Reader), ApiJsonContext.Default.RenewUserCollectionsIdRequest, TimeSpan.FromSeconds(30), caller.Token));
    }

    [Fact]
    public async Task ReadAsync_AByteOrderMarkBeforeABodyInPieces_IsSkipped_AndTheRestChecked()
    {
        var read = await ReadAsync(Request(await PiecesAsync([0xEF, 0xBB, 0xBF], Json[..5], Json[5..])));

        Assert.Equal(Ucid, read.UserCollectionsId);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task ReadAsync_BytesThatAreNotUtf8_AreA400(int pieces)
    {
        // The byte that is not UTF-8 is inside a value the reader skips (an unknown field), so only the check finds it.
        byte[] body = [.. """{"userCollectionsId":"x","other":"""u8, 0x22, 0xFF, 0x22, (byte)'}'];

        var refused = await RefusedAsync(Request(await PiecesAsync(pieces == 1 ? [body] : [body[..4], body[4..]])));

        Assert.Equal(StatusCodes.Status400BadRequest, refused.StatusCode);
        Assert.Contains("RenewUserCollectionsIdRequest", refused.Message);
        Assert.Equal("The request body is not valid UTF-8.", Assert.IsType<JsonException>(refused.InnerException).Message);
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(true, true)]
    public async Task ReadAsync_AUtf16Body_IsTranscoded_WithoutItsMark(bool mark, bool bigEndian)
    {
        var encoding = new UnicodeEncoding(bigEndian, byteOrderMark: mark);
        byte[] body = [.. encoding.GetPreamble(), .. encoding.GetBytes(Encoding.UTF8.GetString(Json))];

        var read = await ReadAsync(Request(await PiecesAsync(body), "application/json; charset=utf-16"));

        Assert.Equal(Ucid, read.UserCollectionsId);
    }

    public static TheoryData<string, byte[], string> BrokenUnicode => new()
    {
        // A lone high surrogate (D800) in a field the reader would skip, in either byte order.
        { "utf-16", [.. Utf16("""{"userCollectionsId":"x","other":""", false), 0x00, 0xD8, .. Utf16("\"}", false)], "UTF-16" },
        { "utf-16", [.. Utf16("""{"userCollectionsId":"x","other":""", true), 0xD8, 0x00, .. Utf16("\"}", true)], "UTF-16" },
        // A body cut inside its last code unit.
        { "utf-16", [.. Utf16("""{"userCollectionsId":"x"}""", false), 0x20], "UTF-16" },
        // Past Unicode's range (0x110000), and a surrogate's code point, as UTF-32 code units.
        { "utf-32", [.. Utf32("""{"userCollectionsId":"x","other":""", false), 0x00, 0x00, 0x11, 0x00, .. Utf32("\"}", false)], "UTF-32" },
        { "utf-32", [.. Utf32("""{"userCollectionsId":"x","other":""", true), 0x00, 0x00, 0xD8, 0x00, .. Utf32("\"}", true)], "UTF-32" },
    };

    private static byte[] Utf16(string text, bool bigEndian) => new UnicodeEncoding(bigEndian, false).GetBytes(text);

    private static byte[] Utf32(string text, bool bigEndian) => new UTF32Encoding(bigEndian, false).GetBytes(text);

    [Theory]
    [MemberData(nameof(BrokenUnicode))]
    public async Task ReadAsync_AUtf16OrUtf32BodyThatIsNotValidInIt_IsA400(string charset, byte[] body, string named)
    {
        var refused = await RefusedAsync(Request(await PiecesAsync(body), "application/json; charset=" + charset));

        Assert.Equal(StatusCodes.Status400BadRequest, refused.StatusCode);
        Assert.Equal($"The request body is not valid {named}.", Assert.IsType<JsonException>(refused.InnerException).Message);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ReadAsync_AUtf32Body_IsTranscoded(bool bigEndian)
    {
        var body = Utf32(Encoding.UTF8.GetString(Json), bigEndian);

        var read = await ReadAsync(Request(await PiecesAsync(body), "application/json; charset=utf-32"));

        Assert.Equal(Ucid, read.UserCollectionsId);
    }

    [Fact]
    public async Task ReadAsync_ANullBody_IsNotProvided()
    {
        var refused = await RefusedAsync(Request(await PiecesAsync("null"u8.ToArray())));

        Assert.Equal(StatusCodes.Status400BadRequest, refused.StatusCode);
        Assert.Equal("Required parameter \"RenewUserCollectionsIdRequest\" was not provided from body.", refused.Message);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(null)]
    public async Task ReadAsync_ARequestThatCannotHaveABody_IsNotProvided_BeforeItsBodyIsRead(bool? canHaveBody)
    {
        var request = Request(new FailingReader(new InvalidOperationException("read")), canHaveBody: canHaveBody ?? true);
        if (canHaveBody is null) request.HttpContext.Features.Set<IHttpRequestBodyDetectionFeature>(null);

        var refused = await RefusedAsync(request);

        Assert.Equal(StatusCodes.Status400BadRequest, refused.StatusCode);
        Assert.Contains("was not provided from body", refused.Message);
    }

    [Theory]
    [InlineData("text/plain")]
    [InlineData(null)]
    public async Task ReadAsync_ABodyThatIsNotJson_IsA415NamingItsType(string? contentType)
    {
        var refused = await RefusedAsync(Request(await PiecesAsync(Json), contentType));

        Assert.Equal(StatusCodes.Status415UnsupportedMediaType, refused.StatusCode);
        Assert.Equal($"Expected a supported JSON media type but got \"{contentType}\".", refused.Message);
    }

    [Fact]
    public async Task ReadAsync_ACompressedBody_IsA415NamingItsCoding()
    {
        var refused = await RefusedAsync(Request(await PiecesAsync(Json), contentEncoding: "gzip"));

        Assert.Equal(StatusCodes.Status415UnsupportedMediaType, refused.StatusCode);
        Assert.Equal("The request's Content-Encoding \"gzip\" is not read.", refused.Message);
    }

    [Theory]
    [InlineData("identity")]
    [InlineData("IDENTITY")]
    public async Task ReadAsync_TheIdentityCoding_IsNoCompression(string coding)
    {
        var read = await ReadAsync(Request(await PiecesAsync(Json), contentEncoding: coding));

        Assert.Equal(Ucid, read.UserCollectionsId);
    }

    [Fact]
    public async Task ReadAsync_ABodyOverTheSizeLimit_IsTheLimitsOwn413()
    {
        var tooLarge = new BadHttpRequestException("Request body too large.", StatusCodes.Status413PayloadTooLarge);

        var refused = await RefusedAsync(Request(new FailingReader(tooLarge)));

        Assert.Same(tooLarge, refused);
    }

    public static TheoryData<Exception, int, string> RefusedTransfers => new()
    {
        { new BadHttpRequestException("Reading the request body timed out due to data arriving too slowly.", StatusCodes.Status408RequestTimeout), StatusCodes.Status408RequestTimeout, "The request body was not sent in time." },
        // Kestrel's own refusals of the body's bytes (a body cut short) are IOExceptions too.
        { new BadHttpRequestException("Unexpected end of request content.", StatusCodes.Status400BadRequest), StatusCodes.Status400BadRequest, "The request body's framing is broken." },
        { new IOException("Bad chunk size data."), StatusCodes.Status400BadRequest, "The request body's framing is broken." },
    };

    [Theory]
    [MemberData(nameof(RefusedTransfers))]
    public async Task ReadAsync_ABodyTooSlowCutShortOrBadlyFramed_IsRefusedWithAMessageThatSaysSo(Exception failure, int status, string message)
    {
        var refused = await RefusedAsync(Request(new FailingReader(failure)));

        Assert.Equal((status, message), (refused.StatusCode, refused.Message));
        Assert.Same(failure, refused.InnerException);
    }

    [Fact]
    public async Task ReadAsync_WithoutARequestOrAType_Throws()
    {
        await Assert.ThrowsAsync<ArgumentNullException>(async () => await JsonBody.ReadAsync(null!, ApiJsonContext.Default.RenewUserCollectionsIdRequest, CancellationToken.None));
        // Before anything else: this request would otherwise be refused for having no body.
        var request = Request(await PiecesAsync(Json), canHaveBody: false);
        await Assert.ThrowsAsync<ArgumentNullException>(async () => await JsonBody.ReadAsync<RenewUserCollectionsIdRequest>(request, null!, CancellationToken.None));
    }

    [Theory]
    [InlineData(null, null)]
    [InlineData("application/json", null)]
    [InlineData("application/json; charset=utf-8", null)]
    [InlineData("application/json; charset=\"utf-8\"", null)]
    [InlineData("application/json; charset=\"\"", null)]
    [InlineData("application/json; charset=", null)]
    [InlineData("application/json; charset=\"", null)]
    [InlineData("application/json; charset=utf-16\"", null)]
    [InlineData("application/json; charset=utf-16", 1200)]
    [InlineData("application/json; charset=\"utf-16\"", 1200)]
    [InlineData("application/json; charset=UTF-16BE", 1201)]
    [InlineData("application/json; charset=\"utf-32\"", 12000)]
    public void DeclaredEncoding_IsNullForUtf8_AndTheEncodingForAnotherUnicodeCharset(string? contentType, int? codePage)
    {
        Assert.Equal(codePage, JsonBody.DeclaredEncoding(contentType)?.CodePage);
    }

    [Theory]
    [InlineData("no-such-charset", "The request's charset \"no-such-charset\" is not a known encoding.")]
    [InlineData("\"no-such\"", "The request's charset \"no-such\" is not a known encoding.")]
    [InlineData("utf-7", "The request's charset \"utf-7\" is not a known encoding.")]
    [InlineData("iso-8859-1", "The request's charset \"iso-8859-1\" is not a Unicode encoding.")]
    [InlineData("us-ascii", "The request's charset \"us-ascii\" is not a Unicode encoding.")]
    public void DeclaredEncoding_ACharsetThatIsNotAUnicodeEncodingDotNetReads_IsA415NamingIt(string charset, string message)
    {
        var refused = Assert.Throws<BadHttpRequestException>(() => JsonBody.DeclaredEncoding($"application/json; charset={charset}"));

        Assert.Equal((StatusCodes.Status415UnsupportedMediaType, message), (refused.StatusCode, refused.Message));
    }
}
