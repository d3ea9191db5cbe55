using System.Security.Cryptography;
using System.Text;
using EntitlementGateway.Hosting;

namespace EntitlementGateway.UnitTests.Hosting;

/// <summary>The request log's path: a client's URL can carry a whole token or a line break, and neither may reach a log line.</summary>
public class LoggedPathTests
{
    [Theory]
    [InlineData("/v1/entitlements/query")]
    [InlineData("/")]
    [InlineData("/ops/budgets/user-player-1")]
    public void AGatewayPath_IsLoggedAsItIs_WithoutACopy(string path) => Assert.Same(path, RequestLoggingMiddleware.LoggedPath(path));

    [Fact]
    public void APathOfTheLongestLoggedLength_IsLoggedAsItIs_WithoutACopy()
    {
        var path = "/" + new string('p', RequestLoggingMiddleware.MaxLoggedSegment - 1);

        Assert.Same(path, RequestLoggingMiddleware.LoggedPath(path));
    }

    [Fact]
    public void ALongPathOfShortSegments_IsLoggedUnchanged()
    {
        var path = "/ops/clawback/events/" + string.Join('/', Enumerable.Repeat("segment", 10));

        Assert.Equal(path, RequestLoggingMiddleware.LoggedPath(path));
    }

    [Fact]
    public void ASegmentOfTheLongestLoggedLength_IsKept_AndOneLonger_BecomesItsLengthAndHash()
    {
        var kept = new string('a', RequestLoggingMiddleware.MaxLoggedSegment);
        var token = new string('b', RequestLoggingMiddleware.MaxLoggedSegment + 1);
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)))[..12];

        Assert.Equal($"/v1/{kept}", RequestLoggingMiddleware.LoggedPath($"/v1/{kept}"));
        Assert.Equal($"/v1/[65 characters, sha256 {hash}]/x", RequestLoggingMiddleware.LoggedPath($"/v1/{token}/x"));
    }

    [Fact]
    public void AWholeUcidInThePath_NeverAppearsInTheLoggedPath()
    {
        var ucid = "eyJhbGciOiJSUzI1NiJ9." + new string('A', 900) + "." + new string('S', 342);

        var logged = RequestLoggingMiddleware.LoggedPath("/" + ucid);

        Assert.StartsWith($"/[{ucid.Length} characters, sha256 ", logged, StringComparison.Ordinal);
        Assert.DoesNotContain("AAAA", logged, StringComparison.Ordinal);
    }

    [Fact]
    public void AUcidSplitIntoShortSegments_IsLoggedOnlyUpToTheLimit_TheRestAsItsLengthAndHash()
    {
        var ucid = "eyJhbGciOiJSUzI1NiJ9." + new string('A', 900) + "." + new string('S', 342);
        var path = "/v1/" + string.Join('/', ucid.Chunk(RequestLoggingMiddleware.MaxLoggedSegment).Select(c => new string(c)));

        var logged = RequestLoggingMiddleware.LoggedPath(path);

        // /v1/ and one 64-character segment make 68 characters; the second would take it to 133: from it on, one hash.
        var rest = path[(4 + 65)..];
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(rest)))[..12];
        Assert.Equal(path[..(4 + 65)] + $"[{rest.Length} characters, sha256 {hash}]", logged);
    }

    [Fact]
    public void APathOfShortSegments_IsKeptWhileTheLoggedTextIsWithinTheLimit()
    {
        var within = "/" + new string('a', 63) + "/" + new string('b', 60) + "/cc";
        var past = "/" + new string('a', 63) + "/" + new string('b', 61) + "/cc";
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes("cc")))[..12];
        var rest = new string('c', 30) + "/cc";
        var restHash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(rest)))[..12];
        var tokenFirst = "/" + new string('t', 65) + "/" + new string('b', 64) + "/" + rest;

        // The whole path is 128 characters in the first, 129 in the second.
        Assert.Equal(within, RequestLoggingMiddleware.LoggedPath(within));
        Assert.Equal(past[..^2] + $"[2 characters, sha256 {hash}]", RequestLoggingMiddleware.LoggedPath(past));
        // A long segment counts as its hash, and the rest after it is cut where it would pass the limit.
        var logged = RequestLoggingMiddleware.LoggedPath(tokenFirst);
        Assert.StartsWith("/[65 characters, sha256 ", logged, StringComparison.Ordinal);
        Assert.EndsWith("]/" + new string('b', 64) + $"/[33 characters, sha256 {restHash}]", logged, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("GET", "GET")]
    [InlineData("post", "POST")]
    [InlineData("Head", "HEAD")]
    [InlineData("PUT", "PUT")]
    [InlineData("DELETE", "DELETE")]
    [InlineData("PATCH", "PATCH")]
    [InlineData("OPTIONS", "OPTIONS")]
    [InlineData("TRACE", "TRACE")]
    [InlineData("CONNECT", "CONNECT")]
    [InlineData("PROPFIND", "_OTHER")]
    [InlineData("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJwbGF5ZXIifQ.c2ln", "_OTHER")]
    public void TheMethod_IsLoggedOnlyWhenStandard_AnythingElseAsOther(string method, string logged) =>
        Assert.Equal(logged, RequestLoggingMiddleware.LoggedMethod(method));

    [Theory]
    [InlineData("/v1/x\r\n16:00:00 ERR FORGED", "/v1/x%0D%0A16:00:00 ERR FORGED")]
    [InlineData("/v1/\u001b[2Jx", "/v1/%1B[2Jx")]
    [InlineData("/v1/a\u007fb\u0085c", "/v1/a%7Fb%C2%85c")]
    [InlineData("/v1/\u2028\u2029", "/v1/%E2%80%A8%E2%80%A9")]
    [InlineData("/v1/abc\u202Egpj.exe", "/v1/abc%E2%80%AEgpj.exe")]
    [InlineData("/v1/\u2066\u2069", "/v1/%E2%81%A6%E2%81%A9")]
    [InlineData("/v1/\t\0", "/v1/%09%00")]
    public void ControlAndLineSeparatingCharacters_AreLoggedPercentEncoded(string path, string logged) =>
        Assert.Equal(logged, RequestLoggingMiddleware.LoggedPath(path));

    [Theory]
    [InlineData("/v1/joueur-é")]
    [InlineData("/v1/\u00a0space")]
    [InlineData("/v1/\u202Fnarrow")]
    public void OtherTextOutsideAscii_IsLoggedAsItIs(string path) => Assert.Equal(path, RequestLoggingMiddleware.LoggedPath(path));
}
