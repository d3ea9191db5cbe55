namespace EntitlementGateway.Emulator;

/// <summary>The outcome of asking the per-user limiter for one call.</summary>
internal readonly record struct RateDecision(bool Allowed, int RetryAfterSeconds);

/// <summary>
/// An exact sliding-window log for one user: a call at t is admitted only when fewer than N admitted calls lie
/// in (t - window, t]. Exact on purpose: the gateway's own budget must be tested against the strict rule, and
/// fixed windows or token buckets would let ~2x through at window edges.
/// It also keeps the last <see cref="AuditCapacity"/> admitted calls (the audit tests read) and, over every call ever
/// admitted, the most that one window held. Keeping every call grew without bound: 16 bytes a call, about 80 KB a second
/// for an emulator under a load test of 5,000 calls a second.
/// </summary>
internal sealed class SlidingWindowLog
{
    public const int AuditCapacity = 10_000;

    private readonly Queue<DateTimeOffset> _window = new();
    private readonly List<DateTimeOffset> _audit = [];
    private int _auditNext; // once the audit is full: the slot of the oldest call, which the next one replaces
    private int _maxInWindow;

    public RateDecision TryAdmit(DateTimeOffset now, int limit, TimeSpan window)
    {
        // Millisecond precision: the audit (and what tests re-check) sees exactly what the limiter decided on.
        now = new DateTimeOffset(now.UtcTicks - (now.UtcTicks % TimeSpan.TicksPerMillisecond), TimeSpan.Zero);
        lock (_window)
        {
            while (_window.Count > 0 && _window.Peek() <= now - window) _window.Dequeue();
            if (_window.Count < limit)
            {
                _window.Enqueue(now);
                // The window now holds exactly the admitted calls in (now - window, now].
                _maxInWindow = Math.Max(_maxInWindow, _window.Count);
                if (_audit.Count < AuditCapacity) _audit.Add(now);
                else
                {
                    _audit[_auditNext] = now;
                    _auditNext = (_auditNext + 1) % AuditCapacity;
                }
                return new RateDecision(true, 0);
            }
            // The oldest call in the window leaves it at oldest + window: that is when one slot frees up.
            var wait = _window.Peek() + window - now;
            return new RateDecision(false, Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)));
        }
    }

    /// <summary>The last <see cref="AuditCapacity"/> admitted calls, oldest first.</summary>
    public IReadOnlyList<DateTimeOffset> Audit()
    {
        lock (_window) return [.. _audit[_auditNext..], .. _audit[.._auditNext]];
    }

    /// <summary>The most admitted calls that one window (t - window, t] held, over every call this log admitted.</summary>
    public int MaxInWindow
    {
        get { lock (_window) return _maxInWindow; }
    }
}
