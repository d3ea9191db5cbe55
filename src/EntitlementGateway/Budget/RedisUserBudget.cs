using EntitlementGateway.Hosting;
using Microsoft.Extensions.Options;
using StackExchange.Redis;
using EntitlementGateway.Infrastructure.Logging;
using EntitlementGateway.Infrastructure.Redis;
using EntitlementGateway.Infrastructure.Telemetry;

namespace EntitlementGateway.Budget;

/// <summary>
/// The budget shared by every replica: one ZSET per user in Redis, changed only by Lua scripts that read Redis's own
/// clock, so one decision is exactly one round trip (EVALSHA) and the limit holds across any number of replicas.
/// Uses only StackExchange.Redis API that 2.x keeps (ConnectAsync, ScriptEvaluateAsync(byte[] sha), IServer.ScriptLoadAsync,
/// SortedSetRemoveAsync), so moving from 1.2.6 to 2.x is a version bump.
/// </summary>
public sealed partial class RedisUserBudget : IUserBudget
{
    private readonly RedisConnection _connection;
    private readonly BudgetOptions _budget;
    private readonly TimeSpan _timeout;
    private readonly TimeSpan _warmUpTimeout;
    private readonly TimeProvider _time;
    private readonly ILogger<RedisUserBudget> _logger;
    private volatile ScriptHashes? _hashes;
    private readonly GatewayMetrics? _metrics;

    public RedisUserBudget(
        RedisConnection connection,
        IOptions<BudgetOptions> budget,
        IOptions<RedisOptions> redis,
        TimeProvider time,
        ILogger<RedisUserBudget> logger,
        GatewayMetrics? metrics = null)
    {
        _metrics = metrics;
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(budget);
        ArgumentNullException.ThrowIfNull(redis);
        _connection = connection;
        _budget = budget.Value;
        _timeout = redis.Value.OperationTimeout;
        _warmUpTimeout = _timeout + TimeSpan.FromMilliseconds(redis.Value.ConnectTimeoutMs);
        _time = time ?? throw new ArgumentNullException(nameof(time));
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
    }

    /// <summary>Redis refused the connection string's password or user (see <see cref="RedisConnection.CredentialsRefused"/>).</summary>
    public bool CredentialsRefused => _connection.CredentialsRefused;

    private long WindowMicroseconds => (long)(_budget.CountingWindow.TotalMilliseconds * 1_000);

    public async ValueTask<BudgetDecision> TryAcquireAsync(string key, CancellationToken cancellationToken = default)
    {
        var (log, blocked) = BudgetKeys.For(key);
        var lease = Guid.NewGuid().ToString("N");
        var result = await EvaluateAsync(
            static h => h.Acquire,
            [log, blocked],
            [_budget.Limit, WindowMicroseconds, lease],
            cancellationToken).ConfigureAwait(false);

        var reply = (RedisResult[])result!;
        var allowed = (long)reply[0] == 1;
        return new BudgetDecision(
            allowed,
            (int)(long)reply[1],
            TimeSpan.FromMilliseconds((long)reply[2]),
            TimeSpan.FromMilliseconds((long)reply[3]),
            allowed ? (string?)reply[4] : null);
    }

    public ValueTask RefundAsync(string key, string lease, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(lease);
        var (log, _) = BudgetKeys.For(key);
        return new ValueTask(GuardAsync(
            async () =>
            {
                var multiplexer = await _connection.GetAsync().ConfigureAwait(false);
                return await multiplexer.GetDatabase().SortedSetRemoveAsync(log, lease).ConfigureAwait(false);
            },
            cancellationToken));
    }

    public async ValueTask BlockUntilAsync(string key, DateTimeOffset until, CancellationToken cancellationToken = default)
    {
        // Sent as a duration so the instant is placed on Redis's clock, the one the acquire script compares with.
        var duration = until - _time.GetUtcNow();
        if (duration <= TimeSpan.Zero)
        {
            return;
        }

        var (_, blocked) = BudgetKeys.For(key);
        await EvaluateAsync(
            static h => h.Block,
            [blocked],
            [(long)Math.Ceiling(duration.TotalMicroseconds)],
            cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<BudgetSnapshot> GetAsync(string key, CancellationToken cancellationToken = default)
    {
        var (log, blocked) = BudgetKeys.For(key);
        var result = await EvaluateAsync(
            static h => h.Get,
            [log, blocked],
            [WindowMicroseconds],
            cancellationToken).ConfigureAwait(false);

        var reply = (RedisResult[])result!;
        var used = (int)(long)reply[0];
        var oldestAgeUs = (long)reply[1];
        var blockedForUs = (long)reply[2];
        var now = _time.GetUtcNow();
        return new BudgetSnapshot(
            key,
            _budget.Limit,
            _budget.WindowSeconds,
            used,
            Math.Max(0, _budget.Limit - used),
            oldestAgeUs < 0 ? null : now - TimeSpan.FromMicroseconds(oldestAgeUs),
            blockedForUs < 0 ? null : now + TimeSpan.FromMicroseconds(blockedForUs));
    }

    /// <summary>
    /// Connects and loads the scripts ahead of the first request (optional; the first call does it otherwise).
    /// Bounded by the connect timeout rather than the per-call one: a first connect may take longer than a decision.
    /// </summary>
    public Task WarmUpAsync(CancellationToken cancellationToken = default) =>
        GuardAsync(
            async () =>
            {
                var multiplexer = await _connection.GetAsync().ConfigureAwait(false);
                return _hashes = await LoadScriptsAsync(multiplexer).ConfigureAwait(false);
            },
            cancellationToken,
            _warmUpTimeout);

    private Task<RedisResult> EvaluateAsync(
        Func<ScriptHashes, byte[]> script,
        RedisKey[] keys,
        RedisValue[] values,
        CancellationToken cancellationToken) =>
        GuardAsync(
            async () =>
            {
                var multiplexer = await _connection.GetAsync().ConfigureAwait(false);
                var hashes = _hashes ??= await LoadScriptsAsync(multiplexer).ConfigureAwait(false);
                var database = multiplexer.GetDatabase();
                try
                {
                    return await database.ScriptEvaluateAsync(script(hashes), keys, values).ConfigureAwait(false);
                }
                catch (RedisServerException e) when (e.Message.StartsWith("NOSCRIPT", StringComparison.Ordinal))
                {
                    // Redis restarted or SCRIPT FLUSH ran: load again, retry once.
                    Log.ScriptsReloaded(_logger);
                    hashes = _hashes = await LoadScriptsAsync(multiplexer).ConfigureAwait(false);
                    return await database.ScriptEvaluateAsync(script(hashes), keys, values).ConfigureAwait(false);
                }
            },
            cancellationToken);

    public async ValueTask ResetAsync(string key, CancellationToken cancellationToken = default)
    {
        var (log, blocked) = BudgetKeys.For(key);
        await DeleteAsync([log, blocked], cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask UnblockAsync(string key, CancellationToken cancellationToken = default)
    {
        var (_, blocked) = BudgetKeys.For(key);
        await DeleteAsync([blocked], cancellationToken).ConfigureAwait(false);
    }

    // Both keys share one hash tag, so one DEL stays on one Cluster slot.
    private Task<long> DeleteAsync(RedisKey[] keys, CancellationToken cancellationToken) =>
        GuardAsync(
            async () =>
            {
                var multiplexer = await _connection.GetAsync().ConfigureAwait(false);
                return await multiplexer.GetDatabase().KeyDeleteAsync(keys).ConfigureAwait(false);
            },
            cancellationToken);

    /// <summary>Every failure to get an answer in time becomes one exception type; caller cancellation stays itself.</summary>
    private async Task<T> GuardAsync<T>(Func<Task<T>> operation, CancellationToken cancellationToken, TimeSpan? timeout = null)
    {
        var limit = timeout ?? _timeout;
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var task = operation();
        try
        {
            var result = await task.WaitAsync(limit, cancellationToken).ConfigureAwait(false);
            _metrics?.RedisCall("budget", null, System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds);
            return result;
        }
        catch (TimeoutException e)
        {
            // Also RedisTimeoutException, which derives from TimeoutException rather than RedisException.
            _metrics?.RedisCall("budget", "timeout", System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds);
            Observe(task);
            Log.Unavailable(_logger, LogLevel.Debug, "timeout", e);
            throw new BudgetUnavailableException($"Redis did not answer within {limit.TotalMilliseconds} ms.", e);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            Observe(task);
            throw;
        }
        catch (RedisServerException e) when (e.Message.StartsWith("WRONGTYPE", StringComparison.Ordinal))
        {
            _metrics?.RedisCall("budget", "wrongtype", System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds);
            Log.Unavailable(_logger, LogLevel.Warning, "wrongtype", e);
            throw new BudgetUnavailableException("Redis holds a value of another type at this player's budget key (written by something else).", e) { OnlyThisKey = true };
        }
        catch (RedisException e)
        {
            _metrics?.RedisCall("budget", e.GetType().Name, System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds);
            Log.Unavailable(_logger, LogLevel.Debug, e.GetType().Name, e);
            throw new BudgetUnavailableException("Redis could not serve the budget call.", e);
        }
    }

    // An abandoned call may still fail later; observe it so it does not surface as an unobserved task exception.
    private static void Observe(Task task) =>
        task.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);

    /// <summary>SCRIPT LOAD on every connected server (a Cluster has several); the hash is the same everywhere.</summary>
    private static async Task<ScriptHashes> LoadScriptsAsync(ConnectionMultiplexer multiplexer)
    {
        ScriptHashes? hashes = null;
        foreach (var endpoint in multiplexer.GetEndPoints())
        {
            var server = multiplexer.GetServer(endpoint);
            if (!server.IsConnected)
            {
                continue;
            }

            hashes = new ScriptHashes(
                await server.ScriptLoadAsync(RedisBudgetScripts.Acquire).ConfigureAwait(false),
                await server.ScriptLoadAsync(RedisBudgetScripts.Block).ConfigureAwait(false),
                await server.ScriptLoadAsync(RedisBudgetScripts.Get).ConfigureAwait(false));
        }

        return hashes ?? throw new BudgetUnavailableException("No Redis server is connected.");
    }

    private sealed record ScriptHashes(byte[] Acquire, byte[] Block, byte[] Get);

    private static partial class Log
    {
        // Debug for an outage: every call fails while it lasts, and the failover budget logs once when Redis is lost and
        // once when it is back. A value of another type at one key is a one-off worth a Warning.
        [LoggerMessage(EventId = EventIds.BudgetRedisCallFailed, EventName = nameof(EventIds.BudgetRedisCallFailed), Message = "Budget store unavailable ({Reason}).")]
        public static partial void Unavailable(ILogger logger, LogLevel level, string reason, Exception exception);

        [LoggerMessage(EventId = EventIds.BudgetRedisScriptReloaded, EventName = nameof(EventIds.BudgetRedisScriptReloaded), Level = LogLevel.Information, Message = "Budget scripts were missing on Redis (restart or flush); loaded again.")]
        public static partial void ScriptsReloaded(ILogger logger);
    }
}
