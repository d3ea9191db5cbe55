using System.Net.Http.Json;
using System.Text.Json.Nodes;
using EntitlementGateway.IntegrationTests.Infrastructure;

namespace EntitlementGateway.IntegrationTests.Clawback;

/// <summary>
/// Each test gets its own emulator, its own webhook receiver on loopback, and gateways with Clawback on, reading the
/// emulator's queue every 0.2 s and retrying webhooks after 0.2 s.
/// </summary>
public abstract class ClawbackTestsBase : OwnEmulatorGatewayTests, IAsyncLifetime
{
    protected const string Secret = "webhook-secret-0123456789-0123456789";
    protected static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    protected WebhookReceiver Receiver { get; private set; } = null!;

    public new async Task InitializeAsync()
    {
        await base.InitializeAsync();
        Receiver = await WebhookReceiver.StartAsync();
    }

    public new async Task DisposeAsync()
    {
        await Receiver.DisposeAsync();
        await base.DisposeAsync();
    }

    protected GatewayApplication ClawbackGateway(string? redis = null, Dictionary<string, string?>? extra = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Clawback:Enabled"] = "true",
            ["Clawback:PurchaseBaseUrl"] = Emulator.CollectionsBaseUrl.ToString(),
            ["Clawback:PollIntervalSeconds"] = "0.2",
            ["Clawback:VisibilityTimeoutSeconds"] = "5",
            ["Clawback:WebhookUrl"] = Receiver.Url.ToString(),
            ["Clawback:WebhookSecret"] = Secret,
            ["Clawback:WebhookRetryBaseSeconds"] = "0.2",
            ["Clawback:WebhookRetryMaxSeconds"] = "0.5",
        };
        if (redis is not null)
        {
            settings["Redis:ConnectionString"] = redis;
            settings["Redis:OperationTimeoutMs"] = "3000";
        }
        foreach (var (k, v) in extra ?? []) settings[k] = v;
        return Gateway(settings);
    }

    /// <summary>What <c>GET /ops/clawback/events</c> answers (optionally for one player), asked with the ops key.</summary>
    protected static async Task<JsonArray> EventsAsync(HttpClient client, string? player = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/ops/clawback/events" + (player is null ? "" : "?player=" + Uri.EscapeDataString(player)));
        request.Headers.Add("X-Api-Key", OpsKey);
        using var response = await client.SendAsync(request);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!["events"]!.AsArray();
    }

    /// <summary>The recorded event with this id once <paramref name="done"/> holds for it; fails after <see cref="Patience"/>.</summary>
    protected static async Task<JsonObject> EventWhenAsync(HttpClient client, string eventId, Func<JsonObject, bool> done)
    {
        JsonObject? last = null;
        var until = DateTime.UtcNow + Patience;
        while (DateTime.UtcNow < until)
        {
            last = (await EventsAsync(client)).OfType<JsonObject>().FirstOrDefault(e => (string?)e["eventId"] == eventId);
            if (last is not null && done(last)) return last;
            await Task.Delay(100);
        }
        throw new Xunit.Sdk.XunitException($"event {eventId} never reached the expected state; last seen: {last?.ToJsonString() ?? "nothing"}");
    }

    protected static async Task UntilAsync(Func<Task<bool>> condition, string what)
    {
        var until = DateTime.UtcNow + Patience;
        while (DateTime.UtcNow < until)
        {
            if (await condition()) return;
            await Task.Delay(100);
        }
        throw new Xunit.Sdk.XunitException("never happened: " + what);
    }
}
