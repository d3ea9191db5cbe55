using System.Net;
using EntitlementGateway.Budget;
using EntitlementGateway.Emulator;
using EntitlementGateway.IntegrationTests.Infrastructure;
using Microsoft.Extensions.Logging;
using static EntitlementGateway.IntegrationTests.Infrastructure.GatewayQueries;

namespace EntitlementGateway.IntegrationTests.Budget;

/// <summary>A server with <c>requirepass</c>: the password in the connection string is used, and its absence fails cleanly.</summary>
public sealed class RedisPasswordTests(PasswordRedisServerFixture redis) : IClassFixture<PasswordRedisServerFixture>
{
    [LocalRedisFact]
    public async Task Connects_WithPassword_ByHostName()
    {
        await using var replica = new BudgetReplica(redis.ConnectionStringByHostName, limit: 2, windowSeconds: 2);

        Assert.True((await replica.Budget.TryAcquireAsync("u")).Allowed);
        Assert.True((await replica.Budget.TryAcquireAsync("u")).Allowed);
        Assert.False((await replica.Budget.TryAcquireAsync("u")).Allowed);
        Assert.False(replica.Connection.CredentialsRefused);
    }

    [LocalRedisFact]
    public async Task WithoutThePassword_CallsFailWithBudgetUnavailable()
    {
        await using var replica = new BudgetReplica($"127.0.0.1:{redis.Port}", limit: 2, windowSeconds: 2);

        await Assert.ThrowsAsync<BudgetUnavailableException>(() => replica.Budget.TryAcquireAsync("u").AsTask());
        Assert.True(replica.Connection.CredentialsRefused);
    }

    [LocalRedisFact]
    public async Task AWrongPassword_IsNamedAsRefusedCredentials_AndTheReplicaIsNotReady()
    {
        await using var emulator = await EmulatorServer.StartAsync(new EmulatorOptions());
        await using var gateway = GatewayApplication.Live(emulator, new Dictionary<string, string?>
        {
            ["Redis:ConnectionString"] = $"127.0.0.1:{redis.Port},password=not-the-password",
            ["Redis:ConnectTimeoutMs"] = "2000",
        });
        using var client = gateway.CreateClient();
        using var store = new StoreWorld(emulator);

        using var ready = await client.GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        var budget = System.Text.Json.Nodes.JsonNode.Parse(await ready.Content.ReadAsStringAsync())!["checks"]!["budget"]!;
        Assert.Equal("Unhealthy", budget["status"]!.GetValue<string>());
        Assert.Contains("refused the gateway's credentials", budget["description"]!.GetValue<string>());
        var line = Assert.Single(gateway.Logs, l => l.Category == typeof(BudgetStartup).FullName && l.Message.Contains("refused the gateway's credentials", StringComparison.Ordinal));
        Assert.Equal(LogLevel.Error, line.Level);
        Assert.DoesNotContain(gateway.Logs, l => l.Message.Contains("not-the-password", StringComparison.Ordinal) || l.Message.Contains("not reachable", StringComparison.Ordinal));
        using var query = await QueryAsync(client, await store.MintUcidAsync("p"));
        await AssertProblemAsync(query, HttpStatusCode.ServiceUnavailable, "budget_unavailable");
    }

    [LocalRedisFact]
    public async Task ARedisThatDoesNotAnswer_IsAnOutage_NotRefusedCredentials()
    {
        await using var replica = new BudgetReplica($"127.0.0.1:{LoopbackPort.Free()},password={redis.Password}", limit: 2, windowSeconds: 2);

        await Assert.ThrowsAsync<BudgetUnavailableException>(() => replica.Budget.TryAcquireAsync("u").AsTask());
        Assert.False(replica.Connection.CredentialsRefused);
    }
}
