using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using EntitlementGateway.Emulator;
using EntitlementGateway.IntegrationTests.Infrastructure;

namespace EntitlementGateway.IntegrationTests.Emulator;

public sealed class QueryAuthTests(EmulatorFixture fixture) : IClassFixture<EmulatorFixture>
{
    private const string UserIdClaim = "http://schemas.microsoft.com/marketplace/2015/08/claims/key/userId";
    private readonly EmulatorClient _client = fixture.Client;

    private async Task AssertUnauthorizedAndNotCountedAsync(string? bearer, string ucid, string userId)
    {
        // Counted for anyone at all, not just the user the test expects: a UCID that is not a JWT names no user.
        var countedBefore = fixture.Server.State.QueriesByUser.Values.Sum();

        using var response = await _client.QueryAsync(bearer, ucid);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonObject>();
        Assert.Equal("Unauthorized", body!["code"]!.GetValue<string>());
        // Rejected before the per-user stage: it must not count against the user, nor against anyone.
        Assert.False(fixture.Server.State.QueriesByUser.ContainsKey(userId));
        Assert.Equal(countedBefore, fixture.Server.State.QueriesByUser.Values.Sum());
    }

    [Fact]
    public async Task Query_Accepted_IsCountedForItsUser()
    {
        // The other side of "not counted": the same counter does move for a call that reaches the per-user stage.
        var userId = EmulatorClient.NewUserId();

        using var response = await _client.QueryAsync(await _client.GetTokenAsync(), await _client.MintUcidAsync(userId));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(1, fixture.Server.State.QueriesByUser[userId]);
    }

    [Fact]
    public async Task Query_WithoutBearer_Returns401()
    {
        var userId = EmulatorClient.NewUserId();
        await AssertUnauthorizedAndNotCountedAsync(null, await _client.MintUcidAsync(userId), userId);
    }

    [Fact]
    public async Task Query_WithTamperedBearer_Returns401()
    {
        var userId = EmulatorClient.NewUserId();
        var forged = Jwt.Tamper(await _client.GetTokenAsync(), c => c["appid"] = "someone-else");

        await AssertUnauthorizedAndNotCountedAsync(forged, await _client.MintUcidAsync(userId), userId);
    }

    [Fact]
    public async Task Query_WithBearerForCollectionsKeyAudience_Returns401()
    {
        var userId = EmulatorClient.NewUserId();
        var wrongAudience = await _client.GetTokenAsync("https://onestore.microsoft.com/b2b/keys/create/collections/.default");

        await AssertUnauthorizedAndNotCountedAsync(wrongAudience, await _client.MintUcidAsync(userId), userId);
    }

    [Fact]
    public async Task Query_WithBearerFromAnotherEmulator_Returns401()
    {
        using var stranger = new EmulatorState();
        var userId = EmulatorClient.NewUserId();

        await AssertUnauthorizedAndNotCountedAsync(
            stranger.IssueAccessToken(EmulatorState.StoreAudience), await _client.MintUcidAsync(userId), userId);
    }

    [Fact]
    public async Task Query_WithForgedUcid_Returns401()
    {
        var victim = EmulatorClient.NewUserId();
        var forged = Jwt.Tamper(await _client.MintUcidAsync(EmulatorClient.NewUserId()), c => c[UserIdClaim] = victim);

        await AssertUnauthorizedAndNotCountedAsync(await _client.GetTokenAsync(), forged, victim);
    }

    [Fact]
    public async Task Query_WithExpiredUcid_Returns401()
    {
        var userId = EmulatorClient.NewUserId();
        var expired = await _client.MintUcidAsync(userId, new JsonObject { ["lifetimeSeconds"] = -1 });

        await AssertUnauthorizedAndNotCountedAsync(await _client.GetTokenAsync(), expired, userId);
    }

    [Fact]
    public async Task Query_WithUcidNotValidYet_Returns401()
    {
        var userId = EmulatorClient.NewUserId();
        var early = await _client.MintUcidAsync(userId, new JsonObject { ["notBeforeSeconds"] = 3600 });

        await AssertUnauthorizedAndNotCountedAsync(await _client.GetTokenAsync(), early, userId);
    }

    [Fact]
    public async Task Query_WithUcidMintedForAnotherClientId_Returns401()
    {
        var userId = EmulatorClient.NewUserId();
        var foreign = await _client.MintUcidAsync(userId, new JsonObject { ["clientId"] = Guid.NewGuid().ToString() });

        await AssertUnauthorizedAndNotCountedAsync(await _client.GetTokenAsync(), foreign, userId);
    }

    [Fact]
    public async Task Query_WithUcidThatIsNotAJwt_Returns401()
    {
        var userId = EmulatorClient.NewUserId();
        await AssertUnauthorizedAndNotCountedAsync(await _client.GetTokenAsync(), "not.a.jwt", userId);
    }

    [Fact]
    public async Task Query_WithoutBeneficiaries_Returns400()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, EmulatorClient.QueryPath)
        {
            Content = EmulatorClient.Json(new JsonObject { ["maxPageSize"] = 10 }),
        };
        request.Headers.Authorization = new("Bearer", await _client.GetTokenAsync());

        using var response = await _client.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }
}
