using System.Buffers.Text;
using System.Text;
using System.Text.Json.Nodes;

namespace EntitlementGateway.IntegrationTests.Infrastructure;

/// <summary>A UCID with the right claims and a wrong signature: the gateway's pre-checks pass it, only the Store refuses it.</summary>
public static class ForgedUcid
{
    public static string For(string userId, string clientId, TimeSpan? lifetime = null)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var claims = new JsonObject
        {
            ["aud"] = "https://collections.mp.microsoft.com/v6.0/keys",
            ["iss"] = "https://collections.mp.microsoft.com/v6.0/keys",
            ["iat"] = now,
            ["nbf"] = now,
            ["exp"] = now + (long)(lifetime ?? TimeSpan.FromHours(1)).TotalSeconds,
            ["http://schemas.microsoft.com/marketplace/2015/08/claims/key/clientId"] = clientId,
            ["http://schemas.microsoft.com/marketplace/2015/08/claims/key/userId"] = userId,
        };
        return Encode("{\"alg\":\"RS256\",\"kid\":\"forged\"}") + "." + Encode(claims.ToJsonString()) + ".Zm9yZ2Vk";
    }

    private static string Encode(string text) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(text));
}
