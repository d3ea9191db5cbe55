using System.Net.Http.Json;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Text.Json.Nodes;
using EntitlementGateway.Emulator;
using EntitlementGateway.Store;

namespace EntitlementGateway.Benchmarks;

/// <summary>The players of the <c>http</c> benchmark and the bodies sent for them: each owns two durables, asked for by one query.</summary>
internal static class HttpWorld
{
    public static readonly string[] Products = ["9N30KZZF4BR9", "9MXL21XPWWWK"];
    public const string StartDate = "2024-01-01T00:00:00Z";
    public const string EndDate = "9999-12-31T23:59:59Z";

    /// <summary>Seeds <paramref name="players"/> players in the emulator whose admin endpoints are at <paramref name="admin"/>
    /// (<c>/emulator/users/...</c>) and mints a UCID for each, as XStoreGetUserCollectionsIdAsync would give the game.</summary>
    public static async Task<string[]> SeedPlayersAsync(HttpClient admin, string prefix, int players)
    {
        var items = new JsonArray(Products.Select(p => (JsonNode)Item(p)).ToArray()).ToJsonString();
        var ucids = new string[players];
        await Parallel.ForAsync(0, players, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, ct) =>
        {
            var user = $"{prefix}-{i}";
            using var seeded = await admin.PutAsync($"/emulator/users/{user}/entitlements",
                new StringContent(items, System.Text.Encoding.UTF8, "application/json"), ct);
            seeded.EnsureSuccessStatusCode();
            using var minted = await admin.PostAsync($"/emulator/users/{user}/collections-id", null, ct);
            minted.EnsureSuccessStatusCode();
            var body = await minted.Content.ReadFromJsonAsync<JsonObject>(ct);
            ucids[i] = body!["userCollectionsId"]!.GetValue<string>();
        });
        return ucids;
    }

    /// <summary>A game client's query for the two products.</summary>
    public static string GatewayBody(string ucid) => new JsonObject
    {
        ["userCollectionsId"] = ucid,
        ["products"] = new JsonArray(Products.Select(p => (JsonNode)new JsonObject { ["productId"] = p }).ToArray()),
    }.ToJsonString();

    /// <summary>The very body the gateway sends the Store for <see cref="GatewayBody"/>.</summary>
    public static string StoreBody(string ucid) => JsonSerializer.Serialize(new B2bLicensePreviewRequest
    {
        Beneficiaries = [new StoreBeneficiary("b2b", ucid, "")],
        ProductSkuIds = Products.Select(p => new StoreProductSkuId(p, null)).ToList(),
    }, StoreJsonContext.Default.B2bLicensePreviewRequest);

    /// <summary>A service token from the emulator's token endpoint (client credentials), as MSAL gets it for the gateway.</summary>
    public static async Task<string> ServiceTokenAsync(Uri https, X509Certificate2 certificate, EmulatorOptions options)
    {
        using var client = new HttpClient(EmulatorTls.CreateTrustingHandler(certificate)) { BaseAddress = https };
        using var response = await client.PostAsync("/emulator/oauth2/v2.0/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials",
            ["client_id"] = options.ClientId,
            ["client_secret"] = options.ClientSecret,
            ["scope"] = new StoreOptions().ServiceScope,
        }));
        response.EnsureSuccessStatusCode();
        var body = await response.Content.ReadFromJsonAsync<JsonObject>();
        return body!["access_token"]!.GetValue<string>();
    }

    private static JsonObject Item(string productId) => new()
    {
        ["productId"] = productId, ["skuId"] = "0010", ["productKind"] = "Durable", ["status"] = "Active",
        ["acquisitionType"] = "Single", ["quantity"] = 1, ["startDate"] = StartDate, ["endDate"] = EndDate,
    };
}
