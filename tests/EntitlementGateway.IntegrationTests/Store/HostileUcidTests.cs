using System.Buffers.Text;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using EntitlementGateway.Emulator;
using EntitlementGateway.IntegrationTests.Infrastructure;
using static EntitlementGateway.IntegrationTests.Infrastructure.GatewayQueries;

namespace EntitlementGateway.IntegrationTests.Store;

/// <summary>A new user's first try at a hostile UCID: a payload whose numbers .NET cannot turn into a date.</summary>
public sealed class HostileUcidTests : IAsyncLifetime
{
    private EmulatorServer _emulator = null!;

    public async Task InitializeAsync() => _emulator = await EmulatorServer.StartAsync(new EmulatorOptions());

    public async Task DisposeAsync() => await _emulator.DisposeAsync();

    [Theory]
    [InlineData("/v1/entitlements/query", "99999999999999")]
    [InlineData("/v1/user-collections-id/renew", "99999999999999")]
    [InlineData("/v1/entitlements/query", "-99999999999999")]
    [InlineData("/v1/user-collections-id/renew", "1e400")]
    public async Task AnExpOutsideTheDateRange_Answers400NamingTheClaim_NeverA500(string path, string exp)
    {
        await using var gateway = GatewayApplication.Live(_emulator);
        using var client = gateway.CreateClient();
        var forged = ForgedUcid.For("exp-player", _emulator.Options.ClientId).Split('.');
        var claims = JsonNode.Parse(Base64Url.DecodeFromChars(forged[1]))!.AsObject();
        claims.Remove("exp");
        var payload = claims.ToJsonString()[..^1] + ",\"exp\":" + exp + "}";
        var ucid = $"{forged[0]}.{Base64Url.EncodeToString(Encoding.UTF8.GetBytes(payload))}.{forged[2]}";
        var body = new JsonObject { ["userCollectionsId"] = ucid, ["products"] = new JsonArray(new JsonObject { ["productId"] = "9N30KZZF4BR9" }) };

        using var response = await client.PostAsync(path, new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"));

        var problem = await AssertProblemAsync(response, HttpStatusCode.BadRequest, "invalid_user_collections_id");
        Assert.Contains("'exp'", problem["detail"]!.GetValue<string>());
    }
}
