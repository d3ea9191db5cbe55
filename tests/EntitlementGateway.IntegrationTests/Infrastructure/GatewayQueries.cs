using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using EntitlementGateway.Budget;
using EntitlementGateway.Emulator;
using Microsoft.Extensions.DependencyInjection;

namespace EntitlementGateway.IntegrationTests.Infrastructure;

/// <summary>The one way tests ask the gateway <c>POST /v1/entitlements/query</c>, and read and check what it answers.</summary>
internal static class GatewayQueries
{
    public static readonly object[] OneProduct = [new { productId = "9N30KZZF4BR9" }];

    public static string NewUser() => "player-" + Guid.NewGuid().ToString("N")[..10];

    /// <summary>The products array for these product ids.</summary>
    public static object[] Products(params string[] productIds) => productIds.Select(object (p) => new { productId = p }).ToArray();

    /// <summary>
    /// Queries for <paramref name="ucid"/> (one product unless <paramref name="products"/> says otherwise);
    /// <paramref name="fresh"/> sends <c>Cache-Control: no-cache</c>, <paramref name="playerToken"/> a bearer token.
    /// </summary>
    public static async Task<HttpResponseMessage> QueryAsync(HttpClient client, string ucid, object[]? products = null,
        bool fresh = false, string[]? productTypes = null, string? playerToken = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/entitlements/query")
        {
            Content = JsonContent.Create(new { userCollectionsId = ucid, products = products ?? OneProduct, productTypes }),
        };
        if (fresh) request.Headers.CacheControl = new CacheControlHeaderValue { NoCache = true };
        if (playerToken is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", playerToken);
        return await client.SendAsync(request);
    }

    /// <summary>Asks <c>POST /v1/consumables/consume</c> with a UCID (or, given <paramref name="xbox"/>, the player's Xbox authorization):
    /// <paramref name="quantity"/> of <paramref name="productId"/> under <paramref name="trackingId"/>.</summary>
    public static async Task<HttpResponseMessage> ConsumeAsync(HttpClient client, string? ucid, string productId, int quantity, Guid trackingId,
        (string Authorization, string Signature)? xbox = null) =>
        await SendAsync(client, "/v1/consumables/consume",
            new { userCollectionsId = ucid, xbox = xbox is { } x ? new { authorization = x.Authorization, signature = x.Signature } : null, productId, quantity, trackingId },
            false, null);

    /// <summary>Queries with the player's delegated Xbox authorization instead of a UCID.</summary>
    public static async Task<HttpResponseMessage> XboxQueryAsync(HttpClient client, (string Authorization, string Signature) xbox,
        object[]? products = null, bool fresh = false, string? playerToken = null) =>
        await SendAsync(client, "/v1/entitlements/query",
            new { xbox = new { authorization = xbox.Authorization, signature = xbox.Signature }, products = products ?? OneProduct }, fresh, playerToken);

    /// <summary>Asks <c>POST /v1/subscriptions/game-pass</c> with a UCID or an Xbox authorization.</summary>
    public static async Task<HttpResponseMessage> GamePassAsync(HttpClient client, string? ucid = null,
        (string Authorization, string Signature)? xbox = null, bool fresh = false, string? playerToken = null) =>
        await SendAsync(client, "/v1/subscriptions/game-pass",
            new { userCollectionsId = ucid, xbox = xbox is { } x ? new { authorization = x.Authorization, signature = x.Signature } : null },
            fresh, playerToken);

    private static async Task<HttpResponseMessage> SendAsync(HttpClient client, string path, object body, bool fresh, string? playerToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body) };
        if (fresh) request.Headers.CacheControl = new CacheControlHeaderValue { NoCache = true };
        if (playerToken is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", playerToken);
        return await client.SendAsync(request);
    }

    /// <summary>Asserts a problem+json answer with this status and code, and a detail that says what is wrong.</summary>
    public static async Task<JsonObject> AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string code)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal(code, problem["code"]!.GetValue<string>());
        Assert.False(string.IsNullOrWhiteSpace(problem["detail"]?.GetValue<string>()), "a problem must say what is wrong");
        return problem;
    }

    /// <summary>The status of readiness's <c>store-credentials</c> check.</summary>
    public static async Task<string> CredentialsReadinessAsync(HttpClient client) =>
        (await client.GetFromJsonAsync<JsonObject>("/health/ready"))!["checks"]!["store-credentials"]!["status"]!.GetValue<string>();

    public static async Task<JsonObject> BodyAsync(HttpResponseMessage response)
    {
        await response.Content.LoadIntoBufferAsync(); // so a test may read it more than once
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();
    }

    public static async Task<string> ServedFromAsync(HttpResponseMessage response) =>
        (await BodyAsync(response))["servedFrom"]!.GetValue<string>();

    /// <summary>Units the gateway's budget holds for the player now (every attempt takes one).</summary>
    public static async Task<int> UnitsUsedAsync(GatewayApplication gateway, string user) =>
        (await gateway.Services.GetRequiredService<IUserBudget>().GetAsync("user-" + user)).Used;

    /// <summary>Every call that reached the emulator's query endpoint for anyone: faulted ones and admitted ones.</summary>
    public static long StoreCalls(EmulatorServer emulator) =>
        emulator.State.FaultsInjected + emulator.State.QueriesByUser.Values.Sum();
}
