using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace EntitlementGateway.Clawback;

/// <summary>
/// The webhook's signature: <c>sha256=</c> and the lowercase hex HMAC-SHA256, keyed with Clawback:WebhookSecret, of the
/// timestamp (Unix seconds, as sent in <c>X-EntitlementGateway-Timestamp</c>), a dot, and the exact body bytes.
/// Signing the timestamp lets a receiver refuse replays of an old delivery.
/// </summary>
public static class WebhookSignature
{
    public const string EventIdHeader = "X-EntitlementGateway-Event-Id";
    public const string TimestampHeader = "X-EntitlementGateway-Timestamp";
    public const string SignatureHeader = "X-EntitlementGateway-Signature";
    public const string Prefix = "sha256=";

    /// <summary>
    /// The event id as the <see cref="EventIdHeader"/> value: as it is when it is printable ASCII without a space at either
    /// end (every id the Store writes, GUIDs), otherwise percent-encoded (UTF-8), since a header cannot carry a line break,
    /// a control or a non-ASCII character. The body's <c>eventId</c> is the id as written.
    /// </summary>
    public static string EventIdHeaderValue(string eventId)
    {
        ArgumentNullException.ThrowIfNull(eventId);
        var plain = eventId.Length > 0 && eventId[0] != ' ' && eventId[^1] != ' ' && !eventId.AsSpan().ContainsAnyExceptInRange(' ', '~');
        return plain ? eventId : Uri.EscapeDataString(eventId);
    }

    public static string Sign(string secret, long timestamp, ReadOnlySpan<byte> body)
    {
        var stamp = Encoding.UTF8.GetBytes(timestamp.ToString(CultureInfo.InvariantCulture) + ".");
        var message = new byte[stamp.Length + body.Length];
        stamp.CopyTo(message, 0);
        body.CopyTo(message.AsSpan(stamp.Length));
        return Prefix + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), message));
    }

    /// <summary>What a receiver checks: the signature matches (in constant time) and the timestamp is within <paramref name="tolerance"/> of now.</summary>
    public static bool Verify(string secret, string? timestamp, string? signature, ReadOnlySpan<byte> body, DateTimeOffset now, TimeSpan tolerance)
    {
        if (signature is null || !long.TryParse(timestamp, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)) return false;
        if (seconds > DateTimeOffset.MaxValue.ToUnixTimeSeconds() ||
            (now - DateTimeOffset.FromUnixTimeSeconds(seconds)).Duration() > tolerance) return false;
        return CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Sign(secret, seconds, body)), Encoding.ASCII.GetBytes(signature));
    }
}
