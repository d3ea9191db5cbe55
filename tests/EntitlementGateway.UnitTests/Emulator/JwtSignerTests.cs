using System.Buffers.Text;
using System.Text;
using System.Text.Json.Nodes;
using EntitlementGateway.Emulator;

namespace EntitlementGateway.UnitTests.Emulator;

/// <summary>The emulator checks tokens as a Store would: anything malformed is a refusal with a reason, never an exception.</summary>
public sealed class JwtSignerTests : IDisposable
{
    private readonly JwtSigner _signer = new();

    public void Dispose() => _signer.Dispose();

    private static string Part(string json) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(json));

    [Fact]
    public void Verify_ItsOwnToken_GivesTheClaims()
    {
        var claims = _signer.Verify(_signer.Sign(new JsonObject { ["sub"] = "player-1" }), out var error);

        Assert.Equal("", error);
        Assert.Equal("player-1", claims!["sub"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("""{"alg":"RS256","typ":"JWT","alg":"none"}""")]
    [InlineData("""{"alg":"RS256","alg":"RS256"}""")]
    public void Verify_AHeaderThatNamesAMemberTwice_IsMalformed_NotAnException(string header)
    {
        var parts = _signer.Sign(new JsonObject { ["sub"] = "player-1" }).Split('.');

        var claims = _signer.Verify($"{Part(header)}.{parts[1]}.{parts[2]}", out var error);

        Assert.Null(claims);
        Assert.Equal("The token is malformed.", error);
    }

    [Fact]
    public void Verify_ASignedPayloadThatNamesAClaimTwice_IsMalformed_NotAnException()
    {
        // Signed by the emulator's own key: only the duplicate claim is wrong.
        var token = _signer.Sign(new JsonObject { ["sub"] = "player-1" });
        var header = token.Split('.')[0];
        var forgedPayload = Part("""{"sub":"player-1","sub":"someone-else"}""");
        var resigned = SignRaw(header + "." + forgedPayload);

        var claims = _signer.Verify(resigned, out var error);

        Assert.Null(claims);
        Assert.Equal("The token is malformed.", error);
    }

    private string SignRaw(string signingInput)
    {
        // The signer signs JSON objects only; sign the raw input with the same key through a round trip of Sign's output.
        var field = typeof(JwtSigner).GetField("_rsa", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!;
        var rsa = (System.Security.Cryptography.RSA)field.GetValue(_signer)!;
        var signature = rsa.SignData(Encoding.ASCII.GetBytes(signingInput), System.Security.Cryptography.HashAlgorithmName.SHA256,
            System.Security.Cryptography.RSASignaturePadding.Pkcs1);
        return signingInput + "." + Base64Url.EncodeToString(signature);
    }
}
