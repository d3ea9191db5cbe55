using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using EntitlementGateway.IntegrationTests.Infrastructure;

namespace EntitlementGateway.IntegrationTests.Api;

/// <summary>
/// A userId may hold '/'. Over Kestrel, routing decodes every escape of a path segment but <c>%2F</c>: the ops API must
/// still reach <c>user-a/b</c> by <c>user-a%2Fb</c>, and keep <c>user-c%2Fd</c> (sent as <c>%252F</c>) apart from it.
/// A gateway process (Kestrel, as deployed) and budget units written to the shared Redis by another replica.
/// </summary>
public sealed class OpsKeyEscapeTests(RedisServerFixture redis) : IClassFixture<RedisServerFixture>
{
    private const string OpsKey = "ops-key-0123456789-0123456789-0123456789";

    [LocalRedisFact]
    public async Task A_key_holding_a_slash_is_reached_by_its_escape_and_a_key_holding_the_escape_text_stays_another()
    {
        await using var other = new BudgetReplica(redis.ConnectionString, limit: 100, windowSeconds: 300);
        var slash = "user-slash/" + Guid.NewGuid().ToString("N")[..8];
        var text = "user-text%2F" + Guid.NewGuid().ToString("N")[..8];
        await other.Budget.TryAcquireAsync(slash);
        await other.Budget.TryAcquireAsync(slash);
        await other.Budget.TryAcquireAsync(text);
        await using var gateway = GatewayProcess.Start(new Dictionary<string, string?>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Development",
            ["Redis__ConnectionString"] = redis.ConnectionString,
            ["Ops__Enabled"] = "true",
            ["Ops__ApiKey"] = OpsKey,
        });
        using var http = new HttpClient { BaseAddress = await gateway.WaitUntilListeningAsync(TimeSpan.FromSeconds(60)) };
        http.DefaultRequestHeaders.Add("X-Api-Key", OpsKey);

        var bySlash = await http.GetFromJsonAsync<JsonObject>("/ops/budgets/" + slash.Replace("/", "%2F", StringComparison.Ordinal));
        Assert.Equal((slash, 2), ((string)bySlash!["key"]!, (int)bySlash["used"]!));
        var lowerCase = await http.GetFromJsonAsync<JsonObject>("/ops/budgets/" + slash.Replace("/", "%2f", StringComparison.Ordinal));
        Assert.Equal(2, (int)lowerCase!["used"]!);
        var byText = await http.GetFromJsonAsync<JsonObject>("/ops/budgets/" + Uri.EscapeDataString(text));
        Assert.Equal((text, 1), ((string)byText!["key"]!, (int)byText["used"]!));

        using var reset = await http.PostAsJsonAsync("/ops/budgets/" + slash.Replace("/", "%2F", StringComparison.Ordinal) + "/reset", new { reason = "TICKET-7" });
        Assert.Equal(HttpStatusCode.OK, reset.StatusCode);
        Assert.Equal(0, (await other.Budget.GetAsync(slash)).Used);
        Assert.Equal(1, (await other.Budget.GetAsync(text)).Used);
        using var drop = await http.PostAsJsonAsync("/ops/cache/players/" + slash.Replace("/", "%2F", StringComparison.Ordinal) + "/drop", new { reason = "TICKET-7" });
        Assert.Equal(slash, (string)(await drop.Content.ReadFromJsonAsync<JsonObject>())!["key"]!);
    }
}
