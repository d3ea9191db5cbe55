using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using EntitlementGateway.IntegrationTests.Infrastructure;
using static EntitlementGateway.IntegrationTests.Infrastructure.GatewayQueries;

namespace EntitlementGateway.IntegrationTests.Store;

/// <summary>The collections ticket and UCID renewal: what the gateway hands out and whom it calls.</summary>
public sealed class UserCollectionsKeysTests : OwnEmulatorGatewayTests
{
    [Fact]
    public async Task CollectionsTicket_IsACollectionsKeyToken_NotTheServiceToken_AndNotCached()
    {
        await using var gateway = Gateway();
        using var client = gateway.CreateClient();

        using var response = await client.GetAsync("/v1/collections-ticket");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(response.Headers.CacheControl?.NoStore);
        var body = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        var ticket = body["serviceTicket"]!.GetValue<string>();
        var claims = JsonNode.Parse(Convert.FromBase64String(Pad(ticket.Split('.')[1])))!;
        Assert.Equal("https://onestore.microsoft.com/b2b/keys/create/collections", claims["aud"]!.GetValue<string>());
        Assert.True(body["expiresOn"]!.GetValue<DateTimeOffset>() > DateTimeOffset.UtcNow);
    }

    [Fact]
    public async Task OutgoingCalls_AreNeverLoggedByTheHttpClientFactory_EvenAtTrace()
    {
        // Its trace lines carry every request header as a structured value (the service token in Authorization), whatever
        // the message text redacts.
        await using var gateway = Gateway(new() { ["Logging:LogLevel:Default"] = "Trace", ["Serilog:MinimumLevel:Default"] = "Verbose" });
        using var client = gateway.CreateClient();
        var ucid = await World.MintUcidAsync("trace-player", new { lifetimeSeconds = 3600 });

        (await client.GetAsync("/v1/collections-ticket")).EnsureSuccessStatusCode();
        (await client.PostAsJsonAsync("/v1/user-collections-id/renew", new { userCollectionsId = ucid })).EnsureSuccessStatusCode();

        Assert.Contains(gateway.Logs, log => log.Level == Microsoft.Extensions.Logging.LogLevel.Trace);
        Assert.DoesNotContain(gateway.Logs, log => log.Category.StartsWith("System.Net.Http.HttpClient", StringComparison.Ordinal));
        Assert.DoesNotContain(gateway.Logs, log => log.State.Contains("Bearer", StringComparison.Ordinal) || log.Message.Contains("Bearer", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Renew_CallsOnlyTheFixedRenewUrl_NeverTheRefreshUriInTheToken()
    {
        using var elsewhere = new ConnectionCounter();
        await using var gateway = Gateway();
        using var client = gateway.CreateClient();
        var ucid = await World.MintUcidAsync("renew-player", new { refreshUri = $"http://127.0.0.1:{elsewhere.Port}/steal", lifetimeSeconds = 3600 });

        using var response = await client.PostAsJsonAsync("/v1/user-collections-id/renew", new { userCollectionsId = ucid });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(response.Headers.CacheControl?.NoStore);
        var body = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        var renewed = body["userCollectionsId"]!.GetValue<string>();
        Assert.NotEqual(ucid, renewed);
        Assert.True(body["expiresOn"]!.GetValue<DateTimeOffset>() > DateTimeOffset.UtcNow.AddDays(29));
        Assert.Equal(1, (await World.StatsAsync())["renewals"]!.GetValue<long>());
        await Task.Delay(200);
        Assert.Equal(0, elsewhere.Connections);

        // The renewed key works for queries.
        (await QueryAsync(client, renewed)).EnsureSuccessStatusCode();
    }

    [Theory]
    [InlineData("renewedUserId", "someone-else", "another player")]
    [InlineData("renewedClientId", "99999999-9999-9999-9999-999999999999", "another application")]
    [InlineData("renewedLifetimeSeconds", -1L, "without an expiry or past it")]
    [InlineData("renewedLifetimeSeconds", 0L, "without an expiry or past it")]
    public async Task Renew_AnsweredWithAKeyForAnotherPlayerOrApplicationOrExpired_Is502_AndTheKeyIsNotHandedOn(string fault, object value, string named)
    {
        await using var gateway = Gateway();
        using var client = gateway.CreateClient();
        var ucid = await World.MintUcidAsync("renew-mixup", new { lifetimeSeconds = 3600 });
        await World.SetFaultsAsync(new Dictionary<string, object> { [fault] = value });

        using var response = await client.PostAsJsonAsync("/v1/user-collections-id/renew", new { userCollectionsId = ucid });

        var problem = await AssertProblemAsync(response, HttpStatusCode.BadGateway, "upstream_error");
        Assert.Contains(named, problem["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.DoesNotContain("userCollectionsId", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(1, (await World.StatsAsync())["renewals"]!.GetValue<long>());
    }

    [Fact]
    public async Task Renew_WhenExpired_Returns401WithoutCallingTheStore()
    {
        await using var gateway = Gateway();
        using var client = gateway.CreateClient();
        var ucid = await World.MintUcidAsync("expired-player", new { lifetimeSeconds = -10 });

        using var response = await client.PostAsJsonAsync("/v1/user-collections-id/renew", new { userCollectionsId = ucid });

        await AssertProblemAsync(response, HttpStatusCode.Unauthorized, "user_collections_id_expired");
        Assert.Equal(0, (await World.StatsAsync())["renewals"]!.GetValue<long>());
    }

    private static string Pad(string base64Url)
    {
        var s = base64Url.Replace('-', '+').Replace('_', '/');
        return s + new string('=', (4 - s.Length % 4) % 4);
    }
}
