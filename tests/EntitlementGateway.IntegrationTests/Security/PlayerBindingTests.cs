using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using EntitlementGateway.IntegrationTests.Infrastructure;
using static EntitlementGateway.IntegrationTests.Infrastructure.GatewayQueries;

namespace EntitlementGateway.IntegrationTests.Security;

/// <summary>
/// A modified game client mints real, Store-signed UCIDs for its own account but with a victim's id as publisherUserId
/// (or a new id each time). The Store accepts them, so only player binding stops them from spending the victim's budget.
/// </summary>
public sealed class PlayerBindingTests : OwnEmulatorGatewayTests
{
    private GatewayApplication Gateway(TestTokens? idp) => GatewayApplication.Live(Emulator, idp is null
        ? new Dictionary<string, string?> { ["Ops:Enabled"] = "true", ["Ops:ApiKey"] = OpsKey, ["PlayerAuth:TrustGameClient"] = "true" }
        : new Dictionary<string, string?>
        {
            ["Ops:Enabled"] = "true",
            ["Ops:ApiKey"] = OpsKey,
            ["PlayerAuth:Enabled"] = "true",
            ["PlayerAuth:Issuer"] = TestTokens.Issuer,
            ["PlayerAuth:Audience"] = "game-api",
            ["PlayerAuth:SigningKeyPem"] = idp.PublicKeyPem,
        });

    private static Task<HttpResponseMessage> QueryAsync(HttpClient client, string ucid, string? playerToken) =>
        GatewayQueries.QueryAsync(client, ucid, fresh: true, playerToken: playerToken);

    private static async Task<int> UsedAsync(HttpClient client, string key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/ops/budgets/{key}");
        request.Headers.Add("X-Api-Key", OpsKey);
        using var response = await client.SendAsync(request);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!["used"]!.GetValue<int>();
    }

    [Fact]
    public async Task WithBinding_UcidsCarryingTheVictimsOrRotatingIds_AreRefused_AndTheVictimsBudgetIsUntouched()
    {
        using var idp = new TestTokens();
        await using var gateway = Gateway(idp);
        using var client = gateway.CreateClient();
        var mallory = idp.Create("game-api", new Dictionary<string, object> { ["sub"] = "mallory" });
        var victim = idp.Create("game-api", new Dictionary<string, object> { ["sub"] = "victim" });

        for (var i = 0; i < 5; i++)
        {
            using var asVictim = await QueryAsync(client, await World.MintUcidAsync("victim"), mallory);
            await AssertProblemAsync(asVictim, HttpStatusCode.Forbidden, "player_mismatch");
            using var rotated = await QueryAsync(client, await World.MintUcidAsync($"rotated-{i}"), mallory);
            await AssertProblemAsync(rotated, HttpStatusCode.Forbidden, "player_mismatch");
        }

        Assert.Equal(0, await UsedAsync(client, "player-victim"));
        Assert.Equal(0, await UsedAsync(client, "player-mallory"));
        Assert.Equal(0, await UsedAsync(client, "user-victim"));
        Assert.Empty(Emulator.State.QueriesByUser);
        // The victim's own session still has its whole budget.
        using var own = await QueryAsync(client, await World.MintUcidAsync("victim"), victim);
        Assert.Equal(HttpStatusCode.OK, own.StatusCode);
        Assert.Equal(1, await UsedAsync(client, "player-victim"));
    }

    [Fact]
    public async Task WithTheClientTrusted_TheSameUcidsSpendTheVictimsBudget_WhichIsWhatTheOptOutAccepts()
    {
        await using var gateway = Gateway(idp: null);
        using var client = gateway.CreateClient();

        for (var i = 0; i < 3; i++)
        {
            using var asVictim = await QueryAsync(client, await World.MintUcidAsync("victim"), playerToken: null);
            Assert.Equal(HttpStatusCode.OK, asVictim.StatusCode);
        }

        Assert.Equal(3, await UsedAsync(client, "user-victim"));
        Assert.Contains(gateway.Logs, l => l.Level == Microsoft.Extensions.Logging.LogLevel.Warning && l.Message.Contains("PlayerAuth:TrustGameClient=true"));
    }
}
