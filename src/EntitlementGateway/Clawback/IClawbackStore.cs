namespace EntitlementGateway.Clawback;

/// <summary>What claiming an event found.</summary>
public enum EventClaim
{
    /// <summary>This replica handles it now (for the lease).</summary>
    Claimed,
    /// <summary>Another replica is handling it.</summary>
    Busy,
    /// <summary>Already handled: the queue message is a duplicate.</summary>
    Done,
}

/// <summary>
/// The shared state of clawback handling: which order is whose, which events are handled (exactly once, across
/// replicas), the recorded events, and the webhook outbox. Redis when configured (every replica), else memory (one replica).
/// </summary>
public interface IClawbackStore
{
    /// <summary>Remembers that these orders are <paramref name="playerKey"/>'s, for <paramref name="retention"/>.</summary>
    Task RecordOrdersAsync(string playerKey, IReadOnlyCollection<string> orderIds, TimeSpan retention, CancellationToken cancellationToken);

    /// <summary>The player whose order this is; null when no answer or consume of this gateway showed it.</summary>
    Task<string?> FindOrderOwnerAsync(string orderId, CancellationToken cancellationToken);

    /// <summary>Claims an event for <paramref name="lease"/> unless it is handled or claimed elsewhere.</summary>
    Task<EventClaim> ClaimEventAsync(string eventId, string owner, TimeSpan lease, CancellationToken cancellationToken);

    /// <summary>Gives a claim back unhandled (processing failed; the message comes back after its visibility timeout).</summary>
    Task ReleaseEventAsync(string eventId, string owner, CancellationToken cancellationToken);

    /// <summary>
    /// Records a handled event (which marks it done), and puts it in the webhook outbox when its delivery is
    /// <see cref="WebhookDelivery.Pending"/>, in one step. False when it was recorded already (by another replica).
    /// </summary>
    Task<bool> CommitEventAsync(ClawbackEventRecord record, string owner, TimeSpan retention, CancellationToken cancellationToken);

    /// <summary>Ids of events in the outbox whose next attempt is due at <paramref name="now"/>.</summary>
    Task<IReadOnlyList<string>> DueDeliveriesAsync(DateTimeOffset now, int max, CancellationToken cancellationToken);

    /// <summary>
    /// Leases an event's delivery when it is still in the outbox and due, and no one else holds it: the record to send,
    /// else null. A delivery finished by another replica is out of the outbox before its lease ends, so it is never sent twice.
    /// </summary>
    Task<ClawbackEventRecord?> LeaseDeliveryAsync(string eventId, string owner, DateTimeOffset now, TimeSpan lease, CancellationToken cancellationToken);

    /// <summary>Stores the attempt's result: out of the outbox unless still Pending (then due at NextAttemptAt); the lease ends.</summary>
    Task FinishDeliveryAsync(ClawbackEventRecord record, string owner, CancellationToken cancellationToken);

    /// <summary>Recorded events, newest first; only <paramref name="player"/>'s when given.</summary>
    Task<IReadOnlyList<ClawbackEventRecord>> ListAsync(string? player, int limit, CancellationToken cancellationToken);
}
