namespace EntitlementGateway.Infrastructure.Redis;

/// <summary>Redis settings (section <c>Redis</c>). No connection string means no Redis: the budget stays in memory.</summary>
public sealed class RedisOptions
{
    public const string Section = "Redis";

    /// <summary>
    /// StackExchange.Redis syntax, e.g. <c>redis.internal:6380,password=...,ssl=true,abortConnect=false</c>.
    /// Empty: Redis is not used.
    /// </summary>
    public string? ConnectionString { get; set; }

    /// <summary>Hard limit on every budget call, connection wait included; past it the call fails with
    /// <c>BudgetUnavailableException</c> instead of holding the request. (StackExchange.Redis 1.2.6 has no async
    /// timeout of its own, so this is what bounds async calls.)</summary>
    public int OperationTimeoutMs { get; set; } = 250;

    /// <summary>How long one connect attempt may take (StackExchange.Redis <c>ConnectTimeout</c>).</summary>
    public int ConnectTimeoutMs { get; set; } = 5_000;

    /// <summary>Timeout of synchronous calls (StackExchange.Redis <c>SyncTimeout</c>); the budget itself only calls async.</summary>
    public int SyncTimeoutMs { get; set; } = 1_000;

    /// <summary>
    /// With <c>ssl=true</c>: also trust the Redis server certificate with this SHA-1 thumbprint (a self-signed or
    /// private-CA certificate). Certificates the system trusts are accepted either way.
    /// </summary>
    public string? TrustedCertificateThumbprint { get; set; }

    public TimeSpan OperationTimeout => TimeSpan.FromMilliseconds(OperationTimeoutMs);

    /// <summary>Whether Redis is used at all.</summary>
    public bool Configured => !string.IsNullOrWhiteSpace(ConnectionString);
}
