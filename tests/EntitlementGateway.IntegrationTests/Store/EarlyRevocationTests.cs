using System.Net;
using EntitlementGateway.IntegrationTests.Infrastructure;
using static EntitlementGateway.IntegrationTests.Infrastructure.GatewayQueries;
using static EntitlementGateway.IntegrationTests.Infrastructure.StoreWorld;

namespace EntitlementGateway.IntegrationTests.Store;

/// <summary>
/// The Store stops taking the gateway's service token while it is still young (revoked, keys rotated): once players it
/// had answered are refused together, the gateway asks for a new token once instead of failing everyone until the
/// token counts as old.
/// </summary>
public sealed class EarlyRevocationTests : OwnEmulatorGatewayTests
{
    /// <summary>Suspects its credentials after two players it had answered are refused; no retries, no cache.</summary>
    private GatewayApplication SuspiciousGateway() => Gateway(new()
    {
        ["Store:SuspectCredentialsAfter"] = "2",
        ["Resilience:MaxRetries"] = "0",
        ["Cache:Enabled"] = "false",
    });

    /// <summary>A UCID of a new player the gateway has had answered once.</summary>
    private async Task<string> AnsweredPlayerAsync(HttpClient client)
    {
        var user = NewUser();
        await World.SeedAsync(user, Item("9N30KZZF4BR9"));
        var ucid = await World.MintUcidAsync(user);
        using var first = await QueryAsync(client, ucid);
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        return ucid;
    }

    [Fact]
    public async Task ReturningPlayersRefused_WithAYoungToken_GetOneNewToken_ThenAnswers()
    {
        await using var gateway = SuspiciousGateway();
        using var client = gateway.CreateClient();
        var players = new List<string>();
        for (var i = 0; i < 4; i++) players.Add(await AnsweredPlayerAsync(client));
        await World.RevokeTokensAsync();
        var tokens = Emulator.State.TokensIssued;

        // A young token's 401 is the UCID's until several players it had answered are refused: then it is an outage.
        using (var blamed = await QueryAsync(client, players[0])) await AssertProblemAsync(blamed, HttpStatusCode.BadRequest, "invalid_user_collections_id");
        using (var suspect = await QueryAsync(client, players[1])) await AssertProblemAsync(suspect, HttpStatusCode.ServiceUnavailable, "upstream_unavailable");

        // The token in use predates the suspicion: one new token, and the Store answers again.
        using (var answered = await QueryAsync(client, players[2])) Assert.Equal(HttpStatusCode.OK, answered.StatusCode);
        using (var next = await QueryAsync(client, players[3])) Assert.Equal(HttpStatusCode.OK, next.StatusCode);
        Assert.Equal(tokens + 1, Emulator.State.TokensIssued);
    }

    [Fact]
    public async Task CredentialsRefusedForGood_AreRenewedOncePerSuspicion_NotOnEveryCall()
    {
        await using var gateway = SuspiciousGateway();
        using var client = gateway.CreateClient();
        var players = new List<string>();
        for (var i = 0; i < 6; i++) players.Add(await AnsweredPlayerAsync(client));
        await World.SetFaultsAsync(new { rejectServiceTokens = true });
        var tokens = Emulator.State.TokensIssued;

        foreach (var ucid in players)
        {
            using var refused = await QueryAsync(client, ucid);
            Assert.True(refused.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.ServiceUnavailable, refused.StatusCode.ToString());
        }

        Assert.Equal(tokens + 1, Emulator.State.TokensIssued);
    }
}
