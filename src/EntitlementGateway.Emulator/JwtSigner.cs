using System.Buffers.Text;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace EntitlementGateway.Emulator;

/// <summary>
/// Hand-rolled RS256 JWTs (no IdentityModel dependency: the emulator uses the shared framework only).
/// One key signs both access tokens and UCIDs, like one Store signing authority would.
/// </summary>
internal sealed class JwtSigner : IDisposable
{
    private readonly RSA _rsa;

    public JwtSigner()
    {
        _rsa = RSA.Create(2048);
        // A certificate around the key gives a genuine x5t (SHA-1 thumbprint), as in real Store/Entra headers.
        var request = new CertificateRequest("CN=EntitlementGateway Store Emulator signing", _rsa,
            HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var cert = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(5));
        X5t = Base64Url.EncodeToString(cert.GetCertHash());
        KeyId = X5t; // Entra uses the thumbprint as kid too.
        PublicCertificateDer = cert.RawData;
    }

    public string KeyId { get; }

    public string X5t { get; }

    public byte[] PublicCertificateDer { get; }

    public string Sign(JsonObject claims)
    {
        var header = new JsonObject { ["alg"] = "RS256", ["typ"] = "JWT", ["kid"] = KeyId, ["x5t"] = X5t };
        var signingInput = Encode(header) + "." + Encode(claims);
        var signature = _rsa.SignData(Encoding.ASCII.GetBytes(signingInput), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return signingInput + "." + Base64Url.EncodeToString(signature);
    }

    /// <summary>Checks shape, algorithm and signature; returns the claims, or null with a reason.</summary>
    public JsonObject? Verify(string? token, out string error)
    {
        error = "";
        var parts = token?.Split('.');
        if (parts is not { Length: 3 })
        {
            error = "The token is not a JWS compact serialization.";
            return null;
        }
        try
        {
            var header = JsonNode.Parse(Base64Url.DecodeFromChars(parts[0])) as JsonObject;
            if (header?["alg"]?.GetValue<string>() != "RS256")
            {
                error = "The token is not signed with RS256.";
                return null;
            }
            var signature = Base64Url.DecodeFromChars(parts[2]);
            var signed = Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]);
            if (!_rsa.VerifyData(signed, signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1))
            {
                error = "The token signature is invalid.";
                return null;
            }
            // Count builds the object's dictionary now, so a claim named twice is refused here, not later by a reader.
            if (JsonNode.Parse(Base64Url.DecodeFromChars(parts[1])) is JsonObject claims && claims.Count >= 0) return claims;
            error = "The token payload is not a JSON object.";
            return null;
        }
        // ArgumentException: a JSON object that names a member twice (a header that says alg twice is not one token).
        catch (Exception ex) when (ex is FormatException or JsonException or InvalidOperationException or CryptographicException or ArgumentException)
        {
            error = "The token is malformed.";
            return null;
        }
    }

    /// <summary>The public key as a JWK, for the discovery document's jwks_uri.</summary>
    public JsonObject PublicJwk()
    {
        var p = _rsa.ExportParameters(includePrivateParameters: false);
        return new JsonObject
        {
            ["kty"] = "RSA",
            ["use"] = "sig",
            ["alg"] = "RS256",
            ["kid"] = KeyId,
            ["x5t"] = X5t,
            ["n"] = Base64Url.EncodeToString(p.Modulus),
            ["e"] = Base64Url.EncodeToString(p.Exponent),
            ["x5c"] = new JsonArray(Convert.ToBase64String(PublicCertificateDer)),
        };
    }

    public void Dispose() => _rsa.Dispose();

    private static string Encode(JsonObject json) =>
        Base64Url.EncodeToString(Encoding.UTF8.GetBytes(json.ToJsonString()));
}

/// <summary>Reading and checking claims of a verified token.</summary>
internal static class Claims
{
    public static string? String(JsonObject claims, string name) =>
        claims[name] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    public static long? Seconds(JsonObject claims, string name) =>
        claims[name] is JsonValue v && v.TryGetValue<long>(out var n) ? n : null;

    /// <summary>The lifetime check: exp required and in the future, nbf (if any) not in the future. No skew: the emulator is strict.</summary>
    public static string? CheckLifetime(JsonObject claims, DateTimeOffset now)
    {
        var nowSeconds = now.ToUnixTimeSeconds();
        if (Seconds(claims, "exp") is not { } exp) return "The token has no exp claim.";
        if (nowSeconds >= exp) return "The token is expired.";
        if (Seconds(claims, "nbf") is { } nbf && nowSeconds < nbf) return "The token is not valid yet (nbf).";
        return null;
    }
}
