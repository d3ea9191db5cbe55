namespace EntitlementGateway.Store.Replicas;

/// <summary>
/// What <c>GET /ops/store/health</c> answers: this replica's Store health (the inherited fields) and every live
/// replica's, as they last wrote it to Redis.
/// </summary>
public sealed record StoreHealthOverview : StoreHealthReport
{
    public const string SharedDetail = "Every replica that wrote its health to Redis within the last few intervals; this replica's is current.";
    public const string AloneDetail = "No Redis: by the deployment rules a gateway without Redis runs as one replica, so this is every replica.";
    public const string UnknownDetail = "Redis did not answer: only this replica is shown; the others are unknown.";

    public StoreHealthOverview(StoreHealthReport self, IReadOnlyList<StoreHealthReport> replicas, bool allReplicasKnown, string replicasDetail)
        : base(self)
    {
        Replicas = replicas;
        AllReplicasKnown = allReplicasKnown;
        ReplicasDetail = replicasDetail;
    }

    /// <summary>Every live replica's Store health, this one included, newest first.</summary>
    public IReadOnlyList<StoreHealthReport> Replicas { get; init; }

    /// <summary>False when Redis did not answer: replicas other than this one may exist and are not shown.</summary>
    public bool AllReplicasKnown { get; init; }

    /// <summary>Why the list is complete, or not.</summary>
    public string ReplicasDetail { get; init; }

    /// <summary>
    /// The answer from this replica's fresh report and what Redis holds (null: Redis not configured when
    /// <paramref name="shared"/> is false, else not answering). This replica's own entry is replaced by the fresh one.
    /// </summary>
    public static StoreHealthOverview Combine(StoreHealthReport self, bool shared, IReadOnlyList<StoreHealthReport>? stored)
    {
        ArgumentNullException.ThrowIfNull(self);
        if (stored is null) return new StoreHealthOverview(self, [self], !shared, shared ? UnknownDetail : AloneDetail);
        var replicas = stored.Where(r => !string.Equals(r.Replica, self.Replica, StringComparison.Ordinal)).Append(self)
            .OrderByDescending(r => r.At).ThenBy(r => r.Replica, StringComparer.Ordinal).ToList();
        return new StoreHealthOverview(self, replicas, true, SharedDetail);
    }
}
