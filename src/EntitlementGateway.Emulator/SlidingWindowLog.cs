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
/// The calls in the window are always the latest admitted ones, so the window and the audit are one ring of admitted
/// calls (UTC ticks, 8 bytes each), which keeps the last max(<see cref="AuditCapacity"/>, calls in the window) of them: a
/// queue for the window and a list for the audit held every recent call twice, at 16 bytes each, in three objects, about
/// 400 bytes a player of a benchmark whose emulator holds thousands.
/// </summary>
internal sealed class SlidingWindowLog
{
    public const int AuditCapacity = 10_000;

    private readonly Lock _lock = new();
    private long[] _calls = new long[4];
    private int _oldest; // slot of the oldest call kept
    private int _count; // calls kept
    private int _inWindow; // the latest calls kept that lie in the window
    private int _maxInWindow;

    public RateDecision TryAdmit(DateTimeOffset now, int limit, TimeSpan window)
    {
        // Millisecond precision: the audit (and what tests re-check) sees exactly what the limiter decided on.
        var at = now.UtcTicks - (now.UtcTicks % TimeSpan.TicksPerMillisecond);
        lock (_lock)
        {
            while (_inWindow > 0 && Call(_count - _inWindow) <= at - window.Ticks) _inWindow--;
            if (_inWindow < limit)
            {
                Append(at);
                _inWindow++;
                // The window now holds exactly the admitted calls in (now - window, now].
                _maxInWindow = Math.Max(_maxInWindow, _inWindow);
                return new RateDecision(true, 0);
            }
            // The oldest call in the window leaves it at oldest + window: that is when one slot frees up.
            var wait = TimeSpan.FromTicks(Call(_count - _inWindow) + window.Ticks - at);
            return new RateDecision(false, Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)));
        }
    }

    /// <summary>The <paramref name="index"/>th call kept, oldest first.</summary>
    private long Call(int index) => _calls[(_oldest + index) % _calls.Length];

    private void Append(long at)
    {
        // Calls neither the audit nor the window needs any more make room for this one (a window of more calls than the
        // audit holds keeps them until they leave it).
        while (_count >= AuditCapacity && _inWindow < _count)
        {
            _oldest = (_oldest + 1) % _calls.Length;
            _count--;
        }
        if (_count == _calls.Length)
        {
            var grown = new long[_calls.Length * 2];
            for (var i = 0; i < _count; i++) grown[i] = Call(i);
            _calls = grown;
            _oldest = 0;
        }
        _calls[(_oldest + _count) % _calls.Length] = at;
        _count++;
    }

    /// <summary>The last <see cref="AuditCapacity"/> admitted calls, oldest first.</summary>
    public IReadOnlyList<DateTimeOffset> Audit()
    {
        lock (_lock)
        {
            var kept = Math.Min(_count, AuditCapacity);
            var audit = new DateTimeOffset[kept];
            for (var i = 0; i < kept; i++) audit[i] = new DateTimeOffset(Call(_count - kept + i), TimeSpan.Zero);
            return audit;
        }
    }

    /// <summary>Calls held (for tests): the last <see cref="AuditCapacity"/>, or more while the window holds more.</summary>
    internal int Kept
    {
        get { lock (_lock) return _count; }
    }

    /// <summary>The most admitted calls that one window (t - window, t] held, over every call this log admitted.</summary>
    public int MaxInWindow
    {
        get { lock (_lock) return _maxInWindow; }
    }
}
