using System.Net.Http.Json;
using System.Text.Json.Nodes;
using EntitlementGateway.Emulator;

namespace EntitlementGateway.IntegrationTests.Infrastructure;

/// <summary>Test-side use of the emulator's own HTTP API: mint UCIDs, seed collections, read stats.</summary>
public sealed class StoreWorld(EmulatorServer emulator) : IDisposable
{
    private readonly HttpClient _http = emulator.CreateHttpsClient();

    public async Task<string> MintUcidAsync(string userId, object? options = null)
    {
        using var response = await _http.PostAsJsonAsync($"emulator/users/{userId}/collections-id", options ?? new { });
        response.EnsureSuccessStatusCode();
        var body = await response.Content.ReadFromJsonAsync<JsonObject>();
        return body!["userCollectionsId"]!.GetValue<string>();
    }

    /// <summary>A delegated Xbox authorization for the user, as a game would send it: <c>{ authorization, signature }</c>.</summary>
    public async Task<(string Authorization, string Signature)> MintXboxTokenAsync(string userId)
    {
        using var response = await _http.PostAsync($"emulator/users/{userId}/xbox-token", null);
        response.EnsureSuccessStatusCode();
        var body = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        return (body["authorization"]!.GetValue<string>(), body["signature"]!.GetValue<string>());
    }

    /// <summary>The user's active Game Pass subscriptions, by tier name (Ultimate, Essential, ...); other items stay.</summary>
    public async Task SeedGamePassAsync(string userId, params string[] tiers)
    {
        using var response = await _http.PutAsJsonAsync($"emulator/users/{userId}/game-pass", new { tiers });
        response.EnsureSuccessStatusCode();
    }

    /// <summary>Calls per Store operation (<c>stats.operations</c>).</summary>
    public async Task<long> OperationCallsAsync(string operation) =>
        (await StatsAsync())["operations"]?[operation]?.GetValue<long>() ?? 0;

    public async Task SeedAsync(string userId, params JsonObject[] items)
    {
        using var response = await _http.PutAsJsonAsync($"emulator/users/{userId}/entitlements", new JsonArray(items.Select(i => (JsonNode)i.DeepClone()).ToArray()));
        response.EnsureSuccessStatusCode();
    }

    /// <summary>The emulator's request audit (<c>GET /emulator/requests</c>): the last 500 Store requests, oldest first.</summary>
    public async Task<JsonArray> RequestsAsync() => (await _http.GetFromJsonAsync<JsonArray>("emulator/requests"))!;

    /// <summary>Every access token issued so far is refused by the Store endpoints from now on.</summary>
    public async Task RevokeTokensAsync()
    {
        using var response = await _http.PostAsync("emulator/tokens/revoke", null);
        response.EnsureSuccessStatusCode();
    }

    public async Task<JsonObject> StatsAsync() => (await _http.GetFromJsonAsync<JsonObject>("emulator/stats"))!;

    public async Task<long> QueriesAsync(string userId) =>
        (await StatsAsync())["queries"]?[userId]?.GetValue<long>() ?? 0;

    public async Task SetFaultsAsync(object faults)
    {
        using var response = await _http.PutAsJsonAsync("emulator/faults", faults);
        response.EnsureSuccessStatusCode();
    }

    public static JsonObject Item(string productId, string status = "Active", string skuId = "0010", string kind = "Durable",
        string acquisition = "Single", DateTimeOffset? start = null, DateTimeOffset? end = null, string[]? satisfiedBy = null,
        string? orderId = null) => new()
    {
        ["transactionId"] = orderId ?? Guid.NewGuid().ToString(),
        ["id"] = Guid.NewGuid().ToString("N"),
        ["productId"] = productId,
        ["skuId"] = skuId,
        ["productKind"] = kind,
        ["status"] = status,
        ["acquisitionType"] = acquisition,
        ["quantity"] = 1,
        ["startDate"] = (start ?? DateTimeOffset.UtcNow.AddDays(-30)).ToString("O"),
        ["endDate"] = (end ?? DateTimeOffset.MaxValue).ToString("O"),
        ["acquiredDate"] = DateTimeOffset.UtcNow.AddDays(-30).ToString("O"),
        ["satisfiedByProductIds"] = new JsonArray((satisfiedBy ?? []).Select(s => (JsonNode)s).ToArray()),
        ["trialData"] = new JsonObject { ["isTrial"] = false, ["isInTrialPeriod"] = false },
    };

    /// <summary>Queues a clawback event (<c>POST /emulator/clawback/events</c>); the emulator's answer holds the event.</summary>
    public async Task<JsonObject> EnqueueClawbackAsync(object clawback)
    {
        using var response = await _http.PostAsJsonAsync("emulator/clawback/events", clawback);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!;
    }

    /// <summary>Messages in the emulator's clawback queue and SAS URIs issued (<c>GET /emulator/clawback/queue</c>).</summary>
    public async Task<JsonObject> ClawbackQueueAsync() => (await _http.GetFromJsonAsync<JsonObject>("emulator/clawback/queue"))!;

    public void Dispose() => _http.Dispose();
}
