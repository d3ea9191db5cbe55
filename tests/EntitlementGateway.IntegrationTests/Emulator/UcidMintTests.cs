using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using EntitlementGateway.Emulator;
using EntitlementGateway.IntegrationTests.Infrastructure;

namespace EntitlementGateway.IntegrationTests.Emulator;

public sealed class UcidMintTests(EmulatorFixture fixture) : IClassFixture<EmulatorFixture>
{
    private const string Prefix = "http://schemas.microsoft.com/marketplace/2015/08/claims/key/";
    private readonly EmulatorClient _client = fixture.Client;

    [Fact]
    public async Task Mint_ReturnsRs256JwtWithKidX5tAndExactlyTheStoreClaims()
    {
        var ucid = await _client.MintUcidAsync("player-42");

        var header = Jwt.Header(ucid);
        Assert.Equal("RS256", header["alg"]!.GetValue<string>());
        Assert.False(string.IsNullOrEmpty(header["kid"]?.GetValue<string>()));
        Assert.False(string.IsNullOrEmpty(header["x5t"]?.GetValue<string>()));

        var claims = Jwt.Payload(ucid);
        Assert.Equal(
            new[] { "aud", "exp", "iat", "iss", "nbf", Prefix + "clientId", Prefix + "payload", Prefix + "refreshUri", Prefix + "userId" }
                .Order(StringComparer.Ordinal),
            claims.Select(c => c.Key).Order(StringComparer.Ordinal));
        Assert.Equal("https://collections.mp.microsoft.com/v6.0/keys", claims["iss"]!.GetValue<string>());
        Assert.Equal("https://collections.mp.microsoft.com/v6.0/keys", claims["aud"]!.GetValue<string>());
        Assert.Equal("player-42", claims[Prefix + "userId"]!.GetValue<string>());
        Assert.Equal(fixture.Server.Options.ClientId, claims[Prefix + "clientId"]!.GetValue<string>());
        Assert.Equal("https://collections.mp.microsoft.com/v6.0/b2b/keys/renew", claims[Prefix + "refreshUri"]!.GetValue<string>());
        Assert.NotEmpty(Convert.FromBase64String(claims[Prefix + "payload"]!.GetValue<string>()));
        var lifetime = claims["exp"]!.GetValue<long>() - claims["iat"]!.GetValue<long>();
        Assert.Equal((long)TimeSpan.FromDays(30).TotalSeconds, lifetime);
    }

    [Fact]
    public async Task Mint_WithBody_UsesGivenLifetimeNotBeforeClientIdAndRefreshUri()
    {
        var ucid = await _client.MintUcidAsync("player-7", new JsonObject
        {
            ["lifetimeSeconds"] = 120,
            ["notBeforeSeconds"] = 60,
            ["clientId"] = "other-client",
            ["refreshUri"] = "https://evil.example/renew",
        });

        var claims = Jwt.Payload(ucid);
        var iat = claims["iat"]!.GetValue<long>();
        Assert.Equal(iat + 120, claims["exp"]!.GetValue<long>());
        Assert.Equal(iat + 60, claims["nbf"]!.GetValue<long>());
        Assert.Equal("other-client", claims[Prefix + "clientId"]!.GetValue<string>());
        Assert.Equal("https://evil.example/renew", claims[Prefix + "refreshUri"]!.GetValue<string>());
    }

    [Fact]
    public async Task Mint_TwiceForOneUser_GivesDifferentOpaquePayloads()
    {
        var a = Jwt.Payload(await _client.MintUcidAsync("player-8"));
        var b = Jwt.Payload(await _client.MintUcidAsync("player-8"));

        Assert.NotEqual(a[Prefix + "payload"]!.GetValue<string>(), b[Prefix + "payload"]!.GetValue<string>());
    }

    [Fact]
    public async Task Seed_ThenGet_ReturnsItemsInOrderWithDuplicatesAndUnknownFields()
    {
        var userId = EmulatorClient.NewUserId();
        var first = Items.Item("e1", "9NBLGGH4R315");
        first["someFutureField"] = new JsonObject { ["nested"] = true };
        await _client.SeedAsync(userId, first, Items.Item("e2", "9NBLGGH4R316"), Items.Item("e1", "9NBLGGH4R315", status: "Expired"));

        var items = (await _client.Http.GetFromJsonAsync<JsonArray>($"emulator/users/{userId}/entitlements"))!;

        Assert.Equal(["e1", "e2", "e1"], items.Select(i => i!["id"]!.GetValue<string>()));
        Assert.True(items[0]!["someFutureField"]!["nested"]!.GetValue<bool>());
        Assert.Equal("Expired", items[2]!["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task Seed_WithNonObjectItems_Returns400()
    {
        using var response = await _client.Http.PutAsync($"emulator/users/{EmulatorClient.NewUserId()}/entitlements",
            JsonContent.Create(new JsonArray(1, 2)));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }
}
