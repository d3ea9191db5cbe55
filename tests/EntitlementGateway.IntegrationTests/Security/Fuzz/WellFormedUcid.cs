using System.Buffers.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace EntitlementGateway.IntegrationTests.Security.Fuzz;

/// <summary>
/// The test's own statement of a well-formed UCID, written from the token's specification rather than from the
/// gateway's code: the only UCIDs allowed to spend budget or reach the Store.
/// </summary>
public static partial class WellFormedUcid
{
    private const string Prefix = "http://schemas.microsoft.com/marketplace/2015/08/claims/key/";
    private const string Audience = "https://collections.mp.microsoft.com/v6.0/keys";

    public static bool Is(string? ucid, string clientId, DateTimeOffset now) => WhyNot(ucid, clientId, now) is null;

    /// <summary>Why <paramref name="ucid"/> is not well-formed; null when it is.</summary>
    public static string? WhyNot(string? ucid, string clientId, DateTimeOffset now)
    {
        if (ucid is null || ucid.Length > 8192) return "absent or too long";
        var parts = ucid.Split('.');
        if (parts.Length != 3 || !parts.All(p => Base64UrlPart().IsMatch(p) && p.Length % 4 != 1)) return "not three base64url parts";
        try
        {
            var bytes = Base64Url.DecodeFromChars(parts[1]);
            if (!System.Text.Unicode.Utf8.IsValid(bytes)) return "not UTF-8";
            // A claim named twice is ambiguous: the Store may read the other copy.
            var names = new HashSet<string>(StringComparer.Ordinal);
            var reader = new Utf8JsonReader(bytes);
            while (reader.Read())
                if (reader is { TokenType: JsonTokenType.PropertyName, CurrentDepth: 1 } && !names.Add(reader.GetString()!)) return "a claim twice";
            if (JsonNode.Parse(bytes) is not JsonObject claims) return "not an object";
            if (!OptionalString(claims, Prefix + "userId") || !OptionalString(claims, Prefix + "refreshUri")) return "userId or refreshUri not a string";
            if (Text(claims[Prefix + "clientId"]) is not { } client || !string.Equals(client, clientId, StringComparison.OrdinalIgnoreCase)) return "clientId";
            if (!AudienceMatches(claims["aud"])) return "aud";
            if (Seconds(claims["exp"]) is not { } exp || exp <= now.ToUnixTimeSeconds()) return "exp";
            if (claims.ContainsKey("nbf") && (Seconds(claims["nbf"]) is not { } nbf || nbf > now.AddMinutes(1).ToUnixTimeSeconds())) return "nbf";
            return null;
        }
        catch (Exception ex) when (ex is FormatException or JsonException or ArgumentException or InvalidOperationException)
        {
            return ex.GetType().Name;
        }
    }

    private static bool OptionalString(JsonObject claims, string name) => claims[name] is null || Text(claims[name]) is not null;

    private static string? Text(JsonNode? node) => node is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;

    private static bool AudienceMatches(JsonNode? aud) => aud switch
    {
        JsonArray array => array.Count > 0 && array.All(a => Text(a) is not null) && array.Any(a => Text(a) == Audience),
        _ => Text(aud) == Audience,
    };

    private static long? Seconds(JsonNode? node) =>
        node is JsonValue v && v.GetValueKind() == JsonValueKind.Number && v.TryGetValue<long>(out var s) && s is >= 0 and <= 253_402_300_799 ? s : null;

    [GeneratedRegex("^[A-Za-z0-9_-]+$")]
    private static partial Regex Base64UrlPart();
}
