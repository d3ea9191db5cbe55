using Microsoft.Extensions.Options;

namespace EntitlementGateway.Consumables;

/// <summary>
/// The ledger of one replica (no Redis configured), bounded by Consume:MemoryMaxEntries: when full, expired entries go
/// (past Consume:RetentionDays, far beyond any lease), then the oldest finished ones; a live pending claim is never evicted. It does not survive a restart: the Store's own
/// idempotency on trackingId still keeps a resent consume from counting twice.
/// </summary>
public sealed class InMemoryConsumeLedger(IOptions<ConsumeOptions> options, TimeProvider time) : IConsumeLedger
{
    private const string Pending = "pending", Unknown = "unknown", Recorded = "recorded";

    private sealed class Entry(string fingerprint, long sequence, DateTimeOffset firstClaimedAt)
    {
        public string Fingerprint { get; } = fingerprint;
        /// <summary>When the trackingId was first claimed (so first sent to the Store).</summary>
        public DateTimeOffset FirstClaimedAt { get; } = firstClaimedAt;
        /// <summary>Its place in the insertion queue: a queued key whose entry was since replaced is skipped.</summary>
        public long Sequence { get; } = sequence;
        public string State = Pending;
        public string? Owner;
        public DateTimeOffset LeaseUntil;
        public string? Outcome;
        public DateTimeOffset ExpiresAt;
    }

    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly Queue<(string Key, long Sequence)> _order = new();
    private long _sequence;

    public int Count
    {
        get { lock (_entries) return _entries.Count; }
    }

    /// <summary>Keys in the eviction queue, stale ones included (bounded by twice Consume:MemoryMaxEntries).</summary>
    internal int Queued
    {
        get { lock (_entries) return _order.Count; }
    }

    public Task<LedgerClaim> ClaimAsync(string trackingId, string fingerprint, string owner, CancellationToken cancellationToken)
    {
        var o = options.Value;
        var now = time.GetUtcNow();
        lock (_entries)
        {
            if (_entries.TryGetValue(trackingId, out var entry) && now >= entry.ExpiresAt) _entries.Remove(trackingId);
            if (!_entries.TryGetValue(trackingId, out entry))
            {
                MakeRoom(now, o.MemoryMaxEntries);
                return Task.FromResult(Own(Add(trackingId, fingerprint, now), owner, now, o, LedgerState.Claimed));
            }
            if (entry.Fingerprint != fingerprint) return Task.FromResult(new LedgerClaim(LedgerState.Reused));
            return Task.FromResult(entry.State switch
            {
                Recorded => new LedgerClaim(LedgerState.Recorded, entry.Outcome),
                Pending when now < entry.LeaseUntil => new LedgerClaim(LedgerState.Pending),
                Pending => Own(entry, owner, now, o, LedgerState.TakenOver),
                _ => Own(entry, owner, now, o, LedgerState.Resumed),
            });
        }
    }

    public Task CompleteAsync(string trackingId, string fingerprint, string outcome, CancellationToken cancellationToken)
    {
        lock (_entries)
        {
            if (!_entries.TryGetValue(trackingId, out var entry))
            {
                MakeRoom(time.GetUtcNow(), options.Value.MemoryMaxEntries);
                entry = Add(trackingId, fingerprint, time.GetUtcNow());
            }
            if (entry.State == Recorded) return Task.CompletedTask;
            entry.State = Recorded;
            entry.Owner = null;
            entry.Outcome = outcome;
            entry.ExpiresAt = time.GetUtcNow() + options.Value.Retention;
        }
        return Task.CompletedTask;
    }

    public Task ReleaseAsync(string trackingId, string owner, CancellationToken cancellationToken)
    {
        lock (_entries)
        {
            if (_entries.TryGetValue(trackingId, out var entry) && entry.State == Pending && entry.Owner == owner)
            {
                entry.State = Unknown;
                entry.Owner = null;
            }
        }
        return Task.CompletedTask;
    }

    public Task ForgetAsync(string trackingId, string owner, CancellationToken cancellationToken)
    {
        lock (_entries)
        {
            if (_entries.TryGetValue(trackingId, out var entry) && entry.State == Pending && entry.Owner == owner)
                _entries.Remove(trackingId);
        }
        return Task.CompletedTask;
    }

    /// <summary>Called under the lock.</summary>
    private Entry Add(string trackingId, string fingerprint, DateTimeOffset now)
    {
        var entry = new Entry(fingerprint, ++_sequence, now);
        _entries[trackingId] = entry;
        _order.Enqueue((trackingId, entry.Sequence));
        // Expired or replaced entries leave their keys queued: drop those before the queue outgrows the entries.
        if (_order.Count > 2 * options.Value.MemoryMaxEntries)
        {
            var live = _order.Where(q => _entries.TryGetValue(q.Key, out var e) && e.Sequence == q.Sequence).ToList();
            _order.Clear();
            foreach (var q in live) _order.Enqueue(q);
        }
        return entry;
    }

    private static LedgerClaim Own(Entry entry, string owner, DateTimeOffset now, ConsumeOptions o, LedgerState state)
    {
        entry.State = Pending;
        entry.Owner = owner;
        entry.LeaseUntil = now + o.PendingLease;
        entry.ExpiresAt = now + o.Retention;
        return state == LedgerState.Claimed ? new LedgerClaim(state) : new LedgerClaim(state, FirstClaimedAt: entry.FirstClaimedAt);
    }

    /// <summary>Called under the lock when an entry is about to be added.</summary>
    private void MakeRoom(DateTimeOffset now, int max)
    {
        if (_entries.Count < max) return;
        foreach (var expired in _entries.Where(p => now >= p.Value.ExpiresAt).Select(p => p.Key).ToList())
            _entries.Remove(expired);
        // Oldest first; a queued key whose entry is gone or was replaced is skipped, a pending one goes back in the queue.
        var kept = new List<(string, long)>();
        while (_entries.Count >= max && _order.TryDequeue(out var oldest))
        {
            if (!_entries.TryGetValue(oldest.Key, out var entry) || entry.Sequence != oldest.Sequence) continue;
            if (entry.State == Pending) kept.Add(oldest);
            else _entries.Remove(oldest.Key);
        }
        foreach (var key in kept) _order.Enqueue(key);
    }
}
