using System.Security.Cryptography;
using System.Text;

namespace EntitlementGateway.Budget;

/// <summary>
/// The one place budget keys are built. Both keys of a user share the hash tag <c>{userKey}</c>, so a script that
/// touches both stays on one Redis Cluster slot.
/// </summary>
internal static class BudgetKeys
{
    public const string Prefix = "eg:budget:";

    // Longer keys are hashed: the key comes from a client-controlled claim and Redis keys should stay small.
    private const int MaxPlainLength = 128;

    /// <summary>The sliding log (ZSET: member = lease id, score = Redis time in µs) and the blocked-until string.</summary>
    public static (string Log, string Blocked) For(string userKey)
    {
        var tag = Tag(userKey);
        var log = Prefix + "{" + tag + "}";
        return (log, log + ":blocked");
    }

    /// <summary>
    /// The text inside the braces. A key with a brace would move or empty the hash tag (Redis hashes the text between
    /// the first '{' and the next '}'), so such keys, empty ones and long ones are replaced by their SHA-256.
    /// </summary>
    internal static string Tag(string userKey)
    {
        ArgumentNullException.ThrowIfNull(userKey);
        if (userKey.Length is > 0 and <= MaxPlainLength && userKey.AsSpan().IndexOfAny('{', '}') < 0)
        {
            return userKey;
        }

        return "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(userKey)));
    }
}
