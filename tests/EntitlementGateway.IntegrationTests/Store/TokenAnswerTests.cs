using System.Net;
using System.Net.Http.Json;
using EntitlementGateway.IntegrationTests.Infrastructure;
using static EntitlementGateway.IntegrationTests.Infrastructure.GatewayQueries;
using static EntitlementGateway.IntegrationTests.Infrastructure.StoreWorld;

namespace EntitlementGateway.IntegrationTests.Store;

/// <summary>
/// The identity provider (through the real MSAL code path) and the renew endpoint answering what no documentation
/// promises: the player gets a 502 that says so, nothing is sent anywhere else, and the next call asks again.
/// </summary>
public sealed class TokenAnswerTests : OwnEmulatorGatewayTests
{
    private async Task<(string User, string Ucid)> PlayerAsync()
    {
        var user = NewUser();
        await World.SeedAsync(user, Item("9N30KZZF4BR9"));
        return (user, await World.MintUcidAsync(user));
    }

    [Theory]
    [InlineData("NoAccessToken")]
    [InlineData("NotJson")]
    [InlineData("EndlessExpiry")]
    [InlineData("Huge")]
    public async Task Query_WhenTheTokenEndpointAnswersWithoutAUsableToken_Is502_AndTheNextCallAsksAgain(string answer)
    {
        await using var gateway = Gateway();
        using var client = gateway.CreateClient();
        var (user, ucid) = await PlayerAsync();
        await World.SetFaultsAsync(new { tokenAnswer = answer });

        using (var refused = await QueryAsync(client, ucid))
        {
            var problem = await AssertProblemAsync(refused, HttpStatusCode.BadGateway, "upstream_error");
            Assert.Contains("service token", problem["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        }
        // Nothing reached the Store with a missing or unreadable token, so the player's UCID was never blamed.
        Assert.Equal(0, await World.QueriesAsync(user));
        // No Store call is made without a token, so readiness is what shows it (an expired secret looks the same).
        Assert.Equal("Degraded", await CredentialsReadinessAsync(client));

        await World.SetFaultsAsync(new { });
        using var recovered = await QueryAsync(client, ucid);
        Assert.Equal(HttpStatusCode.OK, recovered.StatusCode);
        Assert.Equal(1, await World.QueriesAsync(user));
        Assert.Equal("Healthy", await CredentialsReadinessAsync(client));
    }

    [Fact]
    public async Task Query_WhenTheTokenEndpointRedirects_TheClientSecretGoesNowhere_AndTheQueryIs502()
    {
        using var elsewhere = new ConnectionCounter();
        await using var gateway = Gateway();
        using var client = gateway.CreateClient();
        var (user, ucid) = await PlayerAsync();
        await World.SetFaultsAsync(new { tokenAnswer = "Redirect", redirectTo = $"https://127.0.0.1:{elsewhere.Port}/steal/oauth2/v2.0/token" });

        using var response = await QueryAsync(client, ucid);

        await AssertProblemAsync(response, HttpStatusCode.BadGateway, "upstream_error");
        Assert.Equal(0, await World.QueriesAsync(user));
        await Task.Delay(200);
        Assert.Equal(0, elsewhere.Connections);
    }

    [Fact]
    public async Task Renew_WhenTheStoreRedirects_TheServiceTicketAndKeyGoNowhere()
    {
        using var elsewhere = new ConnectionCounter();
        await using var gateway = Gateway();
        using var client = gateway.CreateClient();
        var (_, ucid) = await PlayerAsync();
        await World.SetFaultsAsync(new { failNext = 3, mode = "Redirect", redirectTo = $"https://127.0.0.1:{elsewhere.Port}/steal" });

        using var response = await client.PostAsJsonAsync("/v1/user-collections-id/renew", new { userCollectionsId = ucid });

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.DoesNotContain(ucid, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        await Task.Delay(200);
        Assert.Equal(0, elsewhere.Connections);
    }
}
