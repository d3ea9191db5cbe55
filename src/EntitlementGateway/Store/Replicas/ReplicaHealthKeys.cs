namespace EntitlementGateway.Store.Replicas;

/// <summary>Every Redis key of the replicas' health snapshots, built here only.</summary>
public static class ReplicaHealthKeys
{
    public const string Prefix = "eg:ops:replica:";

    /// <summary>A sorted set of replica names scored by their last write (Unix ms): lists replicas without SCAN.</summary>
    public const string Index = Prefix + "index";

    /// <summary>One replica's snapshot (JSON), expiring when the replica stops writing.</summary>
    public static string Snapshot(string replica) => Prefix + "snapshot:" + replica;
}
