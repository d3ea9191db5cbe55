using EntitlementGateway.Budget;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace EntitlementGateway.UnitTests.Budget;

public sealed class BudgetServiceCollectionExtensionsTests
{
    private static ServiceProvider Build(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection()
            .AddLogging()
            .AddSingleton<IConfiguration>(configuration)
            .AddUserBudget();
        return services.BuildServiceProvider(validateScopes: true);
    }

    [Fact]
    public void AddUserBudget_WithoutRedis_UsesTheInMemoryBudget()
    {
        using var provider = Build(new() { ["Budget:Limit"] = "7" });

        Assert.IsType<InMemoryUserBudget>(provider.GetRequiredService<IUserBudget>());
        Assert.Equal(7, provider.GetRequiredService<IOptions<BudgetOptions>>().Value.Limit);
        Assert.Same(TimeProvider.System, provider.GetRequiredService<TimeProvider>());
    }

    [Fact]
    public void AddUserBudget_WithRedisConnectionString_UsesTheRedisBudget_WithoutConnectingYet()
    {
        using var provider = Build(new() { ["Redis:ConnectionString"] = "127.0.0.1:1,abortConnect=false" });

        Assert.IsType<FailoverUserBudget>(provider.GetRequiredService<IUserBudget>());
    }

    [Theory]
    [InlineData("Budget:Limit", "0", "Limit")]
    [InlineData("Budget:WindowSeconds", "-5", "WindowSeconds")]
    [InlineData("Redis:OperationTimeoutMs", "1", "OperationTimeoutMs")]
    [InlineData("Redis:ConnectionString", "host:6379,noSuchOption=1", "Redis:ConnectionString")]
    [InlineData("Redis:TrustedCertificateThumbprint", "zz", "Redis:TrustedCertificateThumbprint")]
    public void AddUserBudget_RejectsBadSettings_NamingTheKey(string key, string value, string named)
    {
        using var provider = Build(new() { [key] = value });

        var error = Assert.ThrowsAny<OptionsValidationException>(() =>
        {
            _ = provider.GetRequiredService<IOptions<BudgetOptions>>().Value;
            _ = provider.GetRequiredService<IOptions<EntitlementGateway.Infrastructure.Redis.RedisOptions>>().Value;
        });
        Assert.Contains(named, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddUserBudget_WithoutRedis_ForSeveralReplicas_AllowsEachReplicaItsShare_AndSaysDegraded()
    {
        using var provider = Build(new() { ["Budget:Limit"] = "10", ["Budget:Replicas"] = "3" });
        var budget = provider.GetRequiredService<IUserBudget>();

        for (var i = 0; i < 3; i++)
        {
            Assert.True((await budget.TryAcquireAsync("user-a")).Allowed);
        }

        Assert.False((await budget.TryAcquireAsync("user-a")).Allowed);
        var health = await new BudgetSetup.InMemoryHealth(provider.GetRequiredService<IOptions<BudgetOptions>>().Value)
            .CheckHealthAsync(new Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckContext());
        Assert.Equal(Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Degraded, health.Status);
        Assert.Contains("3 replicas", health.Description, StringComparison.Ordinal);
        Assert.Contains("allows 3 calls", health.Description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddUserBudget_WithoutRedis_ForOneReplica_AllowsTheWholeLimit_AndSaysHealthy()
    {
        using var provider = Build(new() { ["Budget:Limit"] = "4" });
        var budget = provider.GetRequiredService<IUserBudget>();

        for (var i = 0; i < 4; i++)
        {
            Assert.True((await budget.TryAcquireAsync("user-a")).Allowed);
        }

        Assert.False((await budget.TryAcquireAsync("user-a")).Allowed);
        var report = await provider.GetRequiredService<Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckService>().CheckHealthAsync();
        Assert.Equal(Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Healthy, report.Entries["budget"].Status);
    }

    [Fact]
    public void AddUserBudget_WithoutRedis_RefusesMoreReplicasThanTheLimit()
    {
        using var provider = Build(new() { ["Budget:Limit"] = "2", ["Budget:Replicas"] = "3" });

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<BudgetOptions>>().Value);
        Assert.Contains("without Redis:ConnectionString", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddUserBudget_WithRedis_AllowsMoreReplicasThanTheLimit_WhenRedisOutagesAreRejected()
    {
        using var provider = Build(new() { ["Budget:Limit"] = "2", ["Budget:Replicas"] = "3", ["Redis:ConnectionString"] = "127.0.0.1:1,abortConnect=false" });

        Assert.Equal(3, provider.GetRequiredService<IOptions<BudgetOptions>>().Value.Replicas);
    }

    [Theory]
    [InlineData("1", "Correct for ONE replica only")]
    [InlineData("4", "Budget:Replicas=4 and no Redis:ConnectionString: each replica allows 25 calls")]
    public async Task BudgetStartup_WithoutRedis_WarnsWhatEachReplicaAllows(string replicas, string expected)
    {
        using var provider = Build(new() { ["Budget:Replicas"] = replicas });
        var log = new EntitlementGateway.UnitTests.Infrastructure.WrittenLog<BudgetStartup>();
        var startup = new BudgetStartup(provider.GetRequiredService<IUserBudget>(), provider, provider.GetRequiredService<IOptions<BudgetOptions>>(), log);

        await startup.StartAsync(CancellationToken.None);

        var line = Assert.Single(log.Written);
        Assert.Equal(Microsoft.Extensions.Logging.LogLevel.Warning, line.Level);
        Assert.Contains(expected, line.Text, StringComparison.Ordinal);
    }
}
