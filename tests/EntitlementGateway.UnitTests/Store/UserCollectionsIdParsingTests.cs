using System.Buffers.Text;
using System.Text;
using System.Text.Json.Nodes;
using EntitlementGateway.Store;
using EntitlementGateway.UnitTests.Infrastructure;

namespace EntitlementGateway.UnitTests.Store;

/// <summary>How the UCID's claims are read: its size limit, its shape, claims of the wrong JSON type, and aud as an array.</summary>
public class UserCollectionsIdParsingTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 22, 12, 0, 0, TimeSpan.Zero);

    private static string Encode(string text) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(text));

    /// <summary>A UCID-shaped JWT of exactly <paramref name="length"/> characters (the signature part pads it).</summary>
    private static string UcidOfLength(int length)
    {
        var head = TestUcid.Create(Now);
        head = head[..(head.LastIndexOf('.') + 1)];
        return head + new string('s', length - head.Length);
    }

    private static JsonObject Claims(JsonNode? aud) => new()
    {
        ["aud"] = aud,
        [UserCollectionsId.ClientIdClaim] = TestUcid.ClientId,
        [UserCollectionsId.UserIdClaim] = "player-1",
        ["exp"] = Now.AddDays(1).ToUnixTimeSeconds(),
    };

    [Fact]
    public void TryParse_AUcidOfExactly8KiB_IsParsed()
    {
        var value = UcidOfLength(UserCollectionsId.MaxLength);

        var ucid = UserCollectionsId.TryParse(value, out var error);

        Assert.Equal(8 * 1024, value.Length);
        Assert.NotNull(ucid);
        Assert.Null(error);
        Assert.Equal("player-1", ucid.UserId);
    }

    [Fact]
    public void TryParse_AUcidOneCharacterOver8KiB_IsRefusedNamingTheLimit()
    {
        var ucid = UserCollectionsId.TryParse(UcidOfLength(UserCollectionsId.MaxLength + 1), out var error);

        Assert.Null(ucid);
        Assert.Contains("longer than 8192 characters", error);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    public void TryParse_AnyEmptyPart_IsNotAJwt(int emptyPart)
    {
        var parts = TestUcid.Create(Now).Split('.');
        parts[emptyPart] = "";

        var ucid = UserCollectionsId.TryParse(string.Join('.', parts), out var error);

        Assert.Null(ucid);
        Assert.Contains("three dot-separated parts", error);
    }

    [Theory]
    [InlineData("[1,2]")]
    [InlineData("\"text\"")]
    [InlineData("42")]
    public void TryParse_APayloadThatIsNotAnObject_IsRefusedAndSaysSo(string payload)
    {
        var ucid = UserCollectionsId.TryParse($"{Encode(SignedHeader)}.{Encode(payload)}.{Encode("sig")}", out var error);

        Assert.Null(ucid);
        Assert.Contains("payload is not a JSON object", error);
    }

    private const string SignedHeader = """{"alg":"RS256","kid":"k"}""";

    // The header is the client's bytes too: one the Store never writes is refused before it costs budget.
    [Theory]
    [InlineData("[1,2]", "header is not a JSON object")]
    [InlineData("42", "header is not a JSON object")]
    [InlineData("{\"alg\":\"RS256\"", "header is not a JSON object")]
    [InlineData("{\"alg\":\"RS256\",\"alg\":\"none\"}", "header is not a JSON object")]
    [InlineData("{}", "must name the algorithm")]
    [InlineData("{\"alg\":\"none\"}", "must name the algorithm")]
    [InlineData("{\"alg\":\"NONE\"}", "must name the algorithm")]
    [InlineData("{\"alg\":\"\"}", "must name the algorithm")]
    [InlineData("{\"alg\":7}", "must name the algorithm")]
    [InlineData("{\"alg\":null}", "must name the algorithm")]
    [InlineData("{\"typ\":\"JWT\"}", "must name the algorithm")]
    [InlineData("{\"alg\":\"\\ud800\"}", "header is not a JSON object")]
    public void TryParse_AHeaderTheStoreNeverWrites_IsRefusedNamingTheHeader(string header, string message)
    {
        var ucid = UserCollectionsId.TryParse($"{Encode(header)}.{Encode(Payload)}.{Encode("sig")}", out var error);

        Assert.Null(ucid);
        Assert.Contains(message, error);
    }

    [Fact]
    public void TryParse_AHeaderThatIsNotUtf8_IsRefusedNamingTheHeader()
    {
        var header = Base64Url.EncodeToString([(byte)'{', 0xFF, 0xFE, (byte)'}']);

        var ucid = UserCollectionsId.TryParse($"{header}.{Encode(Payload)}.{Encode("sig")}", out var error);

        Assert.Null(ucid);
        Assert.Contains("header is not a JSON object", error);
    }

    [Theory]
    [InlineData("{\"alg\":\"RS256\"}")]
    [InlineData("{\"typ\":\"JWT\",\"alg\":\"RS512\",\"x5t\":\"abc\"}")]
    public void TryParse_AHeaderNamingASigningAlgorithm_IsRead(string header)
    {
        var ucid = UserCollectionsId.TryParse($"{Encode(header)}.{Encode(Payload)}.{Encode("sig")}", out var error);

        Assert.Null(error);
        Assert.Equal("player-1", ucid!.UserId);
    }

    private const string Payload = """{"http://schemas.microsoft.com/marketplace/2015/08/claims/key/userId":"player-1"}""";

    // A claim of the wrong JSON type is refused naming the claim: reading it as missing would let a client pick
    // which pre-checks apply (an exp written as a string would skip expiry).
    [Theory]
    [InlineData("aud", "7")]
    [InlineData("http://schemas.microsoft.com/marketplace/2015/08/claims/key/userId", "12345")]
    [InlineData("http://schemas.microsoft.com/marketplace/2015/08/claims/key/clientId", "true")]
    [InlineData("http://schemas.microsoft.com/marketplace/2015/08/claims/key/refreshUri", "{}")]
    [InlineData("exp", "\"1893456000\"")]
    [InlineData("nbf", "\"yesterday\"")]
    public void TryParse_AClaimOfTheWrongJsonType_IsRefusedNamingIt(string claim, string json)
    {
        var claims = new JsonObject { ["aud"] = UserCollectionsId.CollectionsAudience, ["exp"] = Now.AddDays(1).ToUnixTimeSeconds() };
        claims[claim] = JsonNode.Parse(json);

        var ucid = UserCollectionsId.TryParse(TestUcid.Jwt(claims), out var error);

        Assert.Null(ucid);
        Assert.Contains($"'{claim[(claim.LastIndexOf('/') + 1)..]}'", error); // key claims are named by their short name
    }

    [Fact]
    public void TryParse_ReadsEveryClaim()
    {
        var value = TestUcid.Create(Now);

        var ucid = UserCollectionsId.TryParse(value, out _)!;

        Assert.Equal(value, ucid.Value);
        Assert.Equal(TestUcid.ClientId, ucid.ClientId);
        Assert.Equal(UserCollectionsId.CollectionsAudience, ucid.Audience);
        Assert.Equal(Now, ucid.NotBefore);
        Assert.Equal(Now.AddDays(30), ucid.Expires);
        Assert.Equal("https://collections.mp.microsoft.com/v6.0/b2b/keys/renew", ucid.RefreshUri);
    }

    [Fact]
    public void TryParse_AudAsAnArrayHoldingTheCollectionsAudience_ReadsThatAudienceWhereverItStands()
    {
        var aud = new JsonArray("https://other.example/", UserCollectionsId.CollectionsAudience, "https://last.example/");

        var ucid = UserCollectionsId.TryParse(TestUcid.Jwt(Claims(aud)), out _);

        Assert.Equal(UserCollectionsId.CollectionsAudience, ucid!.Audience);
    }

    [Fact]
    public void TryParse_AudAsAnArrayWithoutTheCollectionsAudience_ReadsItsFirstEntry()
    {
        var aud = new JsonArray("https://other.example/", "https://second.example/");

        var ucid = UserCollectionsId.TryParse(TestUcid.Jwt(Claims(aud)), out _);

        Assert.Equal("https://other.example/", ucid!.Audience);
    }

    [Fact]
    public void TryParse_AudAsAnEmptyArray_HasNoCollectionsAudience()
    {
        var ucid = UserCollectionsId.TryParse(TestUcid.Jwt(Claims(new JsonArray())), out _);

        Assert.NotEqual(UserCollectionsId.CollectionsAudience, ucid?.Audience);
    }

    [Fact]
    public void TryParse_AudAsAnArrayHoldingANonString_IsRefusedNamingAud()
    {
        var ucid = UserCollectionsId.TryParse(TestUcid.Jwt(Claims(new JsonArray("https://other.example/", 3))), out var error);

        Assert.Null(ucid);
        Assert.Contains("'aud'", error);
    }
}
