using System.Buffers.Text;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace EntitlementGateway.Emulator.Endpoints;

/// <summary>Checks a certificate client assertion (RFC 7523 private_key_jwt) the way Entra ID does for a registered certificate.</summary>
internal static class ClientAssertion
{
    public const string JwtBearerType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

    /// <summary>Null when valid, else why not.</summary>
    public static string? Verify(string assertionType, string assertion, string? registeredCertificatePem, string clientId, DateTimeOffset now)
    {
        if (assertionType != JwtBearerType) return "client_assertion_type must be " + JwtBearerType + ".";
        if (string.IsNullOrEmpty(registeredCertificatePem)) return "no certificate is registered for this application.";
        var parts = assertion.Split('.');
        if (parts.Length != 3) return "the assertion is not a JWT.";
        try
        {
            using var certificate = X509Certificate2.CreateFromPem(registeredCertificatePem);
            var header = JsonNode.Parse(Base64Url.DecodeFromChars(parts[0]))!.AsObject();
            var claims = JsonNode.Parse(Base64Url.DecodeFromChars(parts[1]))!.AsObject();

            var x5t = header["x5t"]?.GetValue<string>();
            var x5tS256 = header["x5t#S256"]?.GetValue<string>();
            if (x5t != Base64Url.EncodeToString(certificate.GetCertHash()) &&
                x5tS256 != Base64Url.EncodeToString(certificate.GetCertHash(HashAlgorithmName.SHA256)))
                return "the assertion was not signed with the registered certificate (x5t).";

            var padding = header["alg"]?.GetValue<string>() switch
            {
                "RS256" => RSASignaturePadding.Pkcs1,
                "PS256" => RSASignaturePadding.Pss,
                _ => null,
            };
            if (padding is null) return "alg must be RS256 or PS256.";
            using var rsa = certificate.GetRSAPublicKey();
            if (rsa is null || !rsa.VerifyData(Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]), Base64Url.DecodeFromChars(parts[2]), HashAlgorithmName.SHA256, padding))
                return "the signature is not valid.";

            if (claims["iss"]?.GetValue<string>() != clientId || claims["sub"]?.GetValue<string>() != clientId)
                return "iss and sub must be the client id.";
            if (claims["aud"]?.GetValue<string>() is not { } aud || !aud.EndsWith("/oauth2/v2.0/token", StringComparison.Ordinal))
                return "aud must be the token endpoint.";
            if (Seconds(claims["exp"]) is not { } exp || DateTimeOffset.FromUnixTimeSeconds(exp) <= now)
                return "the assertion has expired.";
            return null;
        }
        catch (Exception ex) when (ex is FormatException or JsonException or CryptographicException or InvalidOperationException or ArgumentException)
        {
            return "the assertion could not be read.";
        }
    }

    // MSAL writes exp and nbf as JSON strings; RFC 7519 says numbers. Accept both, as Entra ID does.
    private static long? Seconds(JsonNode? node) => node?.GetValueKind() switch
    {
        JsonValueKind.Number => node.GetValue<long>(),
        JsonValueKind.String when long.TryParse(node.GetValue<string>(), out var s) => s,
        _ => null,
    };
}
