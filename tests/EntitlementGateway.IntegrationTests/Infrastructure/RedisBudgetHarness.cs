using Microsoft.Extensions.Logging;
using EntitlementGateway.Budget;
using EntitlementGateway.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using StackExchange.Redis;
using EntitlementGateway.Infrastructure.Redis;

namespace EntitlementGateway.IntegrationTests.Infrastructure;

/// <summary>
/// One "gateway replica": its own connection and budget, as the service would build them. The default operation timeout
/// is generous so behaviour tests do not depend on how busy the machine is; the availability tests set 250 ms.
/// </summary>
public sealed class BudgetReplica : IAsyncDisposable
{
    public BudgetReplica(string connectionString, int limit, int windowSeconds, int operationTimeoutMs = 5_000, ILogger<RedisUserBudget>? logger = null)
    {
        var redis = new RedisOptions { ConnectionString = connectionString, OperationTimeoutMs = operationTimeoutMs, ConnectTimeoutMs = 2_000 };
        Connection = new RedisConnection(Options.Create(redis));
        Budget = new RedisUserBudget(
            Connection,
            Options.Create(new BudgetOptions { Limit = limit, WindowSeconds = windowSeconds, SafetyMarginMs = 0 }),
            Options.Create(redis),
            TimeProvider.System,
            logger ?? NullLogger<RedisUserBudget>.Instance);
    }

    public RedisConnection Connection { get; }

    public RedisUserBudget Budget { get; }

    public ValueTask DisposeAsync() => Connection.DisposeAsync();
}

/// <summary>Admin access for assertions: command statistics, TTLs, script flush.</summary>
public sealed class RedisAdmin : IAsyncDisposable
{
    private readonly ConnectionMultiplexer _multiplexer;

    private RedisAdmin(ConnectionMultiplexer multiplexer) => _multiplexer = multiplexer;

    public static async Task<RedisAdmin> ConnectAsync(string adminConnectionString) =>
        new(await ConnectionMultiplexer.ConnectAsync(adminConnectionString));

    public IDatabase Database => _multiplexer.GetDatabase();

    private IServer Server => _multiplexer.GetServer(_multiplexer.GetEndPoints()[0]);

    /// <summary><c>INFO commandstats</c> as command → calls (e.g. "evalsha" → 12).</summary>
    public async Task<Dictionary<string, long>> CommandCallsAsync()
    {
        var info = await Server.InfoAsync("commandstats");
        var calls = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var pair in info.SelectMany(group => group))
        {
            if (!pair.Key.StartsWith("cmdstat_", StringComparison.Ordinal))
            {
                continue;
            }

            var field = pair.Value.Split(',').First(part => part.StartsWith("calls=", StringComparison.Ordinal));
            calls[pair.Key["cmdstat_".Length..]] = long.Parse(field["calls=".Length..], System.Globalization.CultureInfo.InvariantCulture);
        }

        return calls;
    }

    public static Dictionary<string, long> Delta(Dictionary<string, long> before, Dictionary<string, long> after) =>
        after.Select(p => (p.Key, Calls: p.Value - before.GetValueOrDefault(p.Key)))
            .Where(p => p.Calls != 0)
            .ToDictionary(p => p.Key, p => p.Calls, StringComparer.Ordinal);

    public Task FlushScriptsAsync() => Server.ScriptFlushAsync();

    public ValueTask DisposeAsync()
    {
        _multiplexer.Dispose();
        return ValueTask.CompletedTask;
    }
}
