namespace EntitlementGateway.Store;

/// <summary>Which part of a delegated Xbox authorization is malformed.</summary>
public enum XboxAuthorizationProblem
{
    None,
    Authorization,
    Signature,
}

/// <summary>
/// A player's delegated Xbox authorization, forwarded to the Store as its <c>Authorization</c> and <c>Signature</c>
/// headers: <c>XBL3.0 x=&lt;userhash&gt;;&lt;token&gt;</c> and the base64 signature the game obtained with it. The token
/// is opaque to the gateway (only the Store can verify it), so its shape is checked strictly, to keep anything that is not
/// header-safe or absurdly large away from the Store, and the rest is the Store's call. Never log or return it.
/// </summary>
public sealed record XboxAuthorization(string Authorization, string Signature, string UserHash)
{
    public const string Prefix = "XBL3.0 x=";
    public const string SignatureHeader = "Signature";

    /// <summary>The longest Authorization value accepted; real X-tokens are a few KiB.</summary>
    public const int MaxAuthorizationLength = 16 * 1024;

    /// <summary>The longest user hash accepted (real ones are about 20 digits).</summary>
    public const int MaxUserHashLength = 64;

    /// <summary>The longest Signature value accepted (a real one is 104 base64 characters).</summary>
    public const int MaxSignatureLength = 1024;

    /// <summary>The fewest bytes a signature decodes to: a version and a timestamp before any signature bytes.</summary>
    public const int MinSignatureBytes = 13;

    /// <summary>The X-token after the user hash.</summary>
    public string Token => Authorization[(Prefix.Length + UserHash.Length + 1)..];

    /// <summary>A short, non-reversible tag to log instead of the token.</summary>
    public string Fingerprint => UserCollectionsId.FingerprintOf(Authorization);

    /// <summary>The budget key when no authenticated player is bound: the user hash the token names.</summary>
    public string BudgetKey => "xbl-" + UserHash;

    /// <summary>Checks both values; on failure, which one is wrong and why (never echoing the value).</summary>
    public static XboxAuthorization? TryParse(string? authorization, string? signature, out XboxAuthorizationProblem problem, out string detail)
    {
        problem = XboxAuthorizationProblem.Authorization;
        if (AuthorizationError(authorization, out var userHash) is { } authorizationError)
        {
            detail = authorizationError;
            return null;
        }
        problem = XboxAuthorizationProblem.Signature;
        if (SignatureError(signature) is { } signatureError)
        {
            detail = signatureError;
            return null;
        }
        problem = XboxAuthorizationProblem.None;
        detail = "";
        return new XboxAuthorization(authorization!, signature!, userHash!);
    }

    private static string? AuthorizationError(string? value, out string? userHash)
    {
        userHash = null;
        if (string.IsNullOrEmpty(value)) return "xbox.authorization is required.";
        if (value.Length > MaxAuthorizationLength) return $"xbox.authorization is longer than {MaxAuthorizationLength} characters.";
        if (!value.StartsWith(Prefix, StringComparison.Ordinal)) return "xbox.authorization must start with 'XBL3.0 x='.";
        var rest = value.AsSpan(Prefix.Length);
        var semicolon = rest.IndexOf(';');
        if (semicolon < 0) return "xbox.authorization must be 'XBL3.0 x=<userhash>;<token>' (no ';' after the user hash).";
        var hash = rest[..semicolon];
        if (hash.Length is 0 or > MaxUserHashLength || !IsAsciiLettersOrDigits(hash))
            return $"xbox.authorization's user hash (x=) must be 1 to {MaxUserHashLength} letters or digits.";
        var token = rest[(semicolon + 1)..];
        if (token.IsEmpty) return "xbox.authorization has no token after the user hash.";
        if (!IsTokenText(token)) return "xbox.authorization's token may hold only letters, digits and - _ . + / =.";
        userHash = hash.ToString();
        return null;
    }

    private static string? SignatureError(string? value)
    {
        if (string.IsNullOrEmpty(value)) return "xbox.signature is required.";
        if (value.Length > MaxSignatureLength) return $"xbox.signature is longer than {MaxSignatureLength} characters.";
        Span<byte> bytes = stackalloc byte[MaxSignatureLength];
        if (!Convert.TryFromBase64String(value, bytes, out var written) || value.AsSpan().ContainsAny(" \t\r\n"))
            return "xbox.signature must be base64.";
        return written < MinSignatureBytes ? $"xbox.signature must decode to at least {MinSignatureBytes} bytes." : null;
    }

    private static bool IsAsciiLettersOrDigits(ReadOnlySpan<char> text)
    {
        foreach (var c in text)
            if (!char.IsAsciiLetterOrDigit(c)) return false;
        return true;
    }

    private static bool IsTokenText(ReadOnlySpan<char> text)
    {
        foreach (var c in text)
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('-' or '_' or '.' or '+' or '/' or '=')) return false;
        return true;
    }
}
