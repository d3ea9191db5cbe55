using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace EntitlementGateway.Budget;

/// <summary>
/// The exact sliding-window log in process memory: correct for ONE replica only (each replica would have its own
/// budget). Same rules as <see cref="RedisUserBudget"/>: an entry at t counts while t &gt; now − window.
/// One small lock per key; idle keys are swept so memory follows the active users, not every user ever seen.
/// Keys come from client-chosen claims, so they are held as fixed-size hashes, their number is bounded
/// (<see cref="BudgetOptions.MaxKeysInMemory"/>: when full, a new key is refused rather than an old log forgotten),
/// and a log emptied by a refund is dropped at once.
/// </summary>
public sealed class InMemoryUserBudget : IUserBudget
{
    private static readonly TimeSpan FullRetryAfter = TimeSpan.FromSeconds(1);
    private readonly ConcurrentDictionary<KeyHash, KeyLog> _logs = new();
    private readonly BudgetOptions _options;
    private readonly TimeProvider _time;
    private long _nextLease;
    private long _lastSweepTicks;
    private long _lastFullSweepTicks = long.MinValue;
    // When the last sweep found the first key that will go idle (UTC ticks; 0: none known): when a full table has room.
    private long _roomAtTicks;
    private int _sweeping;
    private int _keyCount;

    public InMemoryUserBudget(IOptions<BudgetOptions> options, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
        _time = time ?? throw new ArgumentNullException(nameof(time));
        _lastSweepTicks = _time.GetUtcNow().UtcTicks;
        SweepInterval = _options.CountingWindow;
    }

    /// <summary>Least time between two sweeps of idle keys; one window by default (tests shorten it).</summary>
    internal TimeSpan SweepInterval { get; init; }

    /// <summary>Keys currently held in memory (for tests and diagnostics).</summary>
    internal int KeyCount => Volatile.Read(ref _keyCount);

    public ValueTask<BudgetDecision> TryAcquireAsync(string key, CancellationToken cancellationToken = default)
    {
        var hash = KeyHash.Of(key);
        SweepIfDue(_time.GetUtcNow());
        if (!_logs.ContainsKey(hash) && !HasRoomForAKey())
        {
            // Forgetting a log would let the Store's limit be met; refusing a new player until a key goes idle would not.
            return ValueTask.FromResult(BudgetDecision.Denied(0, UntilRoom(_time.GetUtcNow())));
        }

        var window = _options.CountingWindow;
        while (true)
        {
            var log = GetOrAddLog(hash);
            lock (log)
            {
                if (log.Retired)
                {
                    continue; // swept between GetOrAdd and lock: take the fresh one
                }

                // Read under the lock and never before the newest entry, so the log stays sorted oldest first.
                var now = _time.GetUtcNow();
                if (log.Entries.Count > 0 && log.Entries[^1].At > now)
                {
                    now = log.Entries[^1].At;
                }

                log.Prune(now - window);
                var used = log.Entries.Count;
                var reset = used > 0 ? log.Entries[0].At + window - now : TimeSpan.Zero;
                var blockedFor = log.BlockedUntil is { } b ? b - now : TimeSpan.Zero;
                if (used >= _options.Limit || blockedFor > TimeSpan.Zero)
                {
                    var retry = used >= _options.Limit ? reset : TimeSpan.Zero;
                    if (blockedFor > retry)
                    {
                        retry = blockedFor;
                    }

                    return ValueTask.FromResult(new BudgetDecision(false, 0, retry, reset, null));
                }

                var lease = Interlocked.Increment(ref _nextLease);
                log.Entries.Add(new Entry(now.UtcTicks, lease));
                return ValueTask.FromResult(new BudgetDecision(
                    true, _options.Limit - used - 1, TimeSpan.Zero, used == 0 ? window : reset, lease.ToString(CultureInfo.InvariantCulture)));
            }
        }
    }

    public ValueTask RefundAsync(string key, string lease, CancellationToken cancellationToken = default)
    {
        var hash = KeyHash.Of(key);
        ArgumentNullException.ThrowIfNull(lease);
        if (_logs.TryGetValue(hash, out var log))
        {
            lock (log)
            {
                var index = LeaseId(lease) is { } id ? log.Entries.FindIndex(e => e.Lease == id) : -1;
                if (index >= 0)
                {
                    log.Entries.RemoveAt(index);
                }

                // A forged UCID's unit comes back at once: leave nothing behind for it.
                if (log.Entries.Count == 0 && !(log.BlockedUntil > _time.GetUtcNow()) && !log.Retired)
                {
                    log.Retired = true;
                    Remove(hash, log);
                }
            }
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask BlockUntilAsync(string key, DateTimeOffset until, CancellationToken cancellationToken = default)
    {
        var hash = KeyHash.Of(key);
        if (until <= _time.GetUtcNow())
        {
            return ValueTask.CompletedTask;
        }

        while (true)
        {
            // A block is kept even when full: it only ever stops calls.
            var log = GetOrAddLog(hash);
            lock (log)
            {
                if (log.Retired)
                {
                    continue;
                }

                if (log.BlockedUntil is not { } existing || existing < until)
                {
                    log.BlockedUntil = until;
                }

                return ValueTask.CompletedTask;
            }
        }
    }

    public ValueTask<BudgetSnapshot> GetAsync(string key, CancellationToken cancellationToken = default)
    {
        var hash = KeyHash.Of(key);
        var now = _time.GetUtcNow();
        int used = 0;
        DateTimeOffset? oldest = null;
        DateTimeOffset? blocked = null;
        if (_logs.TryGetValue(hash, out var log))
        {
            lock (log)
            {
                log.Prune(now - _options.CountingWindow);
                used = log.Entries.Count;
                oldest = used > 0 ? log.Entries[0].At : null;
                blocked = log.BlockedUntil > now ? log.BlockedUntil : null;
            }
        }

        return ValueTask.FromResult(new BudgetSnapshot(
            key, _options.Limit, _options.WindowSeconds, used, Math.Max(0, _options.Limit - used), oldest, blocked));
    }

    public ValueTask ResetAsync(string key, CancellationToken cancellationToken = default)
    {
        var hash = KeyHash.Of(key);
        if (_logs.TryGetValue(hash, out var log))
        {
            lock (log)
            {
                if (!log.Retired)
                {
                    log.Retired = true;
                    Remove(hash, log);
                }
            }
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask UnblockAsync(string key, CancellationToken cancellationToken = default)
    {
        if (_logs.TryGetValue(KeyHash.Of(key), out var log))
        {
            lock (log)
            {
                log.BlockedUntil = null;
            }
        }

        return ValueTask.CompletedTask;
    }

    private KeyLog GetOrAddLog(KeyHash hash)
    {
        while (true)
        {
            if (_logs.TryGetValue(hash, out var existing))
            {
                return existing;
            }

            var fresh = new KeyLog();
            if (_logs.TryAdd(hash, fresh))
            {
                Interlocked.Increment(ref _keyCount);
                return fresh;
            }
        }
    }

    /// <summary>Removes <paramref name="log"/> (retired by the caller, under its lock) if it is still the key's.</summary>
    private void Remove(KeyHash hash, KeyLog log)
    {
        if (_logs.TryRemove(new KeyValuePair<KeyHash, KeyLog>(hash, log)))
        {
            Interlocked.Decrement(ref _keyCount);
        }
    }

    /// <summary>Whether one more key fits; when full, sweeps once (at most once a second) to make room.</summary>
    private bool HasRoomForAKey()
    {
        if (Volatile.Read(ref _keyCount) < _options.MaxKeysInMemory)
        {
            return true;
        }

        var now = _time.GetUtcNow();
        var lastFull = Interlocked.Read(ref _lastFullSweepTicks);
        if ((lastFull == long.MinValue || now.UtcTicks - lastFull >= FullRetryAfter.Ticks) &&
            Interlocked.CompareExchange(ref _lastFullSweepTicks, now.UtcTicks, lastFull) == lastFull)
        {
            SweepIfDue(now, force: true);
        }

        return Volatile.Read(ref _keyCount) < _options.MaxKeysInMemory;
    }

    /// <summary>
    /// How long a new key waits for room: until the first key the last sweep saw go idle (its last unit leaves the
    /// window, its block ends), at least the second between two sweeps of a full table. A client told "1 s" while every
    /// key stays busy for minutes would ask hundreds of times.
    /// </summary>
    private TimeSpan UntilRoom(DateTimeOffset now)
    {
        var wait = TimeSpan.FromTicks(Interlocked.Read(ref _roomAtTicks) - now.UtcTicks);
        return wait > FullRetryAfter ? wait : FullRetryAfter;
    }

    /// <summary>Drops keys with no entry in the window and no block, at most once per <see cref="SweepInterval"/>, on a caller's thread.</summary>
    private void SweepIfDue(DateTimeOffset now, bool force = false)
    {
        var last = Interlocked.Read(ref _lastSweepTicks);
        if ((!force && now.UtcTicks - last < SweepInterval.Ticks) || Interlocked.Exchange(ref _sweeping, 1) == 1)
        {
            return;
        }

        try
        {
            Interlocked.Exchange(ref _lastSweepTicks, now.UtcTicks);
            var horizon = now - _options.CountingWindow;
            var roomAt = DateTimeOffset.MaxValue;
            foreach (var pair in _logs)
            {
                lock (pair.Value)
                {
                    pair.Value.Prune(horizon);
                    if (pair.Value.Entries.Count == 0 && !(pair.Value.BlockedUntil > now))
                    {
                        // Retired under the lock: a caller holding this instance will see the flag and re-fetch.
                        pair.Value.Retired = true;
                        Remove(pair.Key, pair.Value);
                        continue;
                    }

                    var idleAt = pair.Value.Entries.Count > 0 ? pair.Value.Entries[^1].At + _options.CountingWindow : now;
                    if (pair.Value.BlockedUntil > idleAt) idleAt = pair.Value.BlockedUntil.Value;
                    if (idleAt < roomAt) roomAt = idleAt;
                }
            }

            Interlocked.Exchange(ref _roomAtTicks, roomAt == DateTimeOffset.MaxValue ? 0 : roomAt.UtcTicks);
        }
        finally
        {
            Volatile.Write(ref _sweeping, 0);
        }
    }

    /// <summary>The lease this budget gave as <paramref name="lease"/> (a number from 1, written without leading zeros), or
    /// null when no lease of it is written so.</summary>
    internal static long? LeaseId(string lease) =>
        lease is [>= '1' and <= '9', ..] && long.TryParse(lease, NumberStyles.None, CultureInfo.InvariantCulture, out var id) ? id : null;

    /// <summary>One spent unit: when (UTC ticks) and its lease's number, 16 bytes. As a time with its offset and the lease's
    /// text it took about 56, for each of a player's up to 100 units.</summary>
    private readonly record struct Entry(long AtTicks, long Lease)
    {
        public DateTimeOffset At => new(AtTicks, TimeSpan.Zero);
    }

    /// <summary>A key as 128 bits of its SHA-256: the same size whatever the client put in its claims.</summary>
    private readonly record struct KeyHash(ulong High, ulong Low)
    {
        public static KeyHash Of(string key)
        {
            ArgumentNullException.ThrowIfNull(key);
            Span<byte> digest = stackalloc byte[32];
            SHA256.HashData(Encoding.UTF8.GetBytes(key), digest);
            return new KeyHash(BinaryPrimitives.ReadUInt64LittleEndian(digest), BinaryPrimitives.ReadUInt64LittleEndian(digest[8..]));
        }
    }

    /// <summary>One key's log, oldest first; guarded by locking the instance.</summary>
    private sealed class KeyLog
    {
        public List<Entry> Entries { get; } = [];

        public DateTimeOffset? BlockedUntil { get; set; }

        public bool Retired { get; set; }

        public void Prune(DateTimeOffset horizon)
        {
            var expired = 0;
            while (expired < Entries.Count && Entries[expired].At <= horizon)
            {
                expired++;
            }

            if (expired > 0)
            {
                Entries.RemoveRange(0, expired);
            }
        }
    }
}
