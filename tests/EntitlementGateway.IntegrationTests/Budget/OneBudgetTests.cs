using System.Net;
using EntitlementGateway.IntegrationTests.Infrastructure;
using static EntitlementGateway.IntegrationTests.Infrastructure.GatewayQueries;
using static EntitlementGateway.IntegrationTests.Infrastructure.StoreWorld;

namespace EntitlementGateway.IntegrationTests.Budget;

/// <summary>Every Store call the gateway makes for a player takes a unit from that player's one budget, whatever the endpoint or credential.</summary>
public sealed class OneBudgetTests : OwnEmulatorGatewayTests
{
    [Fact]
    public async Task APlayerMixingQueriesGamePassAndXboxCalls_NeverExceedsTheOneBudget_AtTheStore()
    {
        const int limit = 7;
        using var idp = new TestTokens();
        var settings = new Dictionary<string, string?>
        {
            ["PlayerAuth:Enabled"] = "true",
            ["PlayerAuth:Issuer"] = TestTokens.Issuer,
            ["PlayerAuth:Audience"] = "game-api",
            ["PlayerAuth:SigningKeyPem"] = idp.PublicKeyPem,
            ["Budget:Limit"] = limit.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        await using var gateway = Gateway(settings);
        using var client = gateway.CreateClient();
        var player = NewUser();
        var token = idp.Create("game-api", new Dictionary<string, object> { ["sub"] = player });
        await World.SeedAsync(player, Item("9N30KZZF4BR9"));
        await World.SeedGamePassAsync(player, "Ultimate");
        var ucid = await World.MintUcidAsync(player);
        var xbox = await World.MintXboxTokenAsync(player);

        Func<Task<HttpResponseMessage>>[] calls =
        [
            () => QueryAsync(client, ucid, fresh: true, playerToken: token),
            () => GamePassAsync(client, ucid, fresh: true, playerToken: token),
            () => XboxQueryAsync(client, xbox, fresh: true, playerToken: token),
            () => GamePassAsync(client, xbox: xbox, fresh: true, playerToken: token),
        ];
        var fromStore = 0;
        for (var i = 0; i < limit * 2; i++)
        {
            using var response = await calls[i % calls.Length]();
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            // Once the budget is spent, the last answers stand in (stale), whatever kind of call asks.
            if (await ServedFromAsync(response) == "upstream") fromStore++;
            else Assert.StartsWith("\"upstream\";r=0;", response.Headers.GetValues("RateLimit").Single());
        }
        using (var refused = await QueryAsync(client, ucid, Products("9MXL21XPWWWK"), fresh: true, playerToken: token))
        {
            await AssertProblemAsync(refused, HttpStatusCode.TooManyRequests, "budget_exhausted");
            Assert.StartsWith("\"upstream\";r=0;", refused.Headers.GetValues("RateLimit").Single());
            Assert.Equal($"\"upstream\";q={limit};w=300", refused.Headers.GetValues("RateLimit-Policy").Single());
        }

        // Each answer took one Store call here (one page each): every kind of call drew on the one budget.
        Assert.Equal(limit, fromStore);
        Assert.Equal(limit, Emulator.State.QueriesByUser[player]);
        Assert.True(Emulator.State.MaxCallsInAnyWindow(player) <= limit);
        Assert.Equal(0, Emulator.State.RateLimitedCount);
        Assert.True(Emulator.State.DelegatedCallsByUser[player] >= 2, "the Xbox calls reached the Store as the same player");
        Assert.Equal(limit, (await BudgetAsync(client, "player-" + player))["used"]!.GetValue<int>());
    }
}
