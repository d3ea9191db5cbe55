using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace EntitlementGateway.IntegrationTests.Security.Fuzz;

/// <summary>One generated request: what is sent, and the UCID inside it (when the body carries one as a string).</summary>
public sealed record FuzzCase(int Number, string Path, byte[] Body, string? ContentType, IReadOnlyList<(string Name, string Value)> Headers, string? Ucid)
{
    public override string ToString()
    {
        var body = Encoding.UTF8.GetString(Body);
        return $"case {Number}: POST {Path} content-type={ContentType ?? "(none)"} headers=[{string.Join(", ", Headers.Select(h => h.Name + ": " + Trim(h.Value)))}] body={Trim(body)}";
    }

    private static string Trim(string text) => text.Length <= 3000 ? text : text[..3000] + $"…({text.Length} chars)";
}

/// <summary>Builds hostile requests for the two endpoints that take a UCID, around well-formed ones.</summary>
public sealed class RequestFuzzer(Random random, IReadOnlyList<string> baseUcids)
{
    public const string QueryPath = "/v1/entitlements/query";
    public const string RenewPath = "/v1/user-collections-id/renew";

    private readonly UcidMutator _ucids = new(random);

    private static readonly string[] ProductIds = ["9N30KZZF4BR9", "9MXL21XPWWWK", "9n30kzzf4br9", "", "9N30KZZF4BR", "9N30KZZF4BR99", "9N30KZZF4BR!", "ÄN30KZZF4BR9"];
    private static readonly string[] SkuIds = ["0010", "10", "00100", "abcd", "", "٠٠١٠"];
    private static readonly string[] Kinds = ["Game", "durable", "Pass", "Unknown", "", "Game\0"];

    public FuzzCase Next(int number)
    {
        var renew = random.Next(5) == 0;
        var ucid = random.Next(10) == 0 ? Pick(baseUcids) : _ucids.Mutate(Pick(baseUcids));
        JsonNode? ucidNode = random.Next(20) == 0 ? Pick(new JsonNode?[] { null, 42, JsonNode.Parse("[]"), JsonNode.Parse("{}"), true }) : ucid;
        var body = new JsonObject { ["userCollectionsId"] = ucidNode };
        if (!renew) AddQueryFields(body);
        var text = body.ToJsonString();
        var bytes = random.Next(6) == 0 ? MutateText(text) : Encoding.UTF8.GetBytes(text);
        var contentType = ContentType();
        return new FuzzCase(number, renew ? RenewPath : QueryPath, bytes, contentType, Headers(), UcidIn(bytes, contentType));
    }

    /// <summary>The UCID a JSON reader finds in the body as sent (a text mutation may have changed it); null when none.</summary>
    private static string? UcidIn(byte[] body, string? contentType)
    {
        try
        {
            // ASP.NET honours a declared UTF-16 charset, so the test reads the body the same way.
            if (contentType?.Contains("utf-16", StringComparison.Ordinal) == true) body = Encoding.UTF8.GetBytes(Encoding.Unicode.GetString(body));
            return JsonNode.Parse(body) is JsonObject o && o["userCollectionsId"] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
        }
        catch (Exception ex) when (ex is JsonException or ArgumentException or InvalidOperationException)
        {
            return null;
        }
    }

    private T Pick<T>(IReadOnlyList<T> values) => values[random.Next(values.Count)];

    private void AddQueryFields(JsonObject body)
    {
        switch (random.Next(8))
        {
            case 0: break; // no products: refused (no default catalog)
            case 1: body["products"] = new JsonArray(); break;
            case 2: body["products"] = new JsonArray(Enumerable.Range(0, 101).Select(_ => (JsonNode)new JsonObject { ["productId"] = "9N30KZZF4BR9" }).ToArray()); break;
            case 3: body["products"] = Pick(new JsonNode?[] { null, 1, "9N30KZZF4BR9", JsonNode.Parse("{}"), JsonNode.Parse("[null]"), JsonNode.Parse("[1,\"a\",[]]") }); break;
            default:
                body["products"] = new JsonArray(Enumerable.Range(0, random.Next(1, 4)).Select(_ => Product()).ToArray());
                break;
        }
        if (random.Next(3) == 0)
            body["productTypes"] = random.Next(4) == 0
                ? Pick(new JsonNode?[] { null, "Game", 7, JsonNode.Parse("[null]"), JsonNode.Parse("[[\"Game\"]]") })
                : new JsonArray(Enumerable.Range(0, random.Next(1, 4)).Select(_ => (JsonNode)Pick(Kinds)).ToArray());
        if (random.Next(4) == 0) body["includeSatisfyingItems"] = Pick(new JsonNode?[] { true, false, null, "yes", 1, JsonNode.Parse("{}") });
        if (random.Next(10) == 0) body["unexpected"] = new string('x', random.Next(1, 2000));
    }

    private JsonNode Product()
    {
        var product = new JsonObject();
        if (random.Next(12) != 0)
            product["productId"] = random.Next(3) == 0 ? Pick(ProductIds) : random.Next(20) == 0 ? JsonValue.Create(12) : "9N30KZZF4BR9";
        if (random.Next(3) == 0) product["skuId"] = random.Next(10) == 0 ? JsonValue.Create(10) : Pick(SkuIds);
        return product;
    }

    private byte[] MutateText(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        switch (random.Next(8))
        {
            case 0: return bytes[..random.Next(bytes.Length)];
            case 1:
                for (var i = random.Next(1, 4); i > 0; i--) bytes[random.Next(bytes.Length)] ^= (byte)(1 << random.Next(8));
                return bytes;
            case 2: return Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("[", random.Next(10, 5000))));
            case 3: return Encoding.UTF8.GetBytes("{\"userCollectionsId\":" + string.Concat(Enumerable.Repeat("{\"a\":", 200)) + "1" + new string('}', 201));
            case 4: return Encoding.UTF8.GetBytes(Pick(new[] { "", "null", "[]", "\"x\"", "1", "{}", "{\"userCollectionsId\":\"a\",\"userCollectionsId\":\"b\"}" }));
            case 5: return Encoding.UTF8.GetBytes(text[..^1] + ",\"products\":" + new string('[', 70) + new string(']', 70) + "}");
            case 6: return [.. bytes, .. new byte[random.Next(60_000, 70_000)]];
            default: return Encoding.Unicode.GetBytes(text); // UTF-16 under a UTF-8 content type
        }
    }

    private string? ContentType() => random.Next(40) switch
    {
        0 => null,
        1 => "text/plain",
        2 => "application/json; charset=utf-16",
        3 => "application/xml",
        4 => "application/json; charset=\"",
        5 => "multipart/form-data; boundary=x",
        _ => "application/json",
    };

    private List<(string, string)> Headers()
    {
        var headers = new List<(string, string)>();
        if (random.Next(5) == 0) headers.Add(("Cache-Control", Pick(new[] { "no-cache", "max-age=0", "max-age=-1", ",,,", "no-cache=\"", new string('a', 3000) })));
        if (random.Next(8) == 0) headers.Add(("Pragma", Pick(new[] { "no-cache", "", "\u00ff" })));
        if (random.Next(8) == 0) headers.Add(("Authorization", Pick(new[] { "Bearer", "Bearer x.y.z", "Basic Zm9v", "Bearer " + new string('a', 5000) })));
        if (random.Next(8) == 0) headers.Add(("X-Forwarded-For", Pick(new[] { "1.2.3.4", "::1", "not-an-ip", "1.2.3.4, 5.6.7.8", "[::1]:80", "999.1.1.1" })));
        if (random.Next(20) == 0) headers.Add(("X-Padding", new string('p', random.Next(1, 20_000))));
        return headers;
    }
}
