using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using EntitlementGateway.Emulator;
using EntitlementGateway.IntegrationTests.Infrastructure;

namespace EntitlementGateway.IntegrationTests.Emulator;

public sealed class RenewTests(EmulatorFixture fixture) : IClassFixture<EmulatorFixture>
{
    private const string Prefix = "http://schemas.microsoft.com/marketplace/2015/08/claims/key/";
    private readonly EmulatorClient _client = fixture.Client;

    private Task<HttpResponseMessage> RenewAsync(string? ticket, string? key) => _client.RenewAsync(ticket, key);

    [Fact]
    public async Task Renew_ReturnsNewKeyWithSameUserAndClientAndFreshExpiry()
    {
        var userId = EmulatorClient.NewUserId();
        var shortLived = await _client.MintUcidAsync(userId, new JsonObject { ["lifetimeSeconds"] = 60 });
        var renewalsBefore = fixture.Server.State.Renewals;

        using var response = await RenewAsync(await _client.GetTokenAsync(), shortLived);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var renewed = (await response.Content.ReadFromJsonAsync<JsonObject>())!["key"]!.GetValue<string>();
        var before = Jwt.Payload(shortLived);
        var after = Jwt.Payload(renewed);
        Assert.Equal(userId, after[Prefix + "userId"]!.GetValue<string>());
        Assert.Equal(before[Prefix + "clientId"]!.GetValue<string>(), after[Prefix + "clientId"]!.GetValue<string>());
        Assert.Equal((long)TimeSpan.FromDays(30).TotalSeconds, after["exp"]!.GetValue<long>() - after["iat"]!.GetValue<long>());
        Assert.True(after["exp"]!.GetValue<long>() > before["exp"]!.GetValue<long>());
        Assert.Equal(renewalsBefore + 1, fixture.Server.State.Renewals);
        Assert.Equal(renewalsBefore + 1, (await _client.GetJsonAsync("emulator/stats"))["renewals"]!.GetValue<long>());

        using var query = await _client.QueryAsync(await _client.GetTokenAsync(), renewed);
        Assert.Equal(HttpStatusCode.OK, query.StatusCode);
    }

    [Fact]
    public async Task Renew_WithExpiredKey_Returns401()
    {
        var expired = await _client.MintUcidAsync(EmulatorClient.NewUserId(), new JsonObject { ["lifetimeSeconds"] = -5 });

        using var response = await RenewAsync(await _client.GetTokenAsync(), expired);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task Renew_WithBadServiceTicket_Returns401()
    {
        var key = await _client.MintUcidAsync(EmulatorClient.NewUserId());
        var forgedTicket = Jwt.Tamper(await _client.GetTokenAsync(), c => c["exp"] = c["exp"]!.GetValue<long>() + 3600);

        using var forged = await RenewAsync(forgedTicket, key);
        using var missing = await RenewAsync(null, key);

        Assert.Equal(HttpStatusCode.Unauthorized, forged.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, missing.StatusCode);
    }

    [Fact]
    public async Task Renew_WithForgedKey_Returns401()
    {
        var forged = Jwt.Tamper(await _client.MintUcidAsync(EmulatorClient.NewUserId()), c => c[Prefix + "userId"] = "someone-else");

        using var response = await RenewAsync(await _client.GetTokenAsync(), forged);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }
}
