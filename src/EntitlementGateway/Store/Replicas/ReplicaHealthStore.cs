using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization;
using EntitlementGateway.Infrastructure.Logging;
using EntitlementGateway.Infrastructure.Redis;
using EntitlementGateway.Infrastructure.Telemetry;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace EntitlementGateway.Store.Replicas;

/// <summary>
/// The replicas' Store health snapshots in Redis: one key per replica with a TTL of a few intervals, plus an index
/// (a sorted set scored by the last write) so they are listed without SCAN. A Redis failure is never thrown: writing
/// skips a beat, reading answers null (the other replicas are unknown). After a failure Redis is skipped for a second,
/// as the budget and the cache do. Uses only StackExchange.Redis API that 2.x keeps.
/// </summary>
public sealed partial class ReplicaHealthStore
{
    private readonly RedisConnection? _redis;
    private readonly RedisBackoff _backoff;
    private readonly ReplicaHealthOptions _options;
    private readonly TimeSpan _timeout;
    private readonly TimeProvider _time;
    private readonly ILogger<ReplicaHealthStore> _logger;
    private readonly GatewayMetrics? _metrics;
    private int _failing;

    public ReplicaHealthStore(IOptions<ReplicaHealthOptions> options, IOptions<RedisOptions> redisOptions, TimeProvider time,
        ILogger<ReplicaHealthStore> logger, RedisConnection? redis = null, GatewayMetrics? metrics = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(redisOptions);
        _options = options.Value;
        _redis = redisOptions.Value.Configured ? redis : null;
        _timeout = redisOptions.Value.OperationTimeout;
        _time = time;
        _logger = logger;
        _metrics = metrics;
        _backoff = new RedisBackoff(time);
    }

    /// <summary>Whether replicas share their health (Redis is configured).</summary>
    public bool Shared => _redis is not null;

    /// <summary>Writes this replica's snapshot; false when Redis did not take it.</summary>
    public async Task<bool> PublishAsync(StoreHealthReport report, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(report);
        var json = JsonSerializer.SerializeToUtf8Bytes(report, ReplicaHealthJsonContext.Default.StoreHealthReport);
        var now = _time.GetUtcNow();
        return await RedisAsync(async db =>
        {
            // The index forgets replicas silent for longer than a snapshot lives, and itself goes when every replica does.
            var written = db.StringSetAsync(ReplicaHealthKeys.Snapshot(report.Replica), json, _options.Ttl);
            await Task.WhenAll(written,
                db.SortedSetAddAsync(ReplicaHealthKeys.Index, report.Replica, now.ToUnixTimeMilliseconds()),
                db.SortedSetRemoveRangeByScoreAsync(ReplicaHealthKeys.Index, double.NegativeInfinity, (now - _options.Ttl).ToUnixTimeMilliseconds()),
                db.KeyExpireAsync(ReplicaHealthKeys.Index, _options.Ttl));
            return await written;
        }, cancellationToken);
    }

    /// <summary>Every live replica's snapshot, or null when Redis is not configured or did not answer.</summary>
    public async Task<IReadOnlyList<StoreHealthReport>?> ReadAsync(CancellationToken cancellationToken)
    {
        if (_redis is null) return null;
        var since = (_time.GetUtcNow() - _options.Ttl).ToUnixTimeMilliseconds();
        var read = await RedisAsync(async db =>
        {
            var names = await db.SortedSetRangeByScoreAsync(ReplicaHealthKeys.Index, since, double.PositiveInfinity);
            // One GET per replica rather than one MGET: the keys need not share a cluster slot.
            var values = await Task.WhenAll(names.Select(name => db.StringGetAsync(ReplicaHealthKeys.Snapshot((string)name!))));
            return values;
        }, cancellationToken);
        if (read is null) return null;
        var reports = new List<StoreHealthReport>();
        foreach (var value in read)
        {
            if (value.IsNullOrEmpty) continue; // expired between the index and the key
            try
            {
                if (JsonSerializer.Deserialize((byte[])value!, ReplicaHealthJsonContext.Default.StoreHealthReport) is { } report) reports.Add(report);
            }
            catch (JsonException)
            {
                LogSnapshotUnreadable(_logger);
            }
        }
        return reports;
    }

    private async Task<TResult?> RedisAsync<TResult>(Func<IDatabase, Task<TResult>> call, CancellationToken cancellationToken)
    {
        if (_redis is null || _backoff.Skipping) return default;
        var started = Stopwatch.GetTimestamp();
        try
        {
            var result = await _backoff.CallAsync(async () => await call((await _redis.GetAsync()).GetDatabase()), _timeout, cancellationToken);
            _metrics?.RedisCall("replicas", null, Stopwatch.GetElapsedTime(started).TotalSeconds);
            if (Interlocked.Exchange(ref _failing, 0) == 1) LogRedisRecovered(_logger);
            return result;
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            _metrics?.RedisCall("replicas", ex.GetType().Name, Stopwatch.GetElapsedTime(started).TotalSeconds);
            if (Interlocked.Exchange(ref _failing, 1) == 0) LogRedisFailed(_logger, ex.GetType().Name);
            return default;
        }
    }

    [LoggerMessage(EventId = EventIds.ReplicaHealthRedisFailed, EventName = nameof(EventIds.ReplicaHealthRedisFailed), Level = LogLevel.Warning, Message = "Replica health: Redis did not answer ({Reason}); other replicas' Store health is unknown until it does")]
    private static partial void LogRedisFailed(ILogger logger, string reason);

    [LoggerMessage(EventId = EventIds.ReplicaHealthRedisRecovered, EventName = nameof(EventIds.ReplicaHealthRedisRecovered), Level = LogLevel.Information, Message = "Replica health: Redis answers again")]
    private static partial void LogRedisRecovered(ILogger logger);

    [LoggerMessage(EventId = EventIds.ReplicaHealthSnapshotUnreadable, EventName = nameof(EventIds.ReplicaHealthSnapshotUnreadable), Level = LogLevel.Warning, Message = "Replica health: a replica's snapshot in Redis is not readable; it is left out")]
    private static partial void LogSnapshotUnreadable(ILogger logger);
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(StoreHealthReport))]
internal sealed partial class ReplicaHealthJsonContext : JsonSerializerContext;
