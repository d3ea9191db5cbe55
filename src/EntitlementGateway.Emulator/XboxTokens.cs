using System.Buffers.Binary;
using System.Globalization;
using System.Numerics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace EntitlementGateway.Emulator;

/// <summary>
/// The emulator's stand-in for a player's delegated Xbox authorization: <c>Authorization: XBL3.0 x=&lt;userhash&gt;;&lt;token&gt;</c>
/// plus a <c>Signature</c> header. The token is an emulator-signed JWT naming the user; the signature is
/// base64(version 1, big-endian int32 | a Windows file time, big-endian int64 | a 64-byte proof derived from the token),
/// 76 bytes as real ones are. Real tokens are opaque to a caller; so are these, except to the emulator.
/// </summary>
public static class XboxTokens
{
    /// <summary>The relying party the Store's documentation names for delegated X-tokens.</summary>
    public const string RelyingParty = "https://licensing.xboxlive.com";

    /// <summary>The prefix of the Authorization value.</summary>
    public const string Scheme = "XBL3.0";

    /// <summary>How long a minted token lives (real ones live hours).</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(4);

    private const int SignatureVersion = 1;
    private const int SignatureBytes = 4 + 8 + 64;

    /// <summary>The user hash (uhs) of a user: 19 digits derived from the user id, stable across runs.</summary>
    public static string UserHash(string userId)
    {
        var digest = SHA256.HashData(Encoding.UTF8.GetBytes("uhs:" + userId));
        var value = new BigInteger(digest.AsSpan(0, 16), isUnsigned: true) % BigInteger.Pow(10, 19);
        return value.ToString("D19", CultureInfo.InvariantCulture);
    }

    /// <summary>Mints an Authorization and Signature pair for <paramref name="userId"/>.</summary>
    internal static (string Authorization, string Signature) Mint(EmulatorState state, string userId)
    {
        var now = state.Time.GetUtcNow();
        var hash = UserHash(userId);
        var token = state.Signer.Sign(new JsonObject
        {
            ["aud"] = RelyingParty,
            ["iss"] = "https://xsts.auth.xboxlive.com",
            ["iat"] = now.ToUnixTimeSeconds(),
            ["nbf"] = now.ToUnixTimeSeconds(),
            ["exp"] = (now + Lifetime).ToUnixTimeSeconds(),
            ["uhs"] = hash,
            ["xid"] = userId,
            ["sbx"] = "RETAIL",
        });
        var signature = new byte[SignatureBytes];
        BinaryPrimitives.WriteInt32BigEndian(signature, SignatureVersion);
        BinaryPrimitives.WriteInt64BigEndian(signature.AsSpan(4), now.ToFileTime());
        Proof(token).CopyTo(signature, 12);
        return ($"{Scheme} x={hash};{token}", Convert.ToBase64String(signature));
    }

    /// <summary>
    /// The user a delegated call is made for, or null with the reason the Store would refuse it (401): the Authorization
    /// shape, the token's signature, lifetime and audience, its user hash against <c>x=</c>, and the Signature header
    /// against the token.
    /// </summary>
    internal static string? Verify(EmulatorState state, string authorization, string? signatureHeader, out string error)
    {
        const string prefix = Scheme + " x=";
        var semicolon = authorization.IndexOf(';', StringComparison.Ordinal);
        if (!authorization.StartsWith(prefix, StringComparison.Ordinal) || semicolon < 0)
        {
            error = "Authorization must be 'XBL3.0 x=<userhash>;<token>'.";
            return null;
        }
        var hash = authorization[prefix.Length..semicolon];
        var token = authorization[(semicolon + 1)..];
        var claims = state.Signer.Verify(token, out error);
        if (claims is null) return null;
        error = Claims.CheckLifetime(claims, state.Time.GetUtcNow()) ?? "";
        if (error.Length > 0) return null;
        if (Claims.String(claims, "aud") != RelyingParty)
        {
            error = $"The X-token's relying party must be {RelyingParty}.";
            return null;
        }
        if (Claims.String(claims, "uhs") != hash)
        {
            error = "The user hash (x=) is not the X-token's.";
            return null;
        }
        if (!SignatureMatches(signatureHeader, token))
        {
            error = "The Signature header is missing or was not made for this X-token.";
            return null;
        }
        return Claims.String(claims, "xid");
    }

    private static bool SignatureMatches(string? header, string token)
    {
        var bytes = new byte[SignatureBytes + 3];
        if (string.IsNullOrEmpty(header) || !Convert.TryFromBase64String(header, bytes, out var written) || written != SignatureBytes)
            return false;
        return BinaryPrimitives.ReadInt32BigEndian(bytes) == SignatureVersion &&
               CryptographicOperations.FixedTimeEquals(bytes.AsSpan(12, 64), Proof(token));
    }

    private static byte[] Proof(string token) => SHA512.HashData(Encoding.ASCII.GetBytes(token));
}
