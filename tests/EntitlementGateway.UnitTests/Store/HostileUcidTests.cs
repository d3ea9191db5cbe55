using System.Buffers.Text;
using System.Text;
using System.Text.Json.Nodes;
using EntitlementGateway.Store;
using EntitlementGateway.UnitTests.Infrastructure;
using Microsoft.Extensions.Options;

namespace EntitlementGateway.UnitTests.Store;

/// <summary>UCIDs a modified client can send: each is refused as Invalid with a reason naming what is wrong, never an exception.</summary>
public class HostileUcidTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 22, 12, 0, 0, TimeSpan.Zero);
    private readonly UcidValidator _validator = new(
        new LiveStoreLocator(Options.Create(new StoreOptions { ClientId = TestUcid.ClientId, ClientSecret = "s", TenantId = "t" })),
        new ManualTimeProvider(Now));

    private static JsonObject ValidClaims() => JsonNode.Parse(Encoding.UTF8.GetString(
        Base64Url.DecodeFromChars(TestUcid.Create(Now).Split('.')[1])))!.AsObject();

    private static string WithClaim(string name, string rawJsonValue)
    {
        var claims = ValidClaims();
        claims.Remove(name);
        var json = claims.ToJsonString();
        json = json[..^1] + $",\"{name}\":{rawJsonValue}}}";
        return WithPayload(Encoding.UTF8.GetBytes(json));
    }

    private static string WithPayload(byte[] payload)
    {
        var parts = TestUcid.Create(Now).Split('.');
        return $"{parts[0]}.{Base64Url.EncodeToString(payload)}.{parts[2]}";
    }

    [Theory]
    [InlineData("exp", "99999999999999", "'exp'")]
    [InlineData("exp", "-99999999999999", "'exp'")]
    [InlineData("exp", "253402300800", "'exp'")]
    [InlineData("exp", "1e300", "'exp'")]
    [InlineData("exp", "1893456000.5", "'exp'")]
    [InlineData("exp", "\"1893456000\"", "'exp'")]
    [InlineData("exp", "[1893456000]", "'exp'")]
    [InlineData("exp", "null", "'exp'")]
    [InlineData("exp", "true", "'exp'")]
    [InlineData("nbf", "99999999999999999999999", "'nbf'")]
    [InlineData("nbf", "{}", "'nbf'")]
    [InlineData("aud", "42", "'aud'")]
    [InlineData("aud", "[\"https://collections.mp.microsoft.com/v6.0/keys\", 1]", "'aud'")]
    [InlineData("http://schemas.microsoft.com/marketplace/2015/08/claims/key/userId", "12345", "'userId'")]
    [InlineData("http://schemas.microsoft.com/marketplace/2015/08/claims/key/userId", "[\"a\"]", "'userId'")]
    [InlineData("http://schemas.microsoft.com/marketplace/2015/08/claims/key/userId", "\"\\ud800\"", "'userId'")]
    [InlineData("http://schemas.microsoft.com/marketplace/2015/08/claims/key/clientId", "{\"a\":1}", "'clientId'")]
    [InlineData("http://schemas.microsoft.com/marketplace/2015/08/claims/key/refreshUri", "false", "'refreshUri'")]
    public void Validate_AClaimOfTheWrongTypeOrRange_IsInvalidAndNamesTheClaim(string claim, string rawValue, string named)
    {
        var problem = _validator.Validate(WithClaim(claim, rawValue), out _, out var detail);

        Assert.Equal(UcidProblem.Invalid, problem);
        Assert.Contains(named, detail);
    }

    [Theory]
    [InlineData("userId", "\"\\ud800\"", "userCollectionsId claim 'userId' is not valid Unicode text.")]
    [InlineData("clientId", "\"a\\udc00\"", "userCollectionsId claim 'clientId' is not valid Unicode text.")]
    [InlineData("userId", "7", "userCollectionsId claim 'userId' must be a string.")]
    public void Validate_AStringClaimThatIsNotUnicodeText_SaysSo_NotThatItIsNoString(string claim, string rawValue, string expected)
    {
        var problem = _validator.Validate(WithClaim("http://schemas.microsoft.com/marketplace/2015/08/claims/key/" + claim, rawValue), out _, out var detail);

        Assert.Equal(UcidProblem.Invalid, problem);
        Assert.Equal(expected, detail);
    }

    [Fact]
    public void Validate_TheLargestAndSmallestRepresentableExp_AreJudgedNotThrown()
    {
        Assert.Equal(UcidProblem.None, _validator.Validate(WithClaim("exp", "253402300799"), out var ucid, out _));
        Assert.Equal(DateTimeOffset.MaxValue.ToUnixTimeSeconds(), ucid!.Expires!.Value.ToUnixTimeSeconds());
        Assert.Equal(UcidProblem.Expired, _validator.Validate(WithClaim("exp", "0"), out _, out _));
    }

    [Fact]
    public void Validate_ADuplicatedClaim_IsInvalid()
    {
        // The Store might read the other copy: an ambiguous token is refused.
        var json = ValidClaims().ToJsonString()[..^1] + $",\"{UserCollectionsId.UserIdClaim}\":\"victim\"}}";
        Assert.Equal(UcidProblem.Invalid, _validator.Validate(WithPayload(Encoding.UTF8.GetBytes(json)), out _, out var detail));
        Assert.Contains("twice", detail);
    }

    [Fact]
    public void Validate_NonUtf8Payload_IsInvalid()
    {
        var json = Encoding.UTF8.GetBytes(ValidClaims().ToJsonString());
        var bad = json.Take(json.Length - 2).Concat(new byte[] { (byte)'"', 0xC3, 0x28, (byte)'"', (byte)'}' }).ToArray();
        Assert.Equal(UcidProblem.Invalid, _validator.Validate(WithPayload(bad), out _, out var detail));
        Assert.Contains("UTF-8", detail);
    }

    [Fact]
    public void Validate_DeeplyNestedPayload_IsInvalid()
    {
        var nested = string.Concat(Enumerable.Repeat("[", 500)) + string.Concat(Enumerable.Repeat("]", 500));
        Assert.Equal(UcidProblem.Invalid, _validator.Validate(WithClaim("x", nested), out _, out _));
    }

    [Theory]
    [InlineData("=")]
    [InlineData("==")]
    [InlineData("+")]
    [InlineData(" ")]
    [InlineData("/")]
    [InlineData("@")]
    [InlineData("[")]
    [InlineData("`")]
    [InlineData("{")]
    [InlineData(":")]
    [InlineData("\u00E9")]
    public void Validate_PaddingOrNonBase64UrlCharacters_AreInvalid(string suffix)
    {
        var parts = TestUcid.Create(Now).Split('.');
        var value = $"{parts[0]}.{parts[1]}{System.Text.RegularExpressions.Regex.Unescape(suffix)}.{parts[2]}";
        Assert.Equal(UcidProblem.Invalid, _validator.Validate(value, out _, out var detail));
        Assert.Contains("base64url", detail);
    }

    [Theory]
    [InlineData("+", false)]
    [InlineData("/", false)]
    [InlineData("=", false)]
    [InlineData("@", false)]
    [InlineData("[", false)]
    [InlineData("`", false)]
    [InlineData("{", false)]
    [InlineData(":", false)]
    [InlineData("\u00E9", false)]
    [InlineData("-", true)]
    [InlineData("_", true)]
    [InlineData("A", true)]
    [InlineData("z", true)]
    [InlineData("9", true)]
    public void Validate_OneSignatureCharacterReplaced_OnlyBase64UrlCharactersPass(string replacement, bool valid)
    {
        // Same length, so only the alphabet decides (the signature is the Store's to check, not ours).
        var parts = TestUcid.Create(Now).Split('.');
        var signature = parts[2][..^2] + System.Text.RegularExpressions.Regex.Unescape(replacement) + parts[2][^1..];
        var problem = _validator.Validate($"{parts[0]}.{parts[1]}.{signature}", out _, out var detail);
        Assert.Equal(valid ? UcidProblem.None : UcidProblem.Invalid, problem);
        if (!valid) Assert.Contains("part 3 is not unpadded base64url", detail);
    }

    [Fact]
    public void Validate_APayloadOneCharacterTooLong_IsInvalid()
    {
        var parts = TestUcid.Create(Now).Split('.');
        var payload = parts[1].Length % 4 == 0 ? parts[1] + "A" : parts[1] + new string('A', 5 - parts[1].Length % 4);
        Assert.Equal(UcidProblem.Invalid, _validator.Validate($"{parts[0]}.{payload}.{parts[2]}", out _, out _));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    public void Validate_APartWhoseLengthNoUnpaddedBase64UrlHas_NamesThatPart(int index)
    {
        // Unpadded base64url never leaves one character over: a length of 4n + 1 is an altered token, even in the
        // signature, which the gateway does not decode.
        var parts = TestUcid.Create(Now).Split('.');
        while (parts[index].Length % 4 != 1) parts[index] += "A";

        Assert.Equal(UcidProblem.Invalid, _validator.Validate(string.Join('.', parts), out _, out var detail));
        Assert.Equal($"userCollectionsId part {index + 1} is not unpadded base64url.", detail);
    }

    [Fact]
    public void Validate_APayloadWithBitsPastItsLastByte_IsNotBase64Url()
    {
        // Only base64url's characters, in a length it allows, but the last character carries bits past the payload's
        // last byte: no encoder writes that, and the decoder refuses it.
        var json = ValidClaims().ToJsonString();
        while (Encoding.UTF8.GetByteCount(json) % 3 != 0) json += " ";
        var parts = TestUcid.Create(Now).Split('.');
        var payload = Base64Url.EncodeToString(Encoding.UTF8.GetBytes(json)) + "AB";

        Assert.Equal(UcidProblem.Invalid, _validator.Validate($"{parts[0]}.{payload}.{parts[2]}", out _, out var detail));
        Assert.Equal("userCollectionsId payload is not base64url.", detail);
    }

    [Fact]
    public void Validate_TwoWrongClaims_NamesTheFirstOneRead()
    {
        var claims = ValidClaims();
        claims[UserCollectionsId.UserIdClaim] = 42;
        claims["exp"] = "tomorrow";

        Assert.Equal(UcidProblem.Invalid, _validator.Validate(WithPayload(Encoding.UTF8.GetBytes(claims.ToJsonString())), out _, out var detail));
        Assert.Equal("userCollectionsId claim 'userId' must be a string.", detail);
    }

    [Fact]
    public void Validate_AnAudienceArrayHoldingTheCollectionsAudience_IsAccepted()
    {
        var value = WithClaim("aud", "[\"https://other.example\", \"https://collections.mp.microsoft.com/v6.0/keys\"]");
        Assert.Equal(UcidProblem.None, _validator.Validate(value, out _, out _));
        Assert.Equal(UcidProblem.Invalid, _validator.Validate(WithClaim("aud", "[]"), out _, out _));
    }
}
