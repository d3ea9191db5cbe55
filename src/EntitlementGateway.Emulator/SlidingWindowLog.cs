namespace EntitlementGateway.Emulator;

/// <summary>The outcome of asking the per-user limiter for one call.</summary>
internal readonly record struct RateDecision(bool Allowed, int RetryAfterSeconds);

/// <summary>
/// An exact sliding-window log for one user: a call at t is admitted only when fewer than N admitted calls lie
/// in (t - window, t]. Exact on purpose: the gateway's own budget must be tested against the strict rule, and
/// fixed windows or token buckets would let ~2x through at window edges.
/// </summary>
internal sealed class SlidingWindowLog
{
    private readonly Queue<DateTimeOffset> _window = new();
    private readonly List<DateTimeOffset> _audit = [];

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
                _audit.Add(now);
                return new RateDecision(true, 0);
            }
            // The oldest call in the window leaves it at oldest + window: that is when one slot frees up.
            var wait = _window.Peek() + window - now;
            return new RateDecision(false, Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)));
        }
    }

    public IReadOnlyList<DateTimeOffset> Audit()
    {
        lock (_window) return _audit.ToArray();
    }
}
