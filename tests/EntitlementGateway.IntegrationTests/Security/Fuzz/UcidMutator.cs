using System.Buffers.Text;
using System.Text;
using System.Text.Json.Nodes;

namespace EntitlementGateway.IntegrationTests.Security.Fuzz;

/// <summary>
/// Turns a UCID into a hostile one, at the text level (bit flips, truncation, padding, dots) or at the claims level
/// (claim swaps, type swaps, boundary numbers, deep nesting, long strings, duplicates, non-UTF-8). Seeded: one
/// <see cref="Random"/> drives every choice, so a seed replays the same cases.
/// </summary>
public sealed class UcidMutator(Random random)
{
    private const string Prefix = "http://schemas.microsoft.com/marketplace/2015/08/claims/key/";
    private static readonly string[] ClaimNames = ["exp", "nbf", "iat", "aud", "iss", Prefix + "userId", Prefix + "clientId", Prefix + "refreshUri", Prefix + "payload"];

    private static readonly string[] BoundaryNumbers =
    [
        "0", "-1", "1", "-0", "0.0", "1.5", "1e3", "1E+300", "-1e308", "1e-7", "9007199254740993", "99999999999999",
        "253402300799", "253402300800", "-62135596800", "-62135596801", "9223372036854775807", "9223372036854775808",
        "-9223372036854775808", "-9223372036854775809", "18446744073709551616", "123456789012345678901234567890",
    ];

    private static readonly string[] OtherValues =
    [
        "null", "true", "false", "\"\"", "\" \"", "\"1893456000\"", "[]", "{}", "[1893456000]", "[\"a\",1]", "{\"a\":{}}",
        "\"\\u0000\"", "\"\\ud800\"", "\"\\udc00x\"", "\"😀\"", "\"https://collections.mp.microsoft.com/v6.0/keys\"",
        "[\"https://collections.mp.microsoft.com/v6.0/keys\"]", "[null]", "\"{user}\"", "\"a\\nb\"",
    ];

    /// <summary>One or two mutations; a second one that cannot apply (the payload no longer decodes) is skipped.</summary>
    public string Mutate(string ucid)
    {
        var mutated = MutateOnce(ucid);
        if (random.Next(4) != 0) return mutated;
        try { return MutateOnce(mutated); }
        catch (Exception ex) when (ex is FormatException or System.Text.Json.JsonException or InvalidOperationException or ArgumentException or IndexOutOfRangeException) { return mutated; }
    }

    private string MutateOnce(string ucid) => random.Next(16) switch
    {
        0 => BitFlip(ucid),
        1 => ucid[..random.Next(ucid.Length)],
        2 => PaddingOrAlphabet(ucid),
        3 => Dots(ucid),
        4 => Claims(ucid, SwapClaims),
        5 => Claims(ucid, c => Set(c, Pick(ClaimNames), Pick(OtherValues))),
        6 => Claims(ucid, c => Set(c, Pick(["exp", "nbf", "iat"]), Pick(BoundaryNumbers))),
        7 => Claims(ucid, c => Set(c, Pick(ClaimNames.Append("nest").ToArray()), Nested(random.Next(1, 1200)))),
        8 => Claims(ucid, c => Set(c, Pick([Prefix + "userId", Prefix + "clientId", "aud", Prefix + "payload"]), Json(LongString()))),
        9 => Claims(ucid, c => c.ToJsonString()[..^1] + "," + Quote(Pick(ClaimNames)) + ":" + Pick(OtherValues.Concat(BoundaryNumbers).ToArray()) + "}"),
        10 => NonUtf8(ucid),
        11 => Claims(ucid, c => Set(c, Prefix + "userId", Json("fuzz-" + random.Next(1000)))),
        12 => Claims(ucid, c => { c.Remove(Pick(ClaimNames)); return c.ToJsonString(); }),
        13 => Claims(ucid, _ => Pick(["[]", "null", "1", "\"x\"", "", "{", "{}}", "{\"a\":1,}"])),
        14 => ucid + new string('A', random.Next(1, 9000)),
        _ => ucid,
    };

    private T Pick<T>(T[] values) => values[random.Next(values.Length)];

    private string BitFlip(string ucid)
    {
        var bytes = Encoding.UTF8.GetBytes(ucid);
        for (var i = random.Next(1, 4); i > 0; i--) bytes[random.Next(bytes.Length)] ^= (byte)(1 << random.Next(8));
        return Encoding.UTF8.GetString(bytes);
    }

    private string PaddingOrAlphabet(string ucid)
    {
        var parts = ucid.Split('.');
        var i = random.Next(parts.Length);
        parts[i] = random.Next(4) switch
        {
            0 => parts[i] + new string('=', random.Next(1, 4)),
            1 => parts[i].Replace('-', '+').Replace('_', '/'),
            2 => parts[i].Insert(random.Next(parts[i].Length), Pick([" ", "\t", "%3D", "\u00e9", "\0"])),
            _ => Convert.ToBase64String(Base64Url.DecodeFromChars(parts[i].Length % 4 == 1 ? parts[i][..^1] : parts[i])),
        };
        return string.Join('.', parts);
    }

    private string Dots(string ucid) => random.Next(4) switch
    {
        0 => ucid + ".",
        1 => ucid.Replace(".", "..", StringComparison.Ordinal),
        2 => ucid[..ucid.LastIndexOf('.')],
        _ => "." + ucid,
    };

    private string SwapClaims(JsonObject claims)
    {
        var names = claims.Select(p => p.Key).ToArray();
        string a = Pick(names), b = Pick(names);
        var (va, vb) = (claims[a]?.DeepClone(), claims[b]?.DeepClone());
        claims[a] = vb;
        claims[b] = va;
        return claims.ToJsonString();
    }

    private static string Set(JsonObject claims, string name, string rawJson)
    {
        claims.Remove(name);
        var json = claims.ToJsonString();
        return json.Length <= 2 ? "{" + Quote(name) + ":" + rawJson + "}" : json[..^1] + "," + Quote(name) + ":" + rawJson + "}";
    }

    private string Nested(int depth)
    {
        var (open, close) = random.Next(2) == 0 ? ("[", "]") : ("{\"a\":", "}");
        return string.Concat(Enumerable.Repeat(open, depth)) + "1" + string.Concat(Enumerable.Repeat(close, depth));
    }

    private string LongString() => string.Concat(Enumerable.Repeat(Pick(["a", "é", "{", "\"", "\\", "\u0001", "😀"]), random.Next(1, 3500)));

    private static string Json(string value) => System.Text.Json.JsonSerializer.Serialize(value);

    private static string Quote(string name) => "\"" + name + "\"";

    private string NonUtf8(string ucid)
    {
        var parts = ucid.Split('.');
        var payload = Base64Url.DecodeFromChars(parts[1]).ToList();
        payload.InsertRange(random.Next(payload.Count), Pick(new byte[][] { [0xC3, 0x28], [0xFF], [0xED, 0xA0, 0x80], [0xF8, 0x88, 0x80, 0x80, 0x80], [0x80] }));
        parts[1] = Base64Url.EncodeToString(payload.ToArray());
        return string.Join('.', parts);
    }

    /// <summary>Decodes the payload, lets <paramref name="change"/> rewrite it as JSON text, and re-encodes it (header and signature kept).</summary>
    private static string Claims(string ucid, Func<JsonObject, string> change)
    {
        var parts = ucid.Split('.');
        var claims = JsonNode.Parse(Base64Url.DecodeFromChars(parts[1])) as JsonObject ?? throw new FormatException("the payload is not a JSON object");
        parts[1] = Base64Url.EncodeToString(Encoding.UTF8.GetBytes(change(claims)));
        return string.Join('.', parts);
    }
}
