using System.Runtime.CompilerServices;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
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

/// <summary>One cached answer with the two instants that matter: served as is until FreshUntil, as stale until StaleUntil.
/// <see cref="Entitlements"/> are the answer's candidates (<see cref="EntitlementFilter.Candidates"/>): what is served is
/// what of them is owned at the instant it is served (<see cref="EntitlementFilter.OwnedAt"/>).</summary>
public sealed record CachedResult(IReadOnlyList<Entitlement> Entitlements, DateTimeOffset StoredAt, DateTimeOffset FreshUntil, DateTimeOffset StaleUntil)
{
    /// <summary>The JSON of the cache-hit answer with all of <see cref="Entitlements"/>, made by the first hit that sends it
    /// (kept in this replica's memory only, never in Redis).</summary>
    internal Infrastructure.Http.JsonAnswerMemo HitAnswer { get; } = new();
}

/// <summary>
/// Successful answers by <see cref="QueryCacheKey"/>: L1 a bounded in-memory cache, L2 Redis (shared by replicas) when
/// configured. Redis is an optimisation only: it is asked with a short timeout and any failure is a miss, never an error.
/// After a failure Redis is skipped for a second (as the budget does), so an outage costs one timeout per second, not one per miss.
/// A player's answers can be dropped (<see cref="DropPlayerAsync"/>): a drop mark, kept in memory, in Redis beside the
/// entries, and announced to the other replicas on a Redis channel, hides every answer fetched before it.
/// Uses only StackExchange.Redis API that 2.x keeps (StringGetAsync, StringSetAsync with expiry, KeyDeleteAsync, pub/sub).
/// </summary>
public sealed partial class ResultCache : IDisposable
{
    // v2: entries hold every candidate of an answer, not only the copies owned when it was fetched; a replica of the
    // version before would serve v2's candidates as they are, so the two never read each other's entries.
    private const string RedisPrefix = "eg:cache:v2:";
    private const string DropPrefix = "eg:cache:v1:drop:";
    private const string DropChannel = "eg:cache:v1:drops";
    private readonly MemoryCache _memory;
    private readonly CacheOptions _options;
    private readonly RedisConnection? _redis;
    private readonly TimeSpan _redisTimeout;
    private readonly TimeProvider _time;
    private readonly ILogger<ResultCache> _logger;
    private readonly RedisBackoff _backoff;
    private readonly GatewayMetrics? _metrics;
    private readonly PlayerDrops _drops;
    private Task? _subscription;

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
        _drops = new PlayerDrops(_options.MaxEntries);
    }

    public bool UsesRedis => _redis is not null;

    /// <summary>
    /// The entry for <paramref name="key"/> (an answer for <paramref name="playerKey"/>) that is still usable as stale (or
    /// fresh) and was not dropped, from L1 then L2.
    /// </summary>
    public Task<CachedResult?> GetAsync(string key, string playerKey, CancellationToken cancellationToken) =>
        GetAsync(key, playerKey, countLookup: true, cancellationToken);

    /// <summary>As <see cref="GetAsync(string, string, CancellationToken)"/>; <paramref name="countLookup"/> false when no
    /// cached answer will be served (Cache-Control: no-cache: the entry is only kept at hand to stand in stale), so it is
    /// no lookup in the hit ratio. A hit is a fresh answer, the one a query is served.</summary>
    public Task<CachedResult?> GetAsync(string key, string playerKey, bool countLookup, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        var local = SlotOf(key)?.Current;
        if (local is null || now >= local.StaleUntil) local = null;
        else if (_drops.Dropped(playerKey, local.StoredAt)) local = Forget(key);
        var fresh = local is not null && now < local.FreshUntil;
        if (countLookup) _metrics?.CacheLookup("l1", fresh);
        // A fresh local answer is enough; otherwise another replica may have stored a newer one, or dropped the player's.
        if (_redis is null || fresh) return Task.FromResult(local);
        return GetFromRedisAsync(key, playerKey, local, now, countLookup, cancellationToken);
    }

    // The Redis halves of the lookups are methods of their own, never inlined: a replica without Redis then never
    // compiles code that names the Redis client's types, so it never loads the client at all.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private async Task<CachedResult?> GetFromRedisAsync(string key, string playerKey, CachedResult? local, DateTimeOffset now,
        bool countLookup, CancellationToken cancellationToken)
    {
        var (remote, droppedAt) = await RedisAsync(async db =>
        {
            var values = await db.StringGetAsync([RedisPrefix + QueryCacheKey.Hashed(key), DropKey(playerKey)]);
            var entry = values[0].IsNullOrEmpty ? null : JsonSerializer.Deserialize((byte[])values[0]!, CacheJsonContext.Default.CachedResult);
            return new RemoteEntry(entry, values[1].TryParse(out long ticks) ? new DateTimeOffset(ticks, TimeSpan.Zero) : null);
        }, cancellationToken);
        if (droppedAt is { } at)
        {
            _drops.Mark(playerKey, at, _options.MaxStale);
            if (local is not null && _drops.Dropped(playerKey, local.StoredAt)) local = Forget(key);
        }
        var newer = remote is not null && now < remote.StaleUntil && !_drops.Dropped(playerKey, remote.StoredAt) &&
            (local is null || remote.StoredAt > local.StoredAt);
        if (countLookup) _metrics?.CacheLookup("l2", newer && now < remote!.FreshUntil);
        if (!newer) return local;
        var entry = Kept(local, remote!);
        // Looked up again: the slot may have been forgotten or have expired while Redis answered.
        Remember(key, SlotOf(key), entry);
        return entry;
    }

    /// <summary>
    /// Keeps a successful answer fetched from the Store at <paramref name="fetchedAt"/> (when the fetch began, so a drop
    /// during the fetch hides it): fresh for Cache:Ttl, usable as stale for Cache:MaxStale from then.
    /// </summary>
    public async Task<CachedResult> SetAsync(string key, string playerKey, IReadOnlyList<Entitlement> entitlements,
        DateTimeOffset fetchedAt, CancellationToken cancellationToken)
    {
        var slot = SlotOf(key);
        var entry = Kept(slot?.Current, new CachedResult(entitlements, fetchedAt, fetchedAt + _options.Ttl, fetchedAt + _options.MaxStale));
        // A fetch begun after this one (a no-cache query's, which joins no flight) stored its answer first: it stays.
        if (slot?.Current is { } current && current.StoredAt > fetchedAt) return entry;
        // The player's answers were dropped while this one was on its way: it may predate what the drop was for.
        if (_drops.Dropped(playerKey, fetchedAt)) return entry;
        Remember(key, slot, entry);
        if (_redis is not null) await SetInRedisAsync(key, entry, cancellationToken);
        return entry;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private async Task SetInRedisAsync(string key, CachedResult entry, CancellationToken cancellationToken)
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(entry, CacheJsonContext.Default.CachedResult);
        await RedisAsync(db => db.StringSetAsync(RedisPrefix + QueryCacheKey.Hashed(key), bytes, _options.MaxStale), cancellationToken);
    }

    /// <summary>
    /// Drops every answer cached for <paramref name="playerKey"/> (the budget key): here at once, in Redis for every
    /// replica's next L2 read, and announced to the replicas' L1. False when Redis is configured but was not reached:
    /// then only this replica has dropped them (others serve theirs until their Cache:Ttl ends).
    /// </summary>
    public async Task<bool> DropPlayerAsync(string playerKey, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(playerKey);
        var now = _time.GetUtcNow();
        _drops.Mark(playerKey, now, _options.MaxStale);
        if (_redis is null) return true;
        var ticks = now.UtcTicks.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return await RedisAsync(async db =>
        {
            await db.StringSetAsync(DropKey(playerKey), ticks, _options.MaxStale);
            await db.PublishAsync(DropChannel, ticks + "\n" + playerKey);
            return true;
        }, cancellationToken);
    }

    /// <summary>Forgets an answer (the Store refused the UCID it was for).</summary>
    public async Task RemoveAsync(string key, CancellationToken cancellationToken)
    {
        _memory.Remove(key);
        if (_redis is not null) await RemoveFromRedisAsync(key, cancellationToken);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private async Task RemoveFromRedisAsync(string key, CancellationToken cancellationToken) =>
        await RedisAsync(db => db.KeyDeleteAsync(RedisPrefix + QueryCacheKey.Hashed(key)), cancellationToken);

    /// <summary>
    /// A newer answer that changed nothing keeps the entry's objects and its hit JSON, with the newer answer's instants:
    /// the old objects, long-lived by now, stay where they are and the new ones die young, so refreshing a large cache
    /// (here, or by another replica through Redis) leaves no old-generation garbage.
    /// </summary>
    private static CachedResult Kept(CachedResult? kept, CachedResult newer) =>
        kept is not null && SameAnswer(kept.Entitlements, newer.Entitlements)
            ? kept with { StoredAt = newer.StoredAt, FreshUntil = newer.FreshUntil, StaleUntil = newer.StaleUntil }
            : newer;

    /// <summary>The same entitlements in the same order, field by field (so the same answer JSON).</summary>
    internal static bool SameAnswer(IReadOnlyList<Entitlement> kept, IReadOnlyList<Entitlement> fetched)
    {
        if (kept.Count != fetched.Count) return false;
        for (var i = 0; i < kept.Count; i++)
            if (!Same(kept[i], fetched[i])) return false;
        return true;
    }

    // Not record equality: that compares instants, not their offsets (which the JSON shows), and the lists by reference.
    private static bool Same(Entitlement a, Entitlement b) =>
        a.ProductId == b.ProductId && a.SkuId == b.SkuId && a.ProductKind == b.ProductKind && a.AcquisitionType == b.AcquisitionType &&
        a.Quantity == b.Quantity && a.StartDate.EqualsExact(b.StartDate) && a.EndDate.EqualsExact(b.EndDate) &&
        a.AcquiredDate.HasValue == b.AcquiredDate.HasValue && (a.AcquiredDate is not { } acquired || acquired.EqualsExact(b.AcquiredDate!.Value)) &&
        a.Trial == b.Trial && a.SatisfiedByProductIds.SequenceEqual(b.SatisfiedByProductIds);

    /// <summary>Removes a dropped answer from L1; null, for the caller to hold instead.</summary>
    private CachedResult? Forget(string key)
    {
        _memory.Remove(key);
        return null;
    }

    /// <summary>
    /// Puts <paramref name="entry"/> in the key's slot (<paramref name="slot"/>, as the caller found it, so a refresh costs
    /// one lookup), making the slot if there is none. A refresh changes the slot's answer in place: replacing the cache's
    /// entry made a new entry, key string and options per refresh, and the old ones, long-lived by then, died in the old
    /// generation (2–4 MB a round of 5,000 refreshes). The slot expires when nobody has read or refreshed it for
    /// Cache:MaxStale, which no answer outlives; an answer past its StaleUntil in a slot not yet expired is treated as absent.
    /// </summary>
    private void Remember(string key, Slot? slot, CachedResult entry)
    {
        if (entry.StaleUntil <= _time.GetUtcNow()) return;
        if (slot is not null) slot.Current = entry;
        else _memory.Set(key, new Slot(entry), new MemoryCacheEntryOptions { Size = 1, SlidingExpiration = _options.MaxStale });
    }

    private Slot? SlotOf(string key) => _memory.TryGetValue(key, out Slot? slot) ? slot : null;

    /// <summary>The L1 place of <paramref name="key"/>'s answer, or null (for tests: a refresh keeps it).</summary>
    internal object? L1Slot(string key) => SlotOf(key);

    /// <summary>An answer's place in L1.</summary>
    private sealed class Slot(CachedResult current)
    {
        public volatile CachedResult Current = current;
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

    public void Dispose()
    {
        _memory.Dispose();
        _drops.Dispose();
    }

    private async Task<TResult> CallAsync<TResult>(Func<IDatabase, Task<TResult>> call)
    {
        var multiplexer = await _redis!.GetAsync();
        await SubscribeToDropsAsync(multiplexer);
        return await call(multiplexer.GetDatabase());
    }

    /// <summary>
    /// Listens, once, for the other replicas' drops, and the first Redis calls wait until it listens: this replica
    /// caches nothing before its first Redis call, so no answer it keeps can miss a drop announced later. A failed
    /// subscribe is tried again by the next call, which goes on meanwhile. The multiplexer renews it after a reconnect.
    /// </summary>
    private async Task SubscribeToDropsAsync(ConnectionMultiplexer multiplexer)
    {
        var subscription = Volatile.Read(ref _subscription);
        if (subscription is null)
        {
            var started = multiplexer.GetSubscriber().SubscribeAsync(DropChannel, (_, message) => OnDropAnnounced(message));
            subscription = Interlocked.CompareExchange(ref _subscription, started, null) ?? started;
        }
        if (subscription.IsCompletedSuccessfully) return;
        try
        {
            await subscription;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            _ = Interlocked.CompareExchange(ref _subscription, null, subscription);
            LogRedisMiss(_logger, ex.GetType().Name);
        }
    }

    private void OnDropAnnounced(RedisValue message)
    {
        var text = (string?)message;
        var split = text?.IndexOf('\n') ?? -1;
        if (split <= 0 || !long.TryParse(text.AsSpan(0, split), System.Globalization.NumberStyles.None,
                System.Globalization.CultureInfo.InvariantCulture, out var ticks) || ticks > DateTimeOffset.MaxValue.UtcTicks) return;
        _drops.Mark(text![(split + 1)..], new DateTimeOffset(ticks, TimeSpan.Zero), _options.MaxStale);
    }

    // Player keys come from client-controlled claims: hashed, so a drop mark's name is short and brace-free.
    private static string DropKey(string playerKey) => DropPrefix + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(playerKey)));

    private readonly record struct RemoteEntry(CachedResult? Entry, DateTimeOffset? DroppedAt);

    [LoggerMessage(EventId = EventIds.ResultCacheRedisMiss, EventName = nameof(EventIds.ResultCacheRedisMiss), Level = LogLevel.Warning, Message = "Result cache: Redis did not answer ({Reason}); treated as a miss")]
    private static partial void LogRedisMiss(ILogger logger, string reason);
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(CachedResult))]
internal sealed partial class CacheJsonContext : JsonSerializerContext;
