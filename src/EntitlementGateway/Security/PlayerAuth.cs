using System.Security.Claims;
using System.Security.Cryptography;
using EntitlementGateway.Api;
using EntitlementGateway.Store;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;
using EntitlementGateway.Infrastructure.Http;

namespace EntitlementGateway.Security;

/// <summary>Player binding (section <c>PlayerAuth</c>): game clients authenticate with the game's own identity provider.</summary>
public sealed class PlayerAuthOptions
{
    public const string Section = "PlayerAuth";
    public const string Scheme = "Player";
    public const string Policy = "Player";

    public bool Enabled { get; set; }
    /// <summary>OpenID Connect authority of the game's identity provider (signing keys are discovered from it).</summary>
    public string? Authority { get; set; }
    public string? Issuer { get; set; }
    public string? Audience { get; set; }
    /// <summary>A PEM public key (RSA or EC) to validate player tokens with, instead of discovery.</summary>
    public string? SigningKeyPem { get; set; }
    /// <summary>The claim holding the player id; it must equal the UCID's userId (the game's publisherUserId).</summary>
    public string PlayerIdClaim { get; set; } = "sub";
    public bool RequireHttpsMetadata { get; set; } = true;

    /// <summary>
    /// The explicit opt-out from player binding: the game client is trusted to put the real player's id in the UCID's
    /// userId. A modified client can then spend another player's budget, or a fresh one per id. Production refuses
    /// to start unless this or <see cref="Enabled"/> is set.
    /// </summary>
    public bool TrustGameClient { get; set; }
}

public sealed class PlayerAuthOptionsValidator(IHostEnvironment environment) : IValidateOptions<PlayerAuthOptions>
{
    public const string DecisionRequired =
        "Production needs a decision on whose budget a UCID spends, because its userId claim is chosen by the game client: " +
        "set PlayerAuth:Enabled=true (with PlayerAuth:Authority or PlayerAuth:SigningKeyPem, and PlayerAuth:Audience) to bind every UCID " +
        "to a player signed in with the game's identity provider, or set PlayerAuth:TrustGameClient=true to accept that a modified " +
        "client can spend other players' budgets.";

    public ValidateOptionsResult Validate(string? name, PlayerAuthOptions o)
    {
        if (o.Enabled && o.TrustGameClient)
            return ValidateOptionsResult.Fail("PlayerAuth:Enabled and PlayerAuth:TrustGameClient are both true; choose one.");
        if (!o.Enabled)
            return environment.IsProduction() && !o.TrustGameClient ? ValidateOptionsResult.Fail(DecisionRequired) : ValidateOptionsResult.Success;
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(o.Authority) && string.IsNullOrWhiteSpace(o.SigningKeyPem))
            errors.Add("PlayerAuth:Authority or PlayerAuth:SigningKeyPem is required when PlayerAuth:Enabled is true.");
        if (string.IsNullOrWhiteSpace(o.Audience)) errors.Add("PlayerAuth:Audience is required when PlayerAuth:Enabled is true.");
        if (string.IsNullOrWhiteSpace(o.Authority) && string.IsNullOrWhiteSpace(o.Issuer))
            errors.Add("PlayerAuth:Issuer is required with PlayerAuth:SigningKeyPem.");
        if (string.IsNullOrWhiteSpace(o.PlayerIdClaim)) errors.Add("PlayerAuth:PlayerIdClaim must name a claim.");
        if (environment.IsProduction() && IsPlaceholder(o.Authority))
            errors.Add($"PlayerAuth:Authority ({o.Authority}) is a placeholder (a reserved example name): set your game's identity provider's OpenID Connect authority.");
        if (!string.IsNullOrWhiteSpace(o.SigningKeyPem))
        {
            try { SecurityKeys.FromPem(o.SigningKeyPem); }
            catch (Exception ex) when (ex is ArgumentException or CryptographicException) { errors.Add("PlayerAuth:SigningKeyPem is not a PEM RSA or EC public key."); }
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    /// <summary>A host under a name reserved for examples (the .example, .invalid and .test domains, example.com/.net/.org):
    /// what a manifest ships until it is replaced, and never a real identity provider.</summary>
    internal static bool IsPlaceholder(string? authority)
    {
        if (!Uri.TryCreate(authority, UriKind.Absolute, out var uri)) return false;
        var host = uri.Host.TrimEnd('.');
        string[] reserved = [".example", ".invalid", ".test", "example.com", "example.net", "example.org"];
        return reserved.Any(r => host.EndsWith(r, StringComparison.OrdinalIgnoreCase) &&
            (r[0] == '.' || host.Length == r.Length || host[^(r.Length + 1)] == '.'));
    }
}

/// <summary>
/// Ties a UCID to the authenticated player when player binding is on: the UCID's userId is client-controlled,
/// so the budget key becomes the player id from a token the game's identity provider signed.
/// </summary>
public sealed class PlayerBinding(IOptions<PlayerAuthOptions> options)
{
    public bool Enabled => options.Value.Enabled;

    // Never read: every member below looks at the user only while binding is on.
    private static readonly ClaimsPrincipal Unbound = new();

    /// <summary>
    /// The request's user for the checks below; while binding is off, one shared stand-in, since asking a request for its
    /// user makes an empty principal (and its identity and lists) on every request that no scheme authenticated.
    /// </summary>
    public ClaimsPrincipal UserOf(HttpContext http)
    {
        ArgumentNullException.ThrowIfNull(http);
        return Enabled ? http.User : Unbound;
    }

    public string? PlayerId(ClaimsPrincipal user) => user.FindFirst(options.Value.PlayerIdClaim)?.Value;

    /// <summary>A 403 when the UCID belongs to another player than the token's; null when all is well.</summary>
    public ProblemHttpResult? Check(ClaimsPrincipal user, UserCollectionsId ucid)
    {
        if (NoPlayer(user) is { } noPlayer) return noPlayer;
        return !Enabled || string.Equals(PlayerId(user), ucid.UserId, StringComparison.Ordinal)
            ? null
            : GatewayProblems.Create(403, GatewayProblems.PlayerMismatch, "The UserCollectionsId belongs to another player.",
                "The UCID's userId claim is not the authenticated player's id; mint the UCID with the player's id as publisherUserId.");
    }

    /// <summary>
    /// A 403 when binding is on and the token names no player; null otherwise. An X-token is opaque to the gateway, so
    /// whether it is this player's is the Store's and the game's matter; the budget it spends is the bound player's.
    /// </summary>
    public ProblemHttpResult? Check(ClaimsPrincipal user, XboxAuthorization xbox) => NoPlayer(user);

    public string BudgetKey(ClaimsPrincipal user, UserCollectionsId ucid) =>
        Enabled ? "player-" + PlayerId(user) : ucid.BudgetKey;

    public string BudgetKey(ClaimsPrincipal user, XboxAuthorization xbox) =>
        Enabled ? "player-" + PlayerId(user) : xbox.BudgetKey;

    private ProblemHttpResult? NoPlayer(ClaimsPrincipal user) =>
        Enabled && string.IsNullOrEmpty(PlayerId(user))
            ? GatewayProblems.Create(403, GatewayProblems.PlayerMismatch, "The player token names no player.",
                $"The player token has no '{options.Value.PlayerIdClaim}' claim.")
            : null;
}

/// <summary>Inbound JWT validation shared by player and operator tokens: discovery from an authority, or a pinned PEM key.</summary>
internal static class JwtValidation
{
    public static void Apply(JwtBearerOptions jwt, string? authority, string? issuer, string? audience, string? signingKeyPem,
        bool requireHttpsMetadata, string nameClaim, string roleClaim = "roles")
    {
        jwt.MapInboundClaims = false;
        jwt.RequireHttpsMetadata = requireHttpsMetadata;
        if (!string.IsNullOrWhiteSpace(authority)) jwt.Authority = authority;
        jwt.Audience = audience;
        jwt.TokenValidationParameters = new TokenValidationParameters
        {
            ValidateIssuer = true,
            ValidIssuer = string.IsNullOrWhiteSpace(issuer) ? null : issuer,
            ValidateAudience = true,
            ValidAudience = audience,
            ValidateLifetime = true,
            RequireExpirationTime = true,
            ClockSkew = TimeSpan.FromMinutes(1),
            NameClaimType = nameClaim,
            RoleClaimType = roleClaim,
            IssuerSigningKey = string.IsNullOrWhiteSpace(signingKeyPem) ? null : SecurityKeys.FromPem(signingKeyPem),
        };
    }
}

internal static class SecurityKeys
{
    /// <summary>An EC or RSA public key from PEM; throws ArgumentException or CryptographicException when it is neither.</summary>
    public static SecurityKey FromPem(string pem)
    {
        var ec = ECDsa.Create();
        try
        {
            ec.ImportFromPem(pem);
            return new ECDsaSecurityKey(ec);
        }
        catch (Exception ex) when (ex is ArgumentException or CryptographicException)
        {
            ec.Dispose();
        }
        var rsa = RSA.Create();
        rsa.ImportFromPem(pem);
        return new RsaSecurityKey(rsa);
    }
}
