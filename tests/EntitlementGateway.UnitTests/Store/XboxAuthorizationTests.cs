using EntitlementGateway.Store;

namespace EntitlementGateway.UnitTests.Store;

public class XboxAuthorizationTests
{
    // A real signature's shape: 76 bytes (version, file time, 64 signature bytes) in 104 base64 characters.
    private static readonly string Signature = Convert.ToBase64String(Enumerable.Range(0, 76).Select(i => (byte)i).ToArray());
    private const string Token = "eyJhbGciOi.JSUzI1NiJ9-_x.abc+/def==";

    private static XboxAuthorization? Parse(string? authorization, string? signature, out XboxAuthorizationProblem problem, out string detail) =>
        XboxAuthorization.TryParse(authorization, signature, out problem, out detail);

    [Fact]
    public void TryParse_AWellFormedPair_GivesTheUserHashTokenAndKeys()
    {
        var parsed = Parse("XBL3.0 x=2535405290;" + Token, Signature, out var problem, out var detail);

        Assert.NotNull(parsed);
        Assert.Equal(XboxAuthorizationProblem.None, problem);
        Assert.Equal("", detail);
        Assert.Equal("2535405290", parsed.UserHash);
        Assert.Equal(Token, parsed.Token);
        Assert.Equal("xbl-2535405290", parsed.BudgetKey);
        Assert.Equal(Signature, parsed.Signature);
        Assert.Equal(12, parsed.Fingerprint.Length);
        Assert.DoesNotContain(parsed.Fingerprint, parsed.Authorization, StringComparison.Ordinal);
    }

    [Fact]
    public void Fingerprint_DiffersPerToken_AndIsStable()
    {
        var a = Parse("XBL3.0 x=1;aaaa", Signature, out _, out _)!;
        var b = Parse("XBL3.0 x=1;aaab", Signature, out _, out _)!;
        Assert.NotEqual(a.Fingerprint, b.Fingerprint);
        Assert.Equal(a.Fingerprint, Parse("XBL3.0 x=1;aaaa", Signature, out _, out _)!.Fingerprint);
        Assert.Matches("^[0-9a-f]{12}$", a.Fingerprint);
    }

    [Theory]
    [InlineData(null, "is required")]
    [InlineData("", "is required")]
    [InlineData("Bearer eyJ", "must start with 'XBL3.0 x='")]
    [InlineData("xbl3.0 x=1;t", "must start with 'XBL3.0 x='")]
    [InlineData("XBL3.0  x=1;t", "must start with 'XBL3.0 x='")]
    [InlineData("XBL3.0 x=123", "no ';'")]
    [InlineData("XBL3.0 x=;token", "user hash (x=) must be 1 to 64")]
    [InlineData("XBL3.0 x=12 3;token", "user hash (x=) must be 1 to 64")]
    [InlineData("XBL3.0 x=12-3;token", "user hash (x=) must be 1 to 64")]
    [InlineData("XBL3.0 x=123;", "no token")]
    [InlineData("XBL3.0 x=123;tok en", "may hold only")]
    [InlineData("XBL3.0 x=123;tok\r\nX-Evil: 1", "may hold only")]
    [InlineData("XBL3.0 x=123;tok;en", "may hold only")]
    [InlineData("XBL3.0 x=123;tok,en", "may hold only")]
    [InlineData("XBL3.0 x=123;toké", "may hold only")]
    public void TryParse_AMalformedAuthorization_IsRefusedNamingIt(string? authorization, string message)
    {
        Assert.Null(Parse(authorization, Signature, out var problem, out var detail));
        Assert.Equal(XboxAuthorizationProblem.Authorization, problem);
        Assert.StartsWith("xbox.authorization", detail, StringComparison.Ordinal);
        Assert.Contains(message, detail, StringComparison.Ordinal);
    }

    [Fact]
    public void TryParse_UserHashAndLengthBounds_AreInclusive()
    {
        Assert.NotNull(Parse("XBL3.0 x=" + new string('7', 64) + ";t", Signature, out _, out _));
        Assert.Null(Parse("XBL3.0 x=" + new string('7', 65) + ";t", Signature, out _, out _));
        Assert.NotNull(Parse("XBL3.0 x=a;t", Signature, out _, out _));

        var longest = "XBL3.0 x=1;" + new string('t', XboxAuthorization.MaxAuthorizationLength - 11);
        Assert.Equal(XboxAuthorization.MaxAuthorizationLength, longest.Length);
        Assert.NotNull(Parse(longest, Signature, out _, out _));
        Assert.Null(Parse(longest + "t", Signature, out var problem, out var detail));
        Assert.Equal(XboxAuthorizationProblem.Authorization, problem);
        Assert.Contains("longer than 16384", detail, StringComparison.Ordinal);
    }

    [Fact]
    public void TryParse_EveryDocumentedTokenCharacter_IsAccepted()
    {
        var parsed = Parse("XBL3.0 x=Ab9;ABCXYZabcxyz0189-_.+/=", Signature, out _, out _);
        Assert.Equal("ABCXYZabcxyz0189-_.+/=", parsed!.Token);
        Assert.Equal("Ab9", parsed.UserHash);
    }

    [Theory]
    [InlineData(null, "is required")]
    [InlineData("", "is required")]
    [InlineData("not base64!", "must be base64")]
    [InlineData("AAAA AAAAAAAAAAAAAAAAAAAA", "must be base64")]
    [InlineData("AAAAAAAAAAAAAAAA\nAAAAAAAA", "must be base64")]
    [InlineData("AAAAAAAAAAAAAAA=", "at least 13 bytes")]
    public void TryParse_AMalformedSignature_IsRefusedNamingIt(string? signature, string message)
    {
        Assert.Null(Parse("XBL3.0 x=1;token", signature, out var problem, out var detail));
        Assert.Equal(XboxAuthorizationProblem.Signature, problem);
        Assert.StartsWith("xbox.signature", detail, StringComparison.Ordinal);
        Assert.Contains(message, detail, StringComparison.Ordinal);
    }

    [Fact]
    public void TryParse_SignatureBounds_AreInclusive()
    {
        var thirteen = Convert.ToBase64String(new byte[13]);
        Assert.NotNull(Parse("XBL3.0 x=1;t", thirteen, out _, out _));
        Assert.Null(Parse("XBL3.0 x=1;t", Convert.ToBase64String(new byte[12]), out _, out _));

        var longest = Convert.ToBase64String(new byte[768]);
        Assert.Equal(XboxAuthorization.MaxSignatureLength, longest.Length);
        Assert.NotNull(Parse("XBL3.0 x=1;t", longest, out _, out _));
        Assert.Null(Parse("XBL3.0 x=1;t", longest + "AAAA", out var problem, out var detail));
        Assert.Equal(XboxAuthorizationProblem.Signature, problem);
        Assert.Contains("longer than 1024", detail, StringComparison.Ordinal);
    }

    [Fact]
    public void TryParse_ABadAuthorization_IsReportedBeforeABadSignature()
    {
        Assert.Null(Parse("nope", "nope!", out var problem, out _));
        Assert.Equal(XboxAuthorizationProblem.Authorization, problem);
    }
}
