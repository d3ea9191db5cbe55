using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace EntitlementGateway.Store;

/// <summary>
/// The claims of a UserCollectionsId (a Store-signed JWT). The signature can only be checked by the Store,
/// so the gateway pre-checks the claims to refuse what the Store would refuse, before spending any budget.
/// The token comes from an untrusted client: every claim read here has one accepted type and range, and anything
/// else is refused with a reason that names the claim.
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
    private string? _value = Value;
    private byte[]? _ascii;

    /// <summary>
    /// The token. A remembered token found by the bytes of a request's body (<see cref="AcceptedUcids.Entry.Remembered"/>)
    /// becomes a string on first use: only a Store call needs it, so a cache hit makes none.
    /// </summary>
    public string Value
    {
        get => _value ??= Encoding.ASCII.GetString(_ascii!);
        init { _value = value; _ascii = null; }
    }

    /// <summary>These claims for the token held in <paramref name="ascii"/> (shared, never written).</summary>
    internal UserCollectionsId WithAsciiToken(byte[] ascii) => this with { _value = null, _ascii = ascii };

    // By the token's text and the claims, however the token is held.
    public bool Equals(UserCollectionsId? other) => other is not null && Fields == other.Fields;

    public override int GetHashCode() => Fields.GetHashCode();

    private (string, string?, string?, string?, DateTimeOffset?, DateTimeOffset?, string?) Fields =>
        (Value, UserId, ClientId, Audience, NotBefore, Expires, RefreshUri);

    public const string CollectionsAudience = "https://collections.mp.microsoft.com/v6.0/keys";
    private const string ClaimPrefix = "http://schemas.microsoft.com/marketplace/2015/08/claims/key/";
    public const string UserIdClaim = ClaimPrefix + "userId";
    public const string ClientIdClaim = ClaimPrefix + "clientId";
    public const string RefreshUriClaim = ClaimPrefix + "refreshUri";

    // A span search over the whole token: a LINQ walk of its 1,500 characters was most of a new player's parse.
    private static readonly System.Buffers.SearchValues<char> Base64UrlChars =
        System.Buffers.SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_");

    /// <summary>The longest UCID accepted; real ones are about 1.5 KiB.</summary>
    public const int MaxLength = 8 * 1024;

    /// <summary>The last second a NumericDate may name: 9999-12-31T23:59:59Z, the end of DateTimeOffset's range.</summary>
    public const long MaxUnixSeconds = 253_402_300_799;

    // Real claims are flat; a deeply nested payload is only ever an attack on the parser.
    private static readonly JsonDocumentOptions ClaimsJson = new() { MaxDepth = 8, AllowDuplicateProperties = false };

    /// <summary>A short, non-reversible tag to log instead of the UCID.</summary>
    public string Fingerprint => FingerprintOf(Value);

    /// <summary>The budget key: the player's id when the game set one, else a hash of the whole UCID.</summary>
    public string BudgetKey => string.IsNullOrWhiteSpace(UserId) ? "ucid-" + Hash(Value, 16) : "user-" + UserId;

    public static string FingerprintOf(string value) => Hash(value, FingerprintLength);

    /// <summary>Hex characters of the SHA-256 a fingerprint keeps.</summary>
    public const int FingerprintLength = 12;

    private static string Hash(string value, int hexChars) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(value)))[..hexChars];

    /// <summary>Parses the JWT's claims; null with a reason when it is not a well-formed UCID.</summary>
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
        for (var i = 0; i < parts.Length; i++)
        {
            // JWTs use unpadded base64url; '=' padding, '+', '/' or whitespace mean the token was altered.
            if (parts[i].AsSpan().ContainsAnyExcept(Base64UrlChars) || parts[i].Length % 4 == 1)
            {
                error = $"userCollectionsId part {i + 1} is not unpadded base64url.";
                return null;
            }
        }

        if (HeaderError(parts[0]) is { } headerError)
        {
            error = headerError;
            return null;
        }

        byte[] payload;
        try
        {
            payload = Base64Url.DecodeFromChars(parts[1]);
        }
        catch (FormatException)
        {
            error = "userCollectionsId payload is not base64url.";
            return null;
        }
        if (!System.Text.Unicode.Utf8.IsValid(payload)) { error = "userCollectionsId payload is not UTF-8 text."; return null; }

        try
        {
            using var doc = JsonDocument.Parse(payload, ClaimsJson);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) { error = "userCollectionsId payload is not a JSON object."; return null; }
            var claims = new ClaimReader(root);
            var ucid = new UserCollectionsId(
                value,
                claims.String(UserIdClaim, "userId"),
                // Alike for every player of a game: one instance each, not a copy per remembered player.
                Infrastructure.SharedStrings.Share(claims.String(ClientIdClaim, "clientId")),
                Infrastructure.SharedStrings.Share(claims.Audience()),
                claims.Time("nbf"),
                claims.Time("exp"),
                Infrastructure.SharedStrings.Share(claims.String(RefreshUriClaim, "refreshUri")));
            error = claims.Error;
            return error is null ? ucid : null;
        }
        catch (JsonException)
        {
            error = "userCollectionsId payload is not a JSON object (malformed, nested too deeply, or a claim appears twice).";
            return null;
        }
    }

    /// <summary>
    /// The JOSE header must be a JSON object that names the algorithm the token is signed with: a header the Store never
    /// writes (not JSON, a member twice, no algorithm, or "none", an unsigned token) is refused before it costs budget.
    /// </summary>
    private static string? HeaderError(string part)
    {
        const string NotAnObject = "userCollectionsId header is not a JSON object (malformed, not UTF-8, or a member appears twice).";
        try
        {
            using var doc = JsonDocument.Parse(Base64Url.DecodeFromChars(part), ClaimsJson);
            if (doc.RootElement.ValueKind != JsonValueKind.Object) return NotAnObject;
            return doc.RootElement.TryGetProperty("alg", out var alg) && alg.ValueKind == JsonValueKind.String &&
                   alg.GetString() is { Length: > 0 } name && !name.Equals("none", StringComparison.OrdinalIgnoreCase)
                ? null
                : "userCollectionsId header must name the algorithm it is signed with ('alg'); an unsigned token is never the Store's.";
        }
        catch (Exception ex) when (ex is JsonException or FormatException or InvalidOperationException)
        {
            // InvalidOperationException: an escaped lone surrogate in 'alg' cannot become a string.
            return NotAnObject;
        }
    }

    /// <summary>Reads claims strictly; the first wrong one is kept in <see cref="Error"/>.</summary>
    private sealed class ClaimReader(JsonElement root)
    {
        public string? Error { get; private set; }

        public string? String(string name, string shortName)
        {
            if (!root.TryGetProperty(name, out var claim) || claim.ValueKind == JsonValueKind.Null) return null;
            if (claim.ValueKind != JsonValueKind.String) return Fail<string>($"userCollectionsId claim '{shortName}' must be a string.");
            return Text(claim) ?? Fail<string>($"userCollectionsId claim '{shortName}' is not valid Unicode text.");
        }

        public string? Audience()
        {
            if (!root.TryGetProperty("aud", out var aud)) return null;
            var single = Text(aud);
            if (single is not null) return single;
            if (aud.ValueKind == JsonValueKind.Array)
            {
                List<string>? entries = [];
                foreach (var entry in aud.EnumerateArray())
                {
                    var text = Text(entry);
                    if (text is null) { entries = null; break; }
                    entries.Add(text);
                }
                if (entries is { Count: > 0 }) return entries.Contains(CollectionsAudience) ? CollectionsAudience : entries[0];
            }
            return Fail<string>("userCollectionsId claim 'aud' must be a string or an array of strings.");
        }

        public DateTimeOffset? Time(string name)
        {
            if (!root.TryGetProperty(name, out var claim)) return null;
            // NumericDate in whole seconds, inside what DateTimeOffset can hold (DateTimeOffset.FromUnixTimeSeconds throws outside it).
            if (claim.ValueKind == JsonValueKind.Number && claim.TryGetInt64(out var seconds) && seconds is >= 0 and <= MaxUnixSeconds)
                return DateTimeOffset.FromUnixTimeSeconds(seconds);
            Fail<string>($"userCollectionsId claim '{name}' must be whole seconds since 1970 (0 to {MaxUnixSeconds}).");
            return null;
        }

        /// <summary>A JSON string's text; null for any other kind, and for a string that is not Unicode.</summary>
        private static string? Text(JsonElement element)
        {
            if (element.ValueKind != JsonValueKind.String) return null;
            try
            {
                return element.GetString();
            }
            catch (InvalidOperationException)
            {
                // An escaped lone surrogate (\ud800) cannot become a .NET string.
            }
            return null;
        }

        private T? Fail<T>(string message) where T : class
        {
            Error ??= message;
            return null;
        }
    }
}
