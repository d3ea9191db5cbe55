using System.Buffers.Text;
using System.Text;
using System.Text.Json.Nodes;
using EntitlementGateway.Store;

namespace EntitlementGateway.UnitTests.Infrastructure;

/// <summary>Builds UCID-shaped JWTs with chosen claims. The gateway cannot verify the Store's signature, so a fake one suffices here.</summary>
public static class TestUcid
{
    public const string ClientId = "11111111-2222-3333-4444-555555555555";

    public static string Create(DateTimeOffset now, string? userId = "player-1", string? clientId = ClientId,
        string? audience = UserCollectionsId.CollectionsAudience, TimeSpan? expiresIn = null, TimeSpan? notBeforeOffset = null)
    {
        var claims = new JsonObject
        {
            ["iat"] = now.ToUnixTimeSeconds(),
            ["iss"] = "https://collections.mp.microsoft.com/v6.0/keys",
            ["nbf"] = (now + (notBeforeOffset ?? TimeSpan.Zero)).ToUnixTimeSeconds(),
            ["exp"] = (now + (expiresIn ?? TimeSpan.FromDays(30))).ToUnixTimeSeconds(),
            [UserCollectionsId.RefreshUriClaim] = "https://collections.mp.microsoft.com/v6.0/b2b/keys/renew",
            ["http://schemas.microsoft.com/marketplace/2015/08/claims/key/payload"] = "opaque",
        };
        if (audience is not null) claims["aud"] = audience;
        if (userId is not null) claims[UserCollectionsId.UserIdClaim] = userId;
        if (clientId is not null) claims[UserCollectionsId.ClientIdClaim] = clientId;
        return Jwt(claims);
    }

    public static string Jwt(JsonObject claims)
    {
        var header = new JsonObject { ["alg"] = "RS256", ["typ"] = "JWT", ["kid"] = "test", ["x5t"] = "test" };
        return $"{Encode(header.ToJsonString())}.{Encode(claims.ToJsonString())}.{Encode("not-a-real-signature")}";
    }

    private static string Encode(string text) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(text));
}
