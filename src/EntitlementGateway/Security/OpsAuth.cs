using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace EntitlementGateway.Security;

public enum SwaggerAccess { Public, Protected, Off }

/// <summary>The operations surface (section <c>Ops</c>): <c>/ops/*</c>, and who may read the API description.</summary>
public sealed class OpsOptions
{
    public const string Section = "Ops";
    public const string Policy = "Ops";
    public const string JwtScheme = "OpsJwt";
    public const string ApiKeyScheme = "OpsApiKey";
    public const string ApiKeyHeader = "X-Api-Key";

    /// <summary>
    /// Maps the <c>/ops</c> endpoints, which always require Ops:ApiKey or an Entra ID token with Ops:RequiredRole. Unset:
    /// on exactly when one of those credentials is configured (setting the key is how a deployment asks for the console).
    /// </summary>
    public bool? Enabled { get; set; }
    /// <summary>A shared key for small deployments, sent as <c>X-Api-Key</c>. At least 32 characters.</summary>
    public string? ApiKey { get; set; }
    /// <summary>Entra ID authority for operator tokens, e.g. https://login.microsoftonline.com/{tenant}/v2.0.</summary>
    public string? Authority { get; set; }
    public string? Issuer { get; set; }
    public string? Audience { get; set; }
    /// <summary>A PEM public key to validate operator tokens with, instead of discovery from Ops:Authority.</summary>
    public string? SigningKeyPem { get; set; }
    public bool RequireHttpsMetadata { get; set; } = true;
    public string RequiredRole { get; set; } = "EntitlementGateway.Ops";
    /// <summary>Public, Protected (same check as /ops) or Off. Default: Public outside Production, Protected in Production.</summary>
    public SwaggerAccess? Swagger { get; set; }

    public bool HasApiKey => !string.IsNullOrWhiteSpace(ApiKey);
    public bool HasJwt => !string.IsNullOrWhiteSpace(Authority) || !string.IsNullOrWhiteSpace(SigningKeyPem);
    public bool HasAuthentication => HasApiKey || HasJwt;

    /// <summary>Whether <c>/ops</c> is served: <see cref="Enabled"/> when set, otherwise whether a credential is configured.</summary>
    public bool IsEnabled => Enabled ?? HasAuthentication;
}

public sealed class OpsOptionsValidator : IValidateOptions<OpsOptions>
{
    public ValidateOptionsResult Validate(string? name, OpsOptions o)
    {
        var errors = new List<string>();
        if (o.Enabled == true && !o.HasAuthentication)
            errors.Add("Ops:Enabled is true but none of Ops:ApiKey, Ops:Authority or Ops:SigningKeyPem is set; /ops is never served unauthenticated.");
        if (o.Swagger == SwaggerAccess.Protected && !o.HasAuthentication)
            errors.Add("Ops:Swagger is Protected but none of Ops:ApiKey, Ops:Authority or Ops:SigningKeyPem is set.");
        if (!string.IsNullOrEmpty(o.ApiKey) && o.ApiKey.Length < 32)
            errors.Add("Ops:ApiKey must be at least 32 characters.");
        if (o.HasJwt && string.IsNullOrWhiteSpace(o.Audience))
            errors.Add("Ops:Audience is required with Ops:Authority or Ops:SigningKeyPem.");
        if (!string.IsNullOrWhiteSpace(o.SigningKeyPem) && string.IsNullOrWhiteSpace(o.Authority) && string.IsNullOrWhiteSpace(o.Issuer))
            errors.Add("Ops:Issuer is required with Ops:SigningKeyPem.");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}

/// <summary>Authenticates <c>X-Api-Key</c> against Ops:ApiKey in constant time; the principal gets the ops role.</summary>
public sealed class OpsApiKeyHandler(IOptionsMonitor<AuthenticationSchemeOptions> schemes, ILoggerFactory logger, UrlEncoder encoder, IOptions<OpsOptions> ops)
    : AuthenticationHandler<AuthenticationSchemeOptions>(schemes, logger, encoder)
{
    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var expected = ops.Value.ApiKey;
        if (string.IsNullOrEmpty(expected) || !Request.Headers.TryGetValue(OpsOptions.ApiKeyHeader, out var given))
            return Task.FromResult(AuthenticateResult.NoResult());
        if (!CryptographicOperations.FixedTimeEquals(Hash(given.ToString()), Hash(expected)))
            return Task.FromResult(AuthenticateResult.Fail("The API key is not valid."));

        var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, "ops-api-key"), new Claim("roles", ops.Value.RequiredRole)], Scheme.Name, ClaimTypes.Name, "roles");
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), Scheme.Name)));
    }

    private static byte[] Hash(string value) => SHA256.HashData(Encoding.UTF8.GetBytes(value));
}
