using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace EntitlementGateway.Emulator.Endpoints;

/// <summary>
/// Checks a federated client assertion (workload identity) the way Entra ID does for a registered federated credential:
/// a JWT from the registered issuer, signed with its key, for the registered subject and audience, not expired.
/// </summary>
internal static class FederatedAssertion
{
    /// <summary>The assertion's <c>iss</c>, or null when it cannot be read.</summary>
    public static string? Issuer(string assertion)
    {
        try { return Claims(assertion)?["iss"]?.GetValue<string>(); }
        catch (Exception ex) when (ex is FormatException or JsonException or InvalidOperationException or ArgumentException) { return null; }
    }

    /// <summary>Null when valid, else why not; <paramref name="id"/> is its <c>jti</c> (or a hash) when valid.</summary>
    public static string? Verify(string assertionType, string assertion, EmulatorOptions options, DateTimeOffset now, out string? id)
    {
        id = null;
        if (assertionType != ClientAssertion.JwtBearerType) return "client_assertion_type must be " + ClientAssertion.JwtBearerType + ".";
        var parts = assertion.Split('.');
        if (parts.Length != 3) return "the assertion is not a JWT.";
        try
        {
            var header = JsonNode.Parse(Base64Url.DecodeFromChars(parts[0]))!.AsObject();
            var claims = Claims(assertion)!;
            if (header["alg"]?.GetValue<string>() != "RS256") return "alg must be RS256.";
            using var rsa = RSA.Create();
            rsa.ImportFromPem(options.FederatedIssuerKeyPem);
            if (!rsa.VerifyData(Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]), Base64Url.DecodeFromChars(parts[2]), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1))
                return "the signature is not the registered issuer's.";
            if (claims["iss"]?.GetValue<string>() != options.FederatedIssuer) return "iss is not the registered issuer.";
            if (claims["sub"]?.GetValue<string>() != options.FederatedSubject) return "sub is not the registered subject.";
            var audiences = claims["aud"] is JsonArray list ? list.Select(a => a?.GetValue<string>()) : [claims["aud"]?.GetValue<string>()];
            if (!audiences.Contains(options.FederatedAudience)) return "aud must include " + options.FederatedAudience + ".";
            if (claims["exp"]?.GetValueKind() != JsonValueKind.Number || DateTimeOffset.FromUnixTimeSeconds(claims["exp"]!.GetValue<long>()) <= now)
                return "the assertion has expired.";
            id = claims["jti"]?.GetValue<string>() ?? Convert.ToHexStringLower(SHA256.HashData(Encoding.ASCII.GetBytes(assertion)))[..16];
            return null;
        }
        catch (Exception ex) when (ex is FormatException or JsonException or CryptographicException or InvalidOperationException or ArgumentException)
        {
            return "the assertion could not be read.";
        }
    }

    private static JsonObject? Claims(string assertion)
    {
        var parts = assertion.Split('.');
        return parts.Length == 3 ? JsonNode.Parse(Base64Url.DecodeFromChars(parts[1]))!.AsObject() : null;
    }
}
