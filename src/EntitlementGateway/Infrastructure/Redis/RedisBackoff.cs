namespace EntitlementGateway.Infrastructure.Redis;

/// <summary>
/// After a Redis call fails or times out, Redis is skipped for <see cref="Interval"/>: an outage then costs one bounded
/// timeout per interval instead of one per request. The budget and the result cache each keep one.
/// </summary>
public sealed class RedisBackoff(TimeProvider time)
{
    /// <summary>How long Redis is skipped after a failure; the first call after it is the probe.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    private long _skipUntilTicks;

    /// <summary>Whether Redis is being skipped now.</summary>
    public bool Skipping => time.GetUtcNow().UtcTicks < Interlocked.Read(ref _skipUntilTicks);

    /// <summary>A call failed: skip Redis for the next interval.</summary>
    public void Failed() => Interlocked.Exchange(ref _skipUntilTicks, (time.GetUtcNow() + Interval).UtcTicks);

    /// <summary>Redis answered: stop skipping.</summary>
    public void Succeeded() => Interlocked.Exchange(ref _skipUntilTicks, 0);

    /// <summary>
    /// Bounds a Redis call by <paramref name="timeout"/>, the wait for the connection included (StackExchange.Redis 1.2.6
    /// has no async timeout of its own), and records its outcome.
    /// </summary>
    public async Task<TResult> CallAsync<TResult>(Func<Task<TResult>> call, TimeSpan timeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(call);
        try
        {
            var result = await call().WaitAsync(timeout, cancellationToken);
            Succeeded();
            return result;
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            Failed();
            throw;
        }
    }
}
