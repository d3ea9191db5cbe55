using System.Security.Cryptography;
using System.Text;
using EntitlementGateway.Clawback;

namespace EntitlementGateway.UnitTests.Clawback;

public sealed class WebhookSignatureTests
{
    private const string Secret = "0123456789abcdef0123456789abcdef";
    private static readonly byte[] Body = Encoding.UTF8.GetBytes("""{"eventId":"e1"}""");
    private static readonly DateTimeOffset Now = DateTimeOffset.FromUnixTimeSeconds(1_700_000_000);

    [Fact]
    public void Sign_IsSha256HexOfTimestampDotBody()
    {
        var expected = "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(Secret), Encoding.UTF8.GetBytes("1700000000." + """{"eventId":"e1"}""")));
        Assert.Equal(expected, WebhookSignature.Sign(Secret, 1_700_000_000, Body));
    }

    [Fact]
    public void Verify_TheGatewaysSignature_WithinTolerance_IsTrue() =>
        Assert.True(WebhookSignature.Verify(Secret, "1700000000", WebhookSignature.Sign(Secret, 1_700_000_000, Body), Body, Now.AddSeconds(299), TimeSpan.FromMinutes(5)));

    [Fact]
    public void Verify_ExactlyAtTheTolerance_IsTrue_AndBeyondIt_False()
    {
        var signature = WebhookSignature.Sign(Secret, 1_700_000_000, Body);
        Assert.True(WebhookSignature.Verify(Secret, "1700000000", signature, Body, Now.AddMinutes(-5), TimeSpan.FromMinutes(5)));
        Assert.False(WebhookSignature.Verify(Secret, "1700000000", signature, Body, Now.AddMinutes(5).AddTicks(1), TimeSpan.FromMinutes(5)));
        Assert.False(WebhookSignature.Verify(Secret, "1700000000", signature, Body, Now.AddMinutes(-5).AddTicks(-1), TimeSpan.FromMinutes(5)));
    }

    [Theory]
    [InlineData(null, "1700000000")]
    [InlineData("sha256=00", "1700000000")]
    [InlineData("valid", "1700000001")]
    [InlineData("valid", "")]
    [InlineData("valid", "-1700000000")]
    [InlineData("valid", "99999999999999999")]
    [InlineData("valid", null)]
    public void Verify_AnythingChanged_IsFalse(string? signature, string? timestamp)
    {
        if (signature == "valid") signature = WebhookSignature.Sign(Secret, 1_700_000_000, Body);
        Assert.False(WebhookSignature.Verify(Secret, timestamp, signature, Body, Now, TimeSpan.FromMinutes(5)));
    }

    [Fact]
    public void Verify_AnotherBodyOrSecret_IsFalse()
    {
        var signature = WebhookSignature.Sign(Secret, 1_700_000_000, Body);
        Assert.False(WebhookSignature.Verify(Secret, "1700000000", signature, Encoding.UTF8.GetBytes("""{"eventId":"e2"}"""), Now, TimeSpan.FromMinutes(5)));
        Assert.False(WebhookSignature.Verify(Secret + "x", "1700000000", signature, Body, Now, TimeSpan.FromMinutes(5)));
    }

    [Fact]
    public void Verify_TheLastRepresentableSecond_IsStillRead()
    {
        var last = DateTimeOffset.MaxValue.ToUnixTimeSeconds();
        var signature = WebhookSignature.Sign(Secret, last, Body);
        Assert.True(WebhookSignature.Verify(Secret, last.ToString(System.Globalization.CultureInfo.InvariantCulture), signature, Body,
            DateTimeOffset.FromUnixTimeSeconds(last), TimeSpan.FromMinutes(5)));
    }

    [Theory]
    [InlineData("5ef37bd1-8b4b-48c4-9b67-be458d8ab9de", "5ef37bd1-8b4b-48c4-9b67-be458d8ab9de")]
    [InlineData("a b~!", "a b~!")] // printable ASCII, a space inside, is a header value as it is
    [InlineData("e\r\nX-Injected: 1", "e%0D%0AX-Injected%3A%201")]
    [InlineData("e\u0000", "e%00")]
    [InlineData("e\u007f", "e%7F")]
    [InlineData("événement", "%C3%A9v%C3%A9nement")]
    [InlineData(" e", "%20e")] // a header value loses spaces at either end: encoded, the id stays whole
    [InlineData("e ", "e%20")]
    [InlineData("", "")]
    public void TheEventIdHeader_IsTheIdWhenItIsAHeaderValue_OtherwisePercentEncoded(string id, string header) =>
        Assert.Equal(header, WebhookSignature.EventIdHeaderValue(id));

    [Fact]
    public void TheEventIdHeader_OfNoId_IsAnArgumentError() =>
        Assert.Throws<ArgumentNullException>(() => WebhookSignature.EventIdHeaderValue(null!));
}
