using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace EntitlementGateway.Emulator;

/// <summary>
/// Shared access signatures for the emulated clawback queue, in Azure's query form (<c>sv</c>, <c>spr</c>, <c>st</c>,
/// <c>se</c>, <c>sp</c>, <c>sig</c>). The signature is an HMAC-SHA256 with a key only this emulator knows, over the
/// other parameters and the queue, so a changed permission, expiry or queue, or a made-up signature, is refused as
/// Azure refuses it: 403 <c>AuthenticationFailed</c>.
/// </summary>
public sealed class QueueSas(TimeProvider time)
{
    /// <summary>The storage service version the emulator signs with and answers in <c>x-ms-version</c>.</summary>
    public const string Version = "2021-10-04";

    /// <summary>How long an issued SAS works (the Store's sample answer spans six hours).</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(6);

    private readonly byte[] _key = RandomNumberGenerator.GetBytes(32);

    /// <summary>A SAS query string (without '?') for <paramref name="queue"/> with read and process rights, and its expiry.</summary>
    public (string Query, DateTimeOffset ExpiresOn) Issue(string queue)
    {
        var now = time.GetUtcNow();
        var start = Format(now.AddMinutes(-1));
        var expires = now + Lifetime;
        var end = Format(expires);
        var sig = Sign(queue, "rp", start, end, "https", Version);
        return ($"sv={Version}&spr=https&st={Uri.EscapeDataString(start)}&se={Uri.EscapeDataString(end)}&sp=rp&sig={Uri.EscapeDataString(sig)}", expires);
    }

    /// <summary>Null when the request's SAS grants <paramref name="permission"/> on <paramref name="queue"/> now; else why not.</summary>
    public string? Check(IQueryCollection query, string queue, char permission)
    {
        string Get(string name) => query[name].ToString();
        var (sv, spr, st, se, sp, sig) = (Get("sv"), Get("spr"), Get("st"), Get("se"), Get("sp"), Get("sig"));
        if (sig.Length == 0 || se.Length == 0 || sp.Length == 0 || sv.Length == 0)
            return "The request carries no complete shared access signature (sv, se, sp and sig are required).";
        var expected = Encoding.UTF8.GetBytes(Sign(queue, sp, st, se, spr, sv));
        if (!CryptographicOperations.FixedTimeEquals(expected, Encoding.UTF8.GetBytes(sig)))
            return "Signature did not match. String to sign used was not the one signed by the emulator.";
        var now = time.GetUtcNow();
        if (!DateTimeOffset.TryParse(se, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var end) || now >= end)
            return "Signed expiry time [" + se + "] must be after signed start time and the current time.";
        if (st.Length > 0 && (!DateTimeOffset.TryParse(st, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var begin) || now < begin))
            return "Signed start time [" + st + "] is in the future.";
        if (!sp.Contains(permission, StringComparison.Ordinal))
            return $"This request is not authorized to perform this operation using this permission (needs '{permission}', has '{sp}').";
        return null;
    }

    private string Sign(string queue, string sp, string st, string se, string spr, string sv)
    {
        var toSign = string.Join('\n', sp, st, se, "/queue/" + queue, spr, sv);
        return Convert.ToBase64String(HMACSHA256.HashData(_key, Encoding.UTF8.GetBytes(toSign)));
    }

    private static string Format(DateTimeOffset value) => value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}
