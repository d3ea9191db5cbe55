using System.Net;
using EntitlementGateway.IntegrationTests.Infrastructure;
using static EntitlementGateway.IntegrationTests.Infrastructure.GatewayQueries;

namespace EntitlementGateway.IntegrationTests.Security;

/// <summary>Player binding by token: matching, mismatching, missing, expired and wrong-audience player tokens.</summary>
public sealed class PlayerTokenTests : OwnEmulatorGatewayTests
{
    [Fact]
    public async Task PlayerBinding_MatchingMismatchingMissingAndExpiredTokens()
    {
        using var idp = new TestTokens();
        await using var gateway = PlayerBoundGateway(idp, playerIdClaim: "player_id");
        using var client = gateway.CreateClient();
        var ucid = await World.MintUcidAsync("alice");
        string Token(string player, TimeSpan? lifetime = null, DateTime? nbf = null) =>
            idp.Create("game-api", new Dictionary<string, object> { ["player_id"] = player }, lifetime, nbf);

        using (var matching = await QueryAsync(client, ucid, playerToken: Token("alice")))
            Assert.Equal(HttpStatusCode.OK, matching.StatusCode);
        Assert.Equal(1, (await BudgetAsync(client, "player-alice"))["used"]!.GetValue<int>());

        using (var mismatching = await QueryAsync(client, ucid, playerToken: Token("mallory")))
            await AssertProblemAsync(mismatching, HttpStatusCode.Forbidden, "player_mismatch");
        using (var missing = await QueryAsync(client, ucid))
            await AssertProblemAsync(missing, HttpStatusCode.Unauthorized, "unauthorized");
        using (var expired = await QueryAsync(client, ucid, playerToken: Token("alice", TimeSpan.FromMinutes(-10), DateTime.UtcNow.AddMinutes(-30))))
            await AssertProblemAsync(expired, HttpStatusCode.Unauthorized, "unauthorized");
        using (var wrongAudience = await QueryAsync(client, ucid, playerToken: idp.Create("other-api", new Dictionary<string, object> { ["player_id"] = "alice" })))
            await AssertProblemAsync(wrongAudience, HttpStatusCode.Unauthorized, "unauthorized");

        Assert.Equal(1, await World.QueriesAsync("alice"));
    }
}
