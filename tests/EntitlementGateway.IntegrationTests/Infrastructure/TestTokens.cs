using System.Security.Claims;
using System.Security.Cryptography;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace EntitlementGateway.IntegrationTests.Infrastructure;

/// <summary>A stand-in identity provider: an RSA key whose public half the gateway is configured with, signing real JWTs.</summary>
public sealed class TestTokens : IDisposable
{
    private readonly RSA _rsa = RSA.Create(2048);

    public const string Issuer = "https://idp.test.example";

    public string PublicKeyPem => _rsa.ExportSubjectPublicKeyInfoPem();

    public string Create(string audience, IDictionary<string, object> claims, TimeSpan? lifetime = null, DateTime? notBefore = null)
    {
        var now = DateTime.UtcNow;
        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = Issuer,
            Audience = audience,
            NotBefore = notBefore ?? now.AddMinutes(-5),
            IssuedAt = (notBefore ?? now.AddMinutes(-5)),
            Expires = now + (lifetime ?? TimeSpan.FromMinutes(30)),
            Claims = claims,
            SigningCredentials = new SigningCredentials(new RsaSecurityKey(_rsa), SecurityAlgorithms.RsaSha256),
        };
        return new JsonWebTokenHandler().CreateToken(descriptor);
    }

    public void Dispose() => _rsa.Dispose();
}
