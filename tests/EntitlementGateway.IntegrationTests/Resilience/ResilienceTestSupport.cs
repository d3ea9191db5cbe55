using System.Net.Http.Json;
using System.Text.Json.Nodes;
using EntitlementGateway.Budget;
using EntitlementGateway.Emulator;
using EntitlementGateway.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace EntitlementGateway.IntegrationTests.Resilience;

/// <summary>Queries, players and audits shared by the resilience tests.</summary>
internal static class Resilient
{
    public static readonly object[] OneProduct = [new { productId = "9N30KZZF4BR9" }];

    public static string NewUser() => "player-" + Guid.NewGuid().ToString("N")[..10];

    public static async Task<HttpResponseMessage> QueryAsync(HttpClient client, string ucid, object[]? products = null,
        bool fresh = false, string[]? productTypes = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/entitlements/query")
        {
            Content = JsonContent.Create(new { userCollectionsId = ucid, products = products ?? OneProduct, productTypes }),
        };
        if (fresh) request.Headers.CacheControl = new System.Net.Http.Headers.CacheControlHeaderValue { NoCache = true };
        return await client.SendAsync(request);
    }

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

/// <summary>A gateway and its own emulator (faults are global to an emulator), configured per test class.</summary>
public abstract class ConfiguredGatewayFixture : LiveGatewayFixture
{
    protected override EmulatorOptions EmulatorOptions => new();
}
