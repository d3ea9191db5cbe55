using Microsoft.Extensions.Options;

namespace EntitlementGateway.Consumables;

/// <summary>
/// The ledger of one replica (no Redis configured), bounded by Consume:MemoryMaxEntries: when full, expired entries go,
/// then the oldest finished ones; a pending claim is never evicted. It does not survive a restart: the Store's own
/// idempotency on trackingId still keeps a resent consume from counting twice.
/// </summary>
public sealed class InMemoryConsumeLedger(IOptions<ConsumeOptions> options, TimeProvider time) : IConsumeLedger
{
    private const string Pending = "pending", Unknown = "unknown", Recorded = "recorded";

    private sealed class Entry(string fingerprint)
    {
        public string Fingerprint { get; } = fingerprint;
        public string State = Pending;
        public string? Owner;
        public DateTimeOffset LeaseUntil;
        public string? Outcome;
        public DateTimeOffset ExpiresAt;
    }

    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly Queue<string> _order = new();

    public int Count
    {
        get { lock (_entries) return _entries.Count; }
    }

    public Task<LedgerClaim> ClaimAsync(string trackingId, string fingerprint, string owner, CancellationToken cancellationToken)
    {
        var o = options.Value;
        var now = time.GetUtcNow();
        lock (_entries)
        {
            if (_entries.TryGetValue(trackingId, out var entry) && now >= entry.ExpiresAt && entry.State != Pending) _entries.Remove(trackingId);
            if (!_entries.TryGetValue(trackingId, out entry))
            {
                MakeRoom(now, o.MemoryMaxEntries);
                entry = new Entry(fingerprint);
                _entries[trackingId] = entry;
                _order.Enqueue(trackingId);
                return Task.FromResult(Own(entry, owner, now, o, LedgerState.Claimed));
            }
            if (entry.Fingerprint != fingerprint) return Task.FromResult(new LedgerClaim(LedgerState.Reused));
            return Task.FromResult(entry.State switch
            {
                Recorded => new LedgerClaim(LedgerState.Recorded, entry.Outcome),
                Pending when now < entry.LeaseUntil => new LedgerClaim(LedgerState.Pending),
                Pending => Own(entry, owner, now, o, LedgerState.TakenOver),
                _ => Own(entry, owner, now, o, LedgerState.Claimed),
            });
        }
    }

    public Task CompleteAsync(string trackingId, string fingerprint, string outcome, CancellationToken cancellationToken)
    {
        lock (_entries)
        {
            if (!_entries.TryGetValue(trackingId, out var entry))
            {
                entry = new Entry(fingerprint);
                _entries[trackingId] = entry;
                _order.Enqueue(trackingId);
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

    private static LedgerClaim Own(Entry entry, string owner, DateTimeOffset now, ConsumeOptions o, LedgerState state)
    {
        entry.State = Pending;
        entry.Owner = owner;
        entry.LeaseUntil = now + o.PendingLease;
        entry.ExpiresAt = now + o.Retention;
        return new LedgerClaim(state);
    }

    /// <summary>Called under the lock when an entry is about to be added.</summary>
    private void MakeRoom(DateTimeOffset now, int max)
    {
        // Keys removed on expiry stay queued: rebuild the queue before it outgrows the entries.
        if (_order.Count > 2 * max)
        {
            var live = _order.Distinct(StringComparer.Ordinal).Where(_entries.ContainsKey).ToList();
            _order.Clear();
            foreach (var key in live) _order.Enqueue(key);
        }
        if (_entries.Count < max) return;
        foreach (var expired in _entries.Where(p => now >= p.Value.ExpiresAt && p.Value.State != Pending).Select(p => p.Key).ToList())
            _entries.Remove(expired);
        // The queue holds keys in insertion order (removed ones included); skip those gone or pending.
        var kept = new List<string>();
        while (_entries.Count >= max && _order.TryDequeue(out var oldest))
        {
            if (!_entries.TryGetValue(oldest, out var entry)) continue;
            if (entry.State == Pending) { kept.Add(oldest); continue; }
            _entries.Remove(oldest);
        }
        foreach (var key in kept) _order.Enqueue(key);
    }
}
