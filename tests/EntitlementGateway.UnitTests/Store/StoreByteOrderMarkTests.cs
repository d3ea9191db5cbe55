using System.Net;
using System.Text;
using EntitlementGateway.Store;

namespace EntitlementGateway.UnitTests.Store;

/// <summary>A UTF-8 byte order mark before a Store answer is dropped (JSON lets a reader ignore it); nothing else is touched.</summary>
public sealed class StoreByteOrderMarkTests
{
    private static readonly byte[] Bom = [0xEF, 0xBB, 0xBF];

    private static async Task<HttpResponseMessage> Answer(byte[] body)
    {
        var content = new ByteArrayContent(body);
        content.Headers.TryAddWithoutValidation("Content-Type", "application/json; charset=utf-8");
        content.Headers.TryAddWithoutValidation("Content-Language", "en");
        var response = new HttpResponseMessage(HttpStatusCode.OK) { Content = content };
        await response.Content.LoadIntoBufferAsync();
        return response;
    }

    [Fact]
    public async Task ABomBeforeTheBody_IsDropped_AndTheContentHeadersStay()
    {
        var json = Encoding.UTF8.GetBytes("{\"items\":[]}");
        using var response = await Answer([.. Bom, .. json]);

        var same = await StoreWire.WithoutByteOrderMarkAsync(response, CancellationToken.None);

        Assert.Same(response, same);
        Assert.Equal(json, await response.Content.ReadAsByteArrayAsync());
        Assert.Equal(json.Length, response.Content.Headers.ContentLength);
        Assert.Equal("application/json", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal("utf-8", response.Content.Headers.ContentType.CharSet);
        Assert.Equal("en", Assert.Single(response.Content.Headers.ContentLanguage));
        Assert.True(await StoreWire.IsJsonObjectAnswerAsync(response, CancellationToken.None));
    }

    [Theory]
    [InlineData(new byte[] { (byte)'{', (byte)'}' })]
    [InlineData(new byte[] { 0xEF, 0xBB })] // shorter than a mark
    [InlineData(new byte[] { 0xEF, 0xBB, (byte)'{', (byte)'}' })] // a mark's start only
    [InlineData(new byte[] { 0xBB, 0xEF, 0xBF, (byte)'{', (byte)'}' })]
    [InlineData(new byte[] { (byte)'{', 0xEF, 0xBB, 0xBF, (byte)'}' })] // not before the body
    [InlineData(new byte[0])]
    public async Task AnythingElse_IsLeftAsItIs_AndReadFromItsStart(byte[] body)
    {
        using var response = await Answer(body);
        var content = response.Content;

        await StoreWire.WithoutByteOrderMarkAsync(response, CancellationToken.None);

        Assert.Same(content, response.Content);
        Assert.Equal(body, await response.Content.ReadAsByteArrayAsync());
        Assert.Equal(0, (await response.Content.ReadAsStreamAsync()).Position);
    }

    [Fact]
    public async Task TheReplacedContentIsDisposed()
    {
        using var response = await Answer([.. Bom, (byte)'{', (byte)'}']);
        var before = response.Content;

        await StoreWire.WithoutByteOrderMarkAsync(response, CancellationToken.None);

        Assert.NotSame(before, response.Content);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => before.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task TheMarkIsLookedForWhereTheBodyStands_AndTheRestFromThere()
    {
        using var response = await Answer([(byte)' ', .. Bom, (byte)'{', (byte)'}']);
        (await response.Content.ReadAsStreamAsync()).Position = 1;

        await StoreWire.WithoutByteOrderMarkAsync(response, CancellationToken.None);

        Assert.Equal("{}", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task NoResponse_IsAnArgumentNullException() =>
        await Assert.ThrowsAsync<ArgumentNullException>(async () => await StoreWire.WithoutByteOrderMarkAsync(null!, CancellationToken.None));

    [Fact]
    public async Task OnlyOneMarkIsDropped()
    {
        using var response = await Answer([.. Bom, .. Bom, (byte)'{', (byte)'}']);

        await StoreWire.WithoutByteOrderMarkAsync(response, CancellationToken.None);

        var read = await response.Content.ReadAsByteArrayAsync();
        Assert.Equal(new byte[] { 0xEF, 0xBB, 0xBF, (byte)'{', (byte)'}' }, read);
    }
}
