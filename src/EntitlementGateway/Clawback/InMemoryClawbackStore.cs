namespace EntitlementGateway.Clawback;

/// <summary>The clawback state of one replica, without Redis (development; say so at start-up). Bounded in time like Redis's.</summary>
public sealed class InMemoryClawbackStore(TimeProvider time) : IClawbackStore
{
    private readonly object _lock = new();
    private readonly Dictionary<string, (string Player, DateTimeOffset Until)> _orders = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (string Owner, DateTimeOffset Until)> _claims = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (ClawbackEventRecord Record, DateTimeOffset Until)> _events = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DateTimeOffset> _outbox = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (string Owner, DateTimeOffset Until)> _deliveries = new(StringComparer.Ordinal);

    public Task RecordOrdersAsync(string playerKey, IReadOnlyCollection<string> orderIds, TimeSpan retention, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        lock (_lock)
        {
            foreach (var id in orderIds) _orders[id] = (playerKey, now + retention);
            // Expired entries go as new ones come, so the map never holds more than a retention's worth.
            if (_orders.Count % 1024 == 0) Prune(_orders, now, o => o.Until);
        }
        return Task.CompletedTask;
    }

    public Task<string?> FindOrderOwnerAsync(string orderId, CancellationToken cancellationToken)
    {
        lock (_lock)
            return Task.FromResult(_orders.TryGetValue(orderId, out var o) && o.Until > time.GetUtcNow() ? o.Player : null);
    }

    public Task<EventClaim> ClaimEventAsync(string eventId, string owner, TimeSpan lease, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        lock (_lock)
        {
            if (_events.TryGetValue(eventId, out var e) && e.Until > now) return Task.FromResult(EventClaim.Done);
            if (_claims.TryGetValue(eventId, out var c) && c.Until > now && c.Owner != owner) return Task.FromResult(EventClaim.Busy);
            _claims[eventId] = (owner, now + lease);
            return Task.FromResult(EventClaim.Claimed);
        }
    }

    public Task ReleaseEventAsync(string eventId, string owner, CancellationToken cancellationToken)
    {
        lock (_lock)
            if (_claims.TryGetValue(eventId, out var c) && c.Owner == owner) _claims.Remove(eventId);
        return Task.CompletedTask;
    }

    public Task<bool> CommitEventAsync(ClawbackEventRecord record, string owner, TimeSpan retention, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        lock (_lock)
        {
            if (_events.TryGetValue(record.EventId, out var e) && e.Until > now) return Task.FromResult(false);
            Prune(_events, now, x => x.Until);
            _events[record.EventId] = (record, now + retention);
            if (record.Delivery == WebhookDelivery.Pending) _outbox[record.EventId] = record.NextAttemptAt ?? now;
            if (_claims.TryGetValue(record.EventId, out var c) && c.Owner == owner) _claims.Remove(record.EventId);
            return Task.FromResult(true);
        }
    }

    public Task<IReadOnlyList<string>> DueDeliveriesAsync(DateTimeOffset now, int max, CancellationToken cancellationToken)
    {
        lock (_lock)
            return Task.FromResult<IReadOnlyList<string>>(_outbox.Where(o => o.Value <= now).OrderBy(o => o.Value).Take(max).Select(o => o.Key).ToList());
    }

    public Task<ClawbackEventRecord?> LeaseDeliveryAsync(string eventId, string owner, DateTimeOffset now, TimeSpan lease, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (!_outbox.TryGetValue(eventId, out var due) || due > now) return Task.FromResult<ClawbackEventRecord?>(null);
            if (_deliveries.TryGetValue(eventId, out var d) && d.Until > now) return Task.FromResult<ClawbackEventRecord?>(null);
            if (!_events.TryGetValue(eventId, out var e)) return Task.FromResult<ClawbackEventRecord?>(null);
            _deliveries[eventId] = (owner, now + lease);
            return Task.FromResult<ClawbackEventRecord?>(e.Record);
        }
    }

    public Task FinishDeliveryAsync(ClawbackEventRecord record, string owner, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (_events.TryGetValue(record.EventId, out var e)) _events[record.EventId] = (record, e.Until);
            if (record.Delivery == WebhookDelivery.Pending && record.NextAttemptAt is { } next) _outbox[record.EventId] = next;
            else _outbox.Remove(record.EventId);
            if (_deliveries.TryGetValue(record.EventId, out var d) && d.Owner == owner) _deliveries.Remove(record.EventId);
        }
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<ClawbackEventRecord>> ListAsync(string? player, int limit, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        lock (_lock)
            return Task.FromResult<IReadOnlyList<ClawbackEventRecord>>(_events.Values
                .Where(e => e.Until > now && (player is null || e.Record.Player == player))
                .Select(e => e.Record).OrderByDescending(r => r.ReceivedAt).Take(limit).ToList());
    }

    private static void Prune<T>(Dictionary<string, T> map, DateTimeOffset now, Func<T, DateTimeOffset> until)
    {
        foreach (var key in map.Where(p => until(p.Value) <= now).Select(p => p.Key).ToList()) map.Remove(key);
    }
}
