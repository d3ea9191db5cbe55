using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using EntitlementGateway.Emulator;
using EntitlementGateway.IntegrationTests.Infrastructure;

namespace EntitlementGateway.IntegrationTests.Emulator;

/// <summary>Faults that hold for every call while set: endless continuation, refused and revoked service tokens.</summary>
public sealed class StandingFaultTests(EmulatorFixture fixture) : IClassFixture<EmulatorFixture>, IAsyncLifetime
{
    private readonly EmulatorClient _client = fixture.Client;

    // Reset also lifts revocations, so every test starts with tokens that work.
    public async Task InitializeAsync() => (await _client.Http.PostAsync("emulator/reset", null)).Dispose();

    public Task DisposeAsync() => InitializeAsync();

    private async Task PutFaultsAsync(JsonObject faults)
    {
        using var response = await _client.Http.PutAsJsonAsync("emulator/faults", faults);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    private async Task<(string Token, string Ucid)> UserWithAsync(int items)
    {
        var userId = EmulatorClient.NewUserId();
        await _client.SeedAsync(userId, Enumerable.Range(0, items).Select(i => Items.Item($"i{i}", $"P{i}")).ToArray());
        return (await _client.GetTokenAsync(), await _client.MintUcidAsync(userId));
    }

    private async Task<JsonObject> PageAsync(string token, string ucid, string? continuationToken)
    {
        var extra = new JsonObject { ["maxPageSize"] = 2 };
        if (continuationToken is not null) extra["continuationToken"] = continuationToken;
        using var response = await _client.QueryAsync(token, ucid, extra);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!;
    }

    private async Task<long> ServiceTokenRejectionsAsync() =>
        (await _client.GetJsonAsync("emulator/stats"))["serviceTokenRejections"]!.GetValue<long>();

    [Fact]
    public async Task LoopContinuation_EveryPageReturnsTheFirstPagesToken()
    {
        var (token, ucid) = await UserWithAsync(3);
        await PutFaultsAsync(new JsonObject { ["loopContinuation"] = true });

        var first = await PageAsync(token, ucid, null);
        var firstToken = first["continuationToken"]!.GetValue<string>();
        var second = await PageAsync(token, ucid, firstToken);
        var third = await PageAsync(token, ucid, second["continuationToken"]!.GetValue<string>());

        // Without the switch the second page (items 2..3) would be the last, with no token.
        Assert.Equal(firstToken, second["continuationToken"]!.GetValue<string>());
        Assert.Equal(firstToken, third["continuationToken"]!.GetValue<string>());
    }

    [Fact]
    public async Task LoopContinuation_GivesATokenEvenWhenEverythingFitsOnePage()
    {
        var (token, ucid) = await UserWithAsync(1);
        await PutFaultsAsync(new JsonObject { ["loopContinuation"] = true });

        var first = await PageAsync(token, ucid, null);
        var second = await PageAsync(token, ucid, first["continuationToken"]!.GetValue<string>());

        Assert.Equal(first["continuationToken"]!.GetValue<string>(), second["continuationToken"]!.GetValue<string>());
    }

    [Fact]
    public async Task RejectServiceTokens_RefusesEvenAFreshTokenOnQueryAndRenew_AndCountsThem()
    {
        var (_, ucid) = await UserWithAsync(1);
        await PutFaultsAsync(new JsonObject { ["rejectServiceTokens"] = true });
        var fresh = await _client.GetTokenAsync();

        using var query = await _client.QueryAsync(fresh, ucid);
        using var renew = await _client.RenewAsync(fresh, ucid);

        Assert.Equal(HttpStatusCode.Unauthorized, query.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, renew.StatusCode);
        Assert.Contains("rejectServiceTokens", (await query.Content.ReadFromJsonAsync<JsonObject>())!["message"]!.GetValue<string>(),
            StringComparison.Ordinal);
        Assert.Equal(2, await ServiceTokenRejectionsAsync());
        Assert.Equal(2, fixture.Server.State.ServiceTokenRejections);
    }

    [Fact]
    public async Task RejectServiceTokens_AppliesRegardlessOfFailNext_AndLiftsWhenCleared()
    {
        var (token, ucid) = await UserWithAsync(1);
        await PutFaultsAsync(new JsonObject { ["rejectServiceTokens"] = true, ["failNext"] = 0 });
        using var refused1 = await _client.QueryAsync(token, ucid);
        using var refused2 = await _client.QueryAsync(token, ucid);

        (await _client.Http.DeleteAsync("emulator/faults")).Dispose();
        using var accepted = await _client.QueryAsync(token, ucid);

        Assert.Equal(HttpStatusCode.Unauthorized, refused1.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, refused2.StatusCode);
        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
    }

    [Fact]
    public async Task RevokeTokens_RefusesTokensIssuedBefore_AcceptsTokensIssuedAfter()
    {
        var (old, ucid) = await UserWithAsync(1);
        using (var before = await _client.QueryAsync(old, ucid)) Assert.Equal(HttpStatusCode.OK, before.StatusCode);

        using var revoke = await _client.Http.PostAsync("emulator/tokens/revoke", null);
        var fresh = await _client.GetTokenAsync();
        using var oldQuery = await _client.QueryAsync(old, ucid);
        using var oldRenew = await _client.RenewAsync(old, ucid);
        using var freshQuery = await _client.QueryAsync(fresh, ucid);
        using var freshRenew = await _client.RenewAsync(fresh, ucid);

        Assert.Equal(HttpStatusCode.NoContent, revoke.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, oldQuery.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, oldRenew.StatusCode);
        Assert.Equal(HttpStatusCode.OK, freshQuery.StatusCode);
        Assert.Equal(HttpStatusCode.OK, freshRenew.StatusCode);
        Assert.Equal(2, await ServiceTokenRejectionsAsync());
    }

    [Fact]
    public async Task RevokeTokens_FromCSharp_RefusesTokensIssuedInTheSameSecond()
    {
        var state = fixture.Server.State;
        var (_, ucid) = await UserWithAsync(1);
        var old = state.IssueAccessToken(EmulatorState.StoreAudience);

        state.RevokeIssuedTokens();
        var fresh = state.IssueAccessToken(EmulatorState.StoreAudience);

        using var oldQuery = await _client.QueryAsync(old, ucid);
        using var freshQuery = await _client.QueryAsync(fresh, ucid);
        Assert.Equal(HttpStatusCode.Unauthorized, oldQuery.StatusCode);
        Assert.Equal(HttpStatusCode.OK, freshQuery.StatusCode);
    }

    [Fact]
    public async Task ServiceTokenRejections_CountsInvalidBearerTokens()
    {
        var (_, ucid) = await UserWithAsync(1);

        using var missing = await _client.QueryAsync(null, ucid);
        using var forged = await _client.QueryAsync(Jwt.Tamper(await _client.GetTokenAsync(), c => c["appid"] = "x"), ucid);

        Assert.Equal(HttpStatusCode.Unauthorized, missing.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, forged.StatusCode);
        Assert.Equal(2, await ServiceTokenRejectionsAsync());
    }
}
