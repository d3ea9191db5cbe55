using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using EntitlementGateway.IntegrationTests.Infrastructure;
using static EntitlementGateway.IntegrationTests.Infrastructure.GatewayQueries;
using static EntitlementGateway.IntegrationTests.Infrastructure.StoreWorld;

namespace EntitlementGateway.IntegrationTests.Security;

/// <summary>No UCID, token, ticket, client secret or Authorization value ends up in logs or problem answers.</summary>
public sealed partial class SecretsNeverLoggedTests : OwnEmulatorGatewayTests
{
    [Fact]
    public async Task AFullRun_LeaksNoUcidTokenTicketSecretOrAuthorizationValue_InLogsOrProblems()
    {
        using var idp = new TestTokens();
        await using var gateway = PlayerBoundGateway(idp);
        using var client = gateway.CreateClient();
        var player = idp.Create("game-api", new Dictionary<string, object> { ["sub"] = "leak-player" });
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", player);
        var ucid = await World.MintUcidAsync("leak-player", new { lifetimeSeconds = 3600 });
        var expired = await World.MintUcidAsync("leak-player", new { lifetimeSeconds = -5 });
        var foreign = await World.MintUcidAsync("someone-else");
        await World.SeedAsync("leak-player", Item("9N30KZZF4BR9"));
        var problems = new List<string>();

        var ticket = (await client.GetFromJsonAsync<JsonObject>("/v1/collections-ticket"))!["serviceTicket"]!.GetValue<string>();
        (await QueryAsync(client, ucid, playerToken: player)).EnsureSuccessStatusCode();
        foreach (var bad in new[] { expired, foreign, ForgedUcid.For("leak-player", Emulator.Options.ClientId), ucid[..^3] + "abc" })
            problems.Add(await (await QueryAsync(client, bad, playerToken: player)).Content.ReadAsStringAsync());
        var renewed = await client.PostAsJsonAsync("/v1/user-collections-id/renew", new { userCollectionsId = ucid });
        renewed.EnsureSuccessStatusCode();
        problems.Add(await (await client.PostAsJsonAsync("/v1/user-collections-id/renew", new { userCollectionsId = expired })).Content.ReadAsStringAsync());
        await World.SetFaultsAsync(new { failNext = 1, failureStatus = 500, mode = "Status" });
        problems.Add(await (await QueryAsync(client, ucid, playerToken: player)).Content.ReadAsStringAsync());

        var logs = string.Join("\n", gateway.Logs.Select(l => l.Message + " " + l.State));
        Assert.NotEmpty(logs);
        foreach (var text in problems.Append(logs))
        {
            Assert.DoesNotMatch(JwtPattern(), text);
            Assert.DoesNotContain(Emulator.Options.ClientSecret, text);
            foreach (var secret in new[] { ucid, expired, foreign, ticket, player })
                Assert.DoesNotContain(secret.Split('.')[1][..40], text);
        }
    }

    [GeneratedRegex("eyJ[A-Za-z0-9_-]{8,}\\.eyJ")]
    private static partial Regex JwtPattern();
}
