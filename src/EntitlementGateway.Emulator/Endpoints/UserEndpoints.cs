using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace EntitlementGateway.Emulator.Endpoints;

/// <summary>Test/dev surface: mint UCIDs (what XStoreGetUserCollectionsIdAsync gives a client) and seed collections.</summary>
internal static class UserEndpoints
{
    public static void Map(IEndpointRouteBuilder group)
    {
        group.MapPost("/users/{userId}/collections-id", MintAsync);
        group.MapPut("/users/{userId}/entitlements", SeedAsync);
        group.MapPost("/users/{userId}/xbox-token", (string userId, EmulatorState state) =>
        {
            var (authorization, signature) = state.MintXboxToken(userId);
            return Results.Json(new XboxTokenResponse(authorization, signature), EmulatorJson.Default.XboxTokenResponse);
        });
        group.MapPut("/users/{userId}/game-pass", SeedGamePassAsync);
        group.MapGet("/users/{userId}/entitlements", (string userId, EmulatorState state) =>
            Results.Json(new JsonArray(state.GetEntitlements(userId).Select(JsonNode? (i) => i).ToArray()), EmulatorJson.Default.JsonArray));
        group.MapGet("/users/{userId}/calls", (string userId, EmulatorState state) =>
            Results.Json(
                new CallsResponse(userId, state.GetAdmittedCalls(userId)
                    .Select(t => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture)).ToArray()),
                EmulatorJson.Default.CallsResponse));
    }

    private static async Task<IResult> MintAsync(string userId, HttpContext ctx, EmulatorState state)
    {
        UcidMintRequest? request = null;
        // The body is optional: an empty POST mints an ordinary 30-day key.
        if (ctx.Request.ContentLength is > 0 || ctx.Request.Headers.TransferEncoding.Count > 0)
        {
            var (parsed, bad) = await StoreHttp.ReadJsonAsync(ctx, EmulatorJson.Default.UcidMintRequest);
            if (parsed is null) return bad!;
            request = parsed;
        }
        return Results.Json(new UcidResponse(state.MintUserCollectionsId(userId, request)), EmulatorJson.Default.UcidResponse);
    }

    /// <summary>Replaces the user's Game Pass items with one active subscription per tier named; other items stay.</summary>
    private static async Task<IResult> SeedGamePassAsync(string userId, HttpContext ctx, EmulatorState state)
    {
        var (request, bad) = await StoreHttp.ReadJsonAsync(ctx, EmulatorJson.Default.GamePassSeedRequest);
        if (request is null) return bad!;
        var ids = new List<string>();
        foreach (var tier in request.Tiers ?? [])
        {
            if (!GamePassTiers.ProductIds.TryGetValue(tier ?? "", out var id))
                return StoreHttp.Error(400, "BadRequest", $"tiers: '{tier}' is none of {string.Join(", ", GamePassTiers.ProductIds.Keys)}.");
            ids.Add(id);
        }
        var tierIds = GamePassTiers.ProductIds.Values.ToHashSet(StringComparer.OrdinalIgnoreCase);
        var kept = state.GetEntitlements(userId).Where(i => !(i["productId"] is JsonValue v && v.TryGetValue<string>(out var p) && tierIds.Contains(p)));
        var now = state.Time.GetUtcNow();
        state.SeedEntitlements(userId, kept.Concat(ids.Select(id => GamePassTiers.Item(id, now))).ToList());
        return Results.NoContent();
    }

    private static async Task<IResult> SeedAsync(string userId, HttpContext ctx, EmulatorState state)
    {
        var (items, bad) = await StoreHttp.ReadJsonAsync(ctx, EmulatorJson.Default.JsonArray);
        if (items is null) return bad!;
        if (items.Any(i => i is not JsonObject))
            return StoreHttp.Error(400, "BadRequest", "Every entitlement must be a JSON object in the Store's v8 item format.");
        state.SeedEntitlements(userId, items.Cast<JsonObject>());
        return Results.NoContent();
    }
}
