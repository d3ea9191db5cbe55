namespace EntitlementGateway.Consumables;

/// <summary>
/// The level of a consume ledger failure's log line. During a Redis outage every consume fails at the ledger: one Error
/// line per consume would scale the log with the traffic and bury the outage's own line, so after an Error line the
/// failures of the next <see cref="Quiet"/> are written at Debug.
/// </summary>
public sealed class ConsumeLedgerFailures(TimeProvider time)
{
    /// <summary>How long after an Error line further ledger failures are written at Debug.</summary>
    public static readonly TimeSpan Quiet = TimeSpan.FromSeconds(10);

    private long _lastError = long.MinValue;

    /// <summary>Error for the first failure in <see cref="Quiet"/>, Debug for the rest.</summary>
    public LogLevel Next()
    {
        var now = time.GetUtcNow().UtcTicks;
        var last = Interlocked.Read(ref _lastError);
        if (last != long.MinValue && now - last < Quiet.Ticks) return LogLevel.Debug;
        return Interlocked.CompareExchange(ref _lastError, now, last) == last ? LogLevel.Error : LogLevel.Debug;
    }
}
