using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using EntitlementGateway.IntegrationTests.Infrastructure;
using Microsoft.Extensions.Logging;
using static EntitlementGateway.IntegrationTests.Infrastructure.GatewayQueries;
using static EntitlementGateway.IntegrationTests.Infrastructure.StoreWorld;

namespace EntitlementGateway.IntegrationTests.Store;

/// <summary>
/// Live mode asks for the service token as soon as it has started, through the real MSAL path: working credentials are
/// confirmed before any player comes (whose query then finds the token held), wrong ones show at once in the log and
/// readiness, with no query needed to find them.
/// </summary>
public sealed class StoreTokenAtStartTests : OwnEmulatorGatewayTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    private static async Task<JsonNode> StoreHealthAsync(HttpClient client)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/ops/store/health");
        request.Headers.Add("X-Api-Key", OpsKey);
        using var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonNode>())!;
    }

    private static async Task<T> EventuallyAsync<T>(Func<Task<T>> read, Func<T, bool> done)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (true)
        {
            var value = await read();
            if (done(value) || DateTime.UtcNow > deadline) return value;
            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task WorkingCredentials_AreConfirmedBeforeAnyQuery_AndTheFirstQueryUsesThatToken()
    {
        await using var gateway = Gateway(new() { ["Store:TokenAtStart"] = "true" });
        using var client = gateway.CreateClient();

        var health = await EventuallyAsync(() => StoreHealthAsync(client), h => h["serviceToken"]!["held"]!.GetValue<bool>());
        Assert.True(health["serviceToken"]!["held"]!.GetValue<bool>());
        Assert.Equal(1, health["serviceToken"]!["acquisitions"]!.GetValue<long>());
        // The token is held a moment before the start-up service writes its line: waited for, not raced.
        static bool Obtained(CapturedLog l) => l.Level == LogLevel.Information && l.Message.StartsWith("Store service token obtained at start-up", StringComparison.Ordinal);
        Assert.True(await EventuallyAsync(() => Task.FromResult(gateway.Logs.Any(Obtained)), found => found));

        var user = NewUser();
        await World.SeedAsync(user, Item("9N30KZZF4BR9"));
        using (var query = await QueryAsync(client, await World.MintUcidAsync(user))) Assert.Equal(HttpStatusCode.OK, query.StatusCode);
        Assert.Equal(1, (await StoreHealthAsync(client))["serviceToken"]!["acquisitions"]!.GetValue<long>());
    }

    [Fact]
    public async Task AWrongSecret_ShowsAtStart_InOneErrorLineAndReadiness_WithoutAQuery_AndNeverInTheLog()
    {
        const string wrong = "not-the-secret-0123456789";
        await using var gateway = Gateway(new() { ["Store:TokenAtStart"] = "true", ["Store:ClientSecret"] = wrong });
        using var client = gateway.CreateClient();

        Assert.Equal("Degraded", await EventuallyAsync(() => CredentialsReadinessAsync(client), s => s == "Degraded"));
        // Readiness turns as the token request fails, a moment before the start-up service writes its line.
        static bool StartUpError(CapturedLog l) => l.Level == LogLevel.Error && l.Category.EndsWith(".StoreTokenAtStart", StringComparison.Ordinal);
        Assert.True(await EventuallyAsync(() => Task.FromResult(gateway.Logs.Any(StartUpError)), found => found));
        var error = Assert.Single(gateway.Logs, l => l.Level == LogLevel.Error && l.Category.EndsWith(".StoreTokenAtStart", StringComparison.Ordinal));
        Assert.StartsWith("The Store service token could not be obtained at start-up (invalid_client): check Store:TenantId", error.Message, StringComparison.Ordinal);
        Assert.Contains("the Secret credential", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(gateway.Logs, l => l.Message.Contains(wrong, StringComparison.Ordinal) || l.State.Contains(wrong, StringComparison.Ordinal));
        Assert.False((await StoreHealthAsync(client))["serviceToken"]!["held"]!.GetValue<bool>());
    }
}
