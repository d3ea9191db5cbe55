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
}
