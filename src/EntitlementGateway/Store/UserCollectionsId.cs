using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace EntitlementGateway.Store;

/// <summary>
/// The claims of a UserCollectionsId (a Store-signed JWT). The signature can only be checked by the Store,
/// so the gateway pre-checks the claims to refuse what the Store would refuse, before spending any budget.
/// </summary>
public sealed record UserCollectionsId(
    string Value,
    string? UserId,
    string? ClientId,
    string? Audience,
    DateTimeOffset? NotBefore,
    DateTimeOffset? Expires,
    string? RefreshUri)
{
    public const string CollectionsAudience = "https://collections.mp.microsoft.com/v6.0/keys";
    private const string ClaimPrefix = "http://schemas.microsoft.com/marketplace/2015/08/claims/key/";
    public const string UserIdClaim = ClaimPrefix + "userId";
    public const string ClientIdClaim = ClaimPrefix + "clientId";
    public const string RefreshUriClaim = ClaimPrefix + "refreshUri";

    /// <summary>The longest UCID accepted; real ones are about 1.5 KiB.</summary>
    public const int MaxLength = 8 * 1024;

    /// <summary>A short, non-reversible tag to log instead of the UCID.</summary>
    public string Fingerprint => FingerprintOf(Value);

    /// <summary>The budget key: the player's id when the game set one, else a hash of the whole UCID (DESIGN §4).</summary>
    public string BudgetKey => string.IsNullOrWhiteSpace(UserId) ? "ucid-" + Hash(Value, 16) : "user-" + UserId;

    public static string FingerprintOf(string value) => Hash(value, 12);

    private static string Hash(string value, int hexChars) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(value)))[..hexChars];

    /// <summary>Parses the JWT's claims; null with a reason when it is not a JWT.</summary>
    public static UserCollectionsId? TryParse(string? value, out string? error)
    {
        error = null;
        if (string.IsNullOrWhiteSpace(value)) { error = "userCollectionsId is required."; return null; }
        if (value.Length > MaxLength) { error = $"userCollectionsId is longer than {MaxLength} characters."; return null; }

        var parts = value.Split('.');
        if (parts.Length != 3 || parts.Any(p => p.Length == 0))
        {
            error = "userCollectionsId is not a JWT (expected three dot-separated parts).";
            return null;
        }

        try
        {
            using var doc = JsonDocument.Parse(Base64Url.DecodeFromChars(parts[1]));
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) { error = "userCollectionsId payload is not a JSON object."; return null; }
            return new UserCollectionsId(
                value,
                String(root, UserIdClaim),
                String(root, ClientIdClaim),
                ReadAudience(root),
                Time(root, "nbf"),
                Time(root, "exp"),
                String(root, RefreshUriClaim));
        }
        catch (Exception ex) when (ex is FormatException or JsonException)
        {
            error = "userCollectionsId is not a JWT (its payload is not base64url JSON).";
            return null;
        }
    }

    private static string? String(JsonElement root, string name) =>
        root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static string? ReadAudience(JsonElement root)
    {
        if (!root.TryGetProperty("aud", out var aud)) return null;
        if (aud.ValueKind == JsonValueKind.String) return aud.GetString();
        if (aud.ValueKind == JsonValueKind.Array)
            return aud.EnumerateArray().Where(a => a.ValueKind == JsonValueKind.String).Select(a => a.GetString())
                .FirstOrDefault(a => a == CollectionsAudience) ?? aud.EnumerateArray().FirstOrDefault().ToString();
        return null;
    }

    private static DateTimeOffset? Time(JsonElement root, string name) =>
        root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out var s)
            ? DateTimeOffset.FromUnixTimeSeconds(s)
            : null;
}
