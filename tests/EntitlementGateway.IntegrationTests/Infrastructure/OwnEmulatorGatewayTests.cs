using System.Net.Http.Json;
using System.Text.Json.Nodes;
using EntitlementGateway.Emulator;

namespace EntitlementGateway.IntegrationTests.Infrastructure;

/// <summary>
/// Each test gets its own emulator and builds its own gateway over it, with ops on (<see cref="OpsKey"/>) and any
/// further settings it asks for.
/// </summary>
public abstract class OwnEmulatorGatewayTests : IAsyncLifetime
{
    protected const string OpsKey = "ops-key-0123456789-0123456789-0123456789";

    protected EmulatorServer Emulator { get; private set; } = null!;

    protected StoreWorld World { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Emulator = await EmulatorServer.StartAsync(new EmulatorOptions());
        World = new StoreWorld(Emulator);
    }

    public async Task DisposeAsync()
    {
        World.Dispose();
        await Emulator.DisposeAsync();
    }

    protected GatewayApplication Gateway(Dictionary<string, string?>? extra = null)
    {
        var settings = new Dictionary<string, string?> { ["Ops:Enabled"] = "true", ["Ops:ApiKey"] = OpsKey };
        foreach (var (k, v) in extra ?? []) settings[k] = v;
        return GatewayApplication.Live(Emulator, settings);
    }

    /// <summary>Player binding on, trusting <paramref name="idp"/>'s key for audience "game-api".</summary>
    protected GatewayApplication PlayerBoundGateway(TestTokens idp, string playerIdClaim = "sub") => Gateway(new()
    {
        ["PlayerAuth:Enabled"] = "true",
        ["PlayerAuth:Issuer"] = TestTokens.Issuer,
        ["PlayerAuth:Audience"] = "game-api",
        ["PlayerAuth:SigningKeyPem"] = idp.PublicKeyPem,
        ["PlayerAuth:PlayerIdClaim"] = playerIdClaim,
    });

    /// <summary>What <c>GET /ops/budgets/{key}</c> answers, asked with the ops key.</summary>
    protected static async Task<JsonObject> BudgetAsync(HttpClient client, string key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/ops/budgets/{key}");
        request.Headers.Add("X-Api-Key", OpsKey);
        using var response = await client.SendAsync(request);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!;
    }
}
