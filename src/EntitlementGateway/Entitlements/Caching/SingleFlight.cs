using System.Collections.Concurrent;

namespace EntitlementGateway.Entitlements.Caching;

/// <summary>
/// Concurrent callers with the same key share one run of the work. The run is forgotten when it ends, so the next caller
/// starts a new one. A caller that gives up (its token) stops waiting; the shared run goes on for the others.
/// </summary>
public sealed class SingleFlight<T>
{
    private readonly ConcurrentDictionary<string, Lazy<Task<T>>> _flights = new(StringComparer.Ordinal);

    /// <summary>Runs in flight now.</summary>
    public int Count => _flights.Count;

    /// <param name="key">What makes two calls the same.</param>
    /// <param name="work">Started at most once per flight; it must not depend on any one caller's cancellation.</param>
    /// <param name="cancellationToken">Ends this caller's wait only.</param>
    public Task<T> RunAsync(string key, Func<Task<T>> work, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(work);
        Lazy<Task<T>>? mine = null;
        mine = new Lazy<Task<T>>(() => RunAndForgetAsync(key, work, mine!), LazyThreadSafetyMode.ExecutionAndPublication);
        var flight = _flights.GetOrAdd(key, mine);
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
            _flights.TryRemove(new KeyValuePair<string, Lazy<Task<T>>>(key, flight));
        }
    }
}
