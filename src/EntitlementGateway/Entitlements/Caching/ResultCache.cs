using System.Diagnostics;
using System.Text.Json;
using EntitlementGateway.Infrastructure.Telemetry;
using System.Text.Json.Serialization;
using EntitlementGateway.Hosting;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;
using StackExchange.Redis;
using EntitlementGateway.Infrastructure.Logging;
using EntitlementGateway.Infrastructure.Redis;

namespace EntitlementGateway.Entitlements.Caching;

/// <summary>One cached answer with the two instants that matter: served as is until FreshUntil, as stale until StaleUntil.</summary>
public sealed record CachedResult(IReadOnlyList<Entitlement> Entitlements, DateTimeOffset StoredAt, DateTimeOffset FreshUntil, DateTimeOffset StaleUntil);

/// <summary>
/// Successful answers by <see cref="QueryCacheKey"/>: L1 a bounded in-memory cache, L2 Redis (shared by replicas) when
/// configured. Redis is an optimisation only: it is asked with a short timeout and any failure is a miss, never an error.
/// After a failure Redis is skipped for a second (as the budget does), so an outage costs one timeout per second, not one per miss.
/// Uses only StackExchange.Redis API that 2.x keeps (StringGetAsync, StringSetAsync with expiry, KeyDeleteAsync).
/// </summary>
public sealed partial class ResultCache : IDisposable
{
    private const string RedisPrefix = "eg:cache:v1:";
    private readonly MemoryCache _memory;
    private readonly CacheOptions _options;
    private readonly RedisConnection? _redis;
    private readonly TimeSpan _redisTimeout;
    private readonly TimeProvider _time;
    private readonly ILogger<ResultCache> _logger;
    private readonly RedisBackoff _backoff;
    private readonly GatewayMetrics? _metrics;

    public ResultCache(IOptions<CacheOptions> options, IOptions<RedisOptions> redisOptions, TimeProvider time,
        ILogger<ResultCache> logger, RedisConnection? redis = null, GatewayMetrics? metrics = null)
    {
        _metrics = metrics;
        _options = options.Value;
        _time = time;
        _backoff = new RedisBackoff(time);
        _logger = logger;
        _redis = _options.UseRedis ? redis : null;
        _redisTimeout = redisOptions.Value.OperationTimeout;
        _memory = new MemoryCache(new MemoryCacheOptions { SizeLimit = _options.MaxEntries, CompactionPercentage = 0.1 });
    }

    public bool UsesRedis => _redis is not null;

    /// <summary>The entry for <paramref name="key"/> that is still usable as stale (or fresh), from L1 then L2.</summary>
    public async Task<CachedResult?> GetAsync(string key, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        if (!_memory.TryGetValue(key, out CachedResult? local) || local is null || now >= local.StaleUntil) local = null;
        _metrics?.CacheLookup("l1", local is not null);
        // A fresh local answer is enough; otherwise another replica may have stored a newer one.
        if (_redis is null || (local is not null && now < local.FreshUntil)) return local;

        var remote = await RedisAsync(async db =>
        {
            var value = await db.StringGetAsync(RedisPrefix + key);
            return value.IsNullOrEmpty ? null : JsonSerializer.Deserialize((byte[])value!, CacheJsonContext.Default.CachedResult);
        }, cancellationToken);
        var newer = remote is not null && now < remote.StaleUntil && (local is null || remote.StoredAt > local.StoredAt);
        _metrics?.CacheLookup("l2", newer);
        if (!newer) return local;
        Remember(key, remote!);
        return remote;
    }

    /// <summary>Keeps a successful answer: fresh for Cache:Ttl, usable as stale for Cache:MaxStale.</summary>
    public async Task<CachedResult> SetAsync(string key, IReadOnlyList<Entitlement> entitlements, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        var entry = new CachedResult(entitlements, now, now + _options.Ttl, now + _options.MaxStale);
        Remember(key, entry);
        if (_redis is not null)
        {
            var bytes = JsonSerializer.SerializeToUtf8Bytes(entry, CacheJsonContext.Default.CachedResult);
            await RedisAsync(db => db.StringSetAsync(RedisPrefix + key, bytes, _options.MaxStale), cancellationToken);
        }
        return entry;
    }

    /// <summary>Forgets an answer (the Store refused the UCID it was for).</summary>
    public async Task RemoveAsync(string key, CancellationToken cancellationToken)
    {
        _memory.Remove(key);
        if (_redis is not null) await RedisAsync(db => db.KeyDeleteAsync(RedisPrefix + key), cancellationToken);
    }

    private void Remember(string key, CachedResult entry)
    {
        var lifetime = entry.StaleUntil - _time.GetUtcNow();
        if (lifetime <= TimeSpan.Zero) return;
        _memory.Set(key, entry, new MemoryCacheEntryOptions { Size = 1, AbsoluteExpirationRelativeToNow = lifetime });
    }

    private async Task<TResult?> RedisAsync<TResult>(Func<IDatabase, Task<TResult>> call, CancellationToken cancellationToken)
    {
        if (_backoff.Skipping) return default;
        var started = Stopwatch.GetTimestamp();
        try
        {
            var result = await _backoff.CallAsync(() => CallAsync(call), _redisTimeout, cancellationToken);
            _metrics?.RedisCall("cache", null, Stopwatch.GetElapsedTime(started).TotalSeconds);
            return result;
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            _metrics?.RedisCall("cache", ex.GetType().Name, Stopwatch.GetElapsedTime(started).TotalSeconds);
            LogRedisMiss(_logger, ex.GetType().Name);
            return default;
        }
    }

    public void Dispose() => _memory.Dispose();

    private async Task<TResult> CallAsync<TResult>(Func<IDatabase, Task<TResult>> call)
    {
        var multiplexer = await _redis!.GetAsync();
        return await call(multiplexer.GetDatabase());
    }

    [LoggerMessage(EventId = EventIds.ResultCacheRedisMiss, EventName = nameof(EventIds.ResultCacheRedisMiss), Level = LogLevel.Warning, Message = "Result cache: Redis did not answer ({Reason}); treated as a miss")]
    private static partial void LogRedisMiss(ILogger logger, string reason);
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(CachedResult))]
internal sealed partial class CacheJsonContext : JsonSerializerContext;
