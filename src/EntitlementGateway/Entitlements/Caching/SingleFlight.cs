using System.Collections.Concurrent;

namespace EntitlementGateway.Entitlements.Caching;

/// <summary>
/// Concurrent callers with the same key share one run of the work. The run is forgotten when it ends, so the next caller
/// starts a new one. A caller that gives up (its token) stops waiting; the shared run goes on for the others.
/// At most <c>maxFlights</c> runs are tracked: past that, work runs unshared, so memory stays bounded whatever keys
/// clients make the gateway use (keys are fixed-size hashes already).
/// </summary>
public sealed class SingleFlight<T>(int maxFlights = SingleFlight<T>.DefaultMaxFlights)
{
    public const int DefaultMaxFlights = 10_000;

    private readonly ConcurrentDictionary<string, Lazy<Task<T>>> _flights = new(StringComparer.Ordinal);
    private int _count;

    /// <summary>Runs in flight now.</summary>
    public int Count => _flights.Count;

    /// <param name="key">What makes two calls the same.</param>
    /// <param name="work">Started at most once per flight; it must not depend on any one caller's cancellation.</param>
    /// <param name="cancellationToken">Ends this caller's wait only.</param>
    public Task<T> RunAsync(string key, Func<Task<T>> work, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(work);
        if (_flights.TryGetValue(key, out var running)) return running.Value.WaitAsync(cancellationToken);
        if (Volatile.Read(ref _count) >= maxFlights) return Task.Run(work, CancellationToken.None).WaitAsync(cancellationToken);

        Lazy<Task<T>>? mine = null;
        mine = new Lazy<Task<T>>(() => RunAndForgetAsync(key, work, mine!), LazyThreadSafetyMode.ExecutionAndPublication);
        var flight = _flights.GetOrAdd(key, mine);
        if (ReferenceEquals(flight, mine)) Interlocked.Increment(ref _count);
        return flight.Value.WaitAsync(cancellationToken);
    }

    private async Task<T> RunAndForgetAsync(string key, Func<Task<T>> work, Lazy<Task<T>> flight)
    {
        try
        {
            // Never run the work inline under the Lazy's lock.
            await Task.Yield();
            return await work();
        }
        finally
        {
            if (_flights.TryRemove(new KeyValuePair<string, Lazy<Task<T>>>(key, flight))) Interlocked.Decrement(ref _count);
        }
    }
}
