using System.Net;
using System.Text.Json.Nodes;
using EntitlementGateway.IntegrationTests.Infrastructure;
using EntitlementGateway.Store.Replicas;
using EntitlementGateway.Store.Resilience;
using Microsoft.Extensions.DependencyInjection;
using Polly.CircuitBreaker;
using static EntitlementGateway.IntegrationTests.Infrastructure.GatewayQueries;

namespace EntitlementGateway.IntegrationTests.Store;

/// <summary>
/// <c>GET /ops/store/health</c> across replicas: each gateway writes its Store health to a real Redis and any of them
/// shows every live replica's circuit; without Redis, or with a Redis that does not answer, it says what it knows.
/// </summary>
public sealed class ReplicaHealthTests(RedisServerFixture redis) : OwnEmulatorGatewayTests, IClassFixture<RedisServerFixture>
{
    private Dictionary<string, string?> Replica(string name, string? redisConnection) => new()
    {
        ["ReplicaHealth:Name"] = name,
        ["ReplicaHealth:PublishIntervalMs"] = "100",
        ["Redis:ConnectionString"] = redisConnection,
        ["Resilience:MaxRetries"] = "0",
        ["Resilience:CircuitFailureRatio"] = "0.5",
        ["Resilience:CircuitMinimumThroughput"] = "2",
        ["Resilience:CircuitBreakSeconds"] = "600",
        ["Cache:Enabled"] = "false",
    };

    private static async Task<JsonObject> StoreHealthAsync(HttpClient client)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/ops/store/health");
        request.Headers.Add("X-Api-Key", OpsKey);
        using var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await BodyAsync(response)).AsObject();
    }

    private static JsonNode? Entry(JsonObject health, string replica) =>
        health["replicas"]!.AsArray().SingleOrDefault(r => r!["replica"]!.GetValue<string>() == replica);

    [Fact]
    public async Task StoreHealth_OnOneReplica_ShowsAnotherReplicasOpenCircuit_AndItsOwnClosed()
    {
        var a = "replica-a-" + Guid.NewGuid().ToString("N")[..8];
        var b = "replica-b-" + Guid.NewGuid().ToString("N")[..8];
        await using var first = Gateway(Replica(a, redis.ConnectionString));
        await using var second = Gateway(Replica(b, redis.ConnectionString));
        using var firstClient = first.CreateClient();
        using var secondClient = second.CreateClient();

        await World.SetFaultsAsync(new { failureRate = 1.0, failureStatus = 500, mode = "Status" });
        for (var i = 0; i < 2; i++)
            using (var failed = await QueryAsync(firstClient, await World.MintUcidAsync(NewUser())))
                await AssertProblemAsync(failed, HttpStatusCode.BadGateway, "upstream_error");
        await World.SetFaultsAsync(new { });
        Assert.Equal(CircuitState.Open, first.Services.GetRequiredService<StoreResiliencePipelines>().CircuitState);

        // The first replica writes its state at its next tick; poll until the second sees it (bounded, not timed).
        JsonObject health;
        var deadline = DateTime.UtcNow.AddSeconds(30);
        do
        {
            health = await StoreHealthAsync(secondClient);
            if (Entry(health, a)?["circuit"]?.GetValue<string>() == "Open") break;
            await Task.Delay(50);
        }
        while (DateTime.UtcNow < deadline);

        Assert.Equal(b, health["replica"]!.GetValue<string>());
        Assert.Equal("Closed", health["circuit"]!.GetValue<string>());
        Assert.True(health["allReplicasKnown"]!.GetValue<bool>());
        Assert.Equal("Open", Entry(health, a)!["circuit"]!.GetValue<string>());
        Assert.Equal("upstream_error", Entry(health, a)!["recentErrors"]![0]!["code"]!.GetValue<string>());
        Assert.Equal("Closed", Entry(health, b)!["circuit"]!.GetValue<string>());
        Assert.Empty(Entry(health, b)!["recentErrors"]!.AsArray());
        var times = health["replicas"]!.AsArray().Select(r => r!["at"]!.GetValue<DateTimeOffset>()).ToList();
        Assert.Equal(times.OrderByDescending(t => t), times); // newest first
        Assert.DoesNotContain("eyJ", health.ToJsonString(), StringComparison.Ordinal); // no token of any replica
    }

    [Fact]
    public async Task StoreHealth_ForgetsAReplica_ThatStoppedWriting()
    {
        var gone = "replica-gone-" + Guid.NewGuid().ToString("N")[..8];
        var staying = "replica-stay-" + Guid.NewGuid().ToString("N")[..8];
        await using var survivor = Gateway(Replica(staying, redis.ConnectionString));
        using var client = survivor.CreateClient();
        await using (var stopped = Gateway(Replica(gone, redis.ConnectionString)))
        {
            using var stoppedClient = stopped.CreateClient();
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (Entry(await StoreHealthAsync(client), gone) is null && DateTime.UtcNow < deadline) await Task.Delay(50);
            Assert.NotNull(Entry(await StoreHealthAsync(client), gone));
        }

        // Its snapshot lives three intervals (300 ms) after its last write.
        var until = DateTime.UtcNow.AddSeconds(30);
        while (Entry(await StoreHealthAsync(client), gone) is not null && DateTime.UtcNow < until) await Task.Delay(50);
        var health = await StoreHealthAsync(client);
        Assert.Null(Entry(health, gone));
        Assert.NotNull(Entry(health, staying));
        Assert.True(health["allReplicasKnown"]!.GetValue<bool>());
    }

    [Fact]
    public async Task StoreHealth_WhenRedisDoesNotAnswer_ShowsThisReplicaOnly_AndSaysTheOthersAreUnknown()
    {
        await using var gateway = Gateway(Replica("replica-alone", "127.0.0.1:1,connectTimeout=200,abortConnect=false"));
        using var client = gateway.CreateClient();
        var health = await StoreHealthAsync(client);
        Assert.False(health["allReplicasKnown"]!.GetValue<bool>());
        Assert.Equal(StoreHealthOverview.UnknownDetail, health["replicasDetail"]!.GetValue<string>());
        Assert.Equal("replica-alone", Assert.Single(health["replicas"]!.AsArray())!["replica"]!.GetValue<string>());
    }

    [Fact]
    public async Task StoreHealth_WithoutRedis_IsThisReplicaOnly_AndEveryReplicaKnown()
    {
        await using var gateway = Gateway(Replica("replica-solo", null));
        using var client = gateway.CreateClient();
        var health = await StoreHealthAsync(client);
        Assert.True(health["allReplicasKnown"]!.GetValue<bool>());
        Assert.Equal(StoreHealthOverview.AloneDetail, health["replicasDetail"]!.GetValue<string>());
        Assert.Equal("replica-solo", Assert.Single(health["replicas"]!.AsArray())!["replica"]!.GetValue<string>());
    }
}
