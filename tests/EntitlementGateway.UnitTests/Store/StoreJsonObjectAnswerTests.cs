using System.Net;
using System.Text;
using EntitlementGateway.Store;

namespace EntitlementGateway.UnitTests.Store;

/// <summary>What counts as the Store answering (its 2xx a JSON object) and what as an invalid answer.</summary>
public sealed class StoreJsonObjectAnswerTests
{
    private static async Task<HttpResponseMessage> Answer(byte[] body, string? mediaType = "application/json")
    {
        var content = new ByteArrayContent(body);
        if (mediaType is not null) content.Headers.TryAddWithoutValidation("Content-Type", mediaType);
        var response = new HttpResponseMessage(HttpStatusCode.OK) { Content = content };
        await response.Content.LoadIntoBufferAsync();
        return response;
    }

    [Theory]
    [InlineData("{\"items\":[]}", "application/json")]
    [InlineData("{}", "application/json; charset=utf-8")]
    [InlineData("{}", "APPLICATION/JSON")]
    [InlineData("{}", "application/problem+json")]
    [InlineData("{}", null)]
    [InlineData("{}", "text/plain")] // what a framework that guesses the type puts on JSON
    [InlineData("{}", "Text/Plain; charset=utf-8")]
    [InlineData(" \t\r\n{}", "application/json")]
    public async Task AJsonObject_WithAJsonMediaTypeOrNone_IsTheStoresAnswer(string body, string? mediaType)
    {
        using var response = await Answer(Encoding.UTF8.GetBytes(body), mediaType);

        Assert.True(await StoreWire.IsJsonObjectAnswerAsync(response, CancellationToken.None));
    }

    [Theory]
    [InlineData("<html>Bad gateway</html>", "text/html")]
    [InlineData("{}", "text/html")]
    [InlineData("{}", "application/xml")]
    [InlineData("{}", "text/plainer")]
    [InlineData("Bad gateway", "text/plain")]
    [InlineData("null", "application/json")]
    [InlineData("[]", "application/json")]
    [InlineData("", "application/json")]
    [InlineData("   ", "application/json")]
    [InlineData("\"{\"", "application/json")]
    [InlineData("\u00a0{}", "application/json")]
    public async Task AnythingElse_IsAnInvalidAnswer(string body, string mediaType)
    {
        using var response = await Answer(Encoding.UTF8.GetBytes(body), mediaType);

        Assert.False(await StoreWire.IsJsonObjectAnswerAsync(response, CancellationToken.None));
    }

    [Fact]
    public async Task WhiteSpaceLongerThanOneRead_IsSkipped_AndTheBodyIsLeftToBeReadWhole()
    {
        var body = Encoding.UTF8.GetBytes(new string(' ', 1000) + "{\"items\":[]}");
        using var response = await Answer(body);
        var stream = await response.Content.ReadAsStreamAsync();
        stream.Position = 0;

        Assert.True(await StoreWire.IsJsonObjectAnswerAsync(response, CancellationToken.None));
        Assert.Equal(0, stream.Position);
        Assert.Equal(body, await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task WhiteSpaceOnlyPastOneRead_IsNoObject()
    {
        using var response = await Answer(Encoding.UTF8.GetBytes(new string('\n', 700)));

        Assert.False(await StoreWire.IsJsonObjectAnswerAsync(response, CancellationToken.None));
    }

    [Fact]
    public async Task ABodyThatCannotBeRewound_IsLeftToTheReader()
    {
        using var response = new HttpResponseMessage(HttpStatusCode.OK) { Content = new StreamContent(new ForwardOnly("null"u8.ToArray())) };

        Assert.True(await StoreWire.IsJsonObjectAnswerAsync(response, CancellationToken.None));
    }

    private sealed class ForwardOnly(byte[] bytes) : MemoryStream(bytes)
    {
        public override bool CanSeek => false;
    }
}
