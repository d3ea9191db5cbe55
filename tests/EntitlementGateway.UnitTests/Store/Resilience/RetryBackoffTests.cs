using System.Collections.Concurrent;
using System.Net;
using EntitlementGateway.Store.Resilience;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EntitlementGateway.UnitTests.Store.Resilience;

/// <summary>
/// The retry's backoff, read from the delays the pipeline logs before each retry: exponential growth from
/// Resilience:BaseDelayMs, with jitter. Both are properties of many calls, so each is checked over many runs.
/// </summary>
public class RetryBackoffTests
{
    private const int Runs = 100;

    [Fact]
    public async Task RetryDelays_GrowExponentiallyFromTheBaseDelay_AndAreJittered()
    {
        var logger = new RetryLog();
        // A 1 ms base keeps 100 runs of five retries quick; the shape of the delays does not depend on the base.
        var options = new ResilienceOptions { MaxRetries = 5, BaseDelayMs = 1, TotalTimeoutSeconds = 60, AttemptTimeoutSeconds = 30, CircuitMinimumThroughput = 1_000_000 };
        var pipelines = new StoreResiliencePipelines(Options.Create(options), TimeProvider.System, logger);

        for (var i = 0; i < Runs; i++)
        {
            using var response = await pipelines.Outer.ExecuteAsync(_ => ValueTask.FromResult(new HttpResponseMessage(HttpStatusCode.ServiceUnavailable)));
        }

        var byRetry = logger.Delays.GroupBy(d => d.NextAttempt).OrderBy(g => g.Key).Select(g => g.Select(d => d.DelayMs).ToList()).ToList();
        Assert.Equal(5, byRetry.Count);
        Assert.All(byRetry, delays => Assert.Equal(Runs, delays.Count));
        // Exponential: on average each retry waits longer than the one before, and from the third on each about doubles
        // (a linear backoff would grow the fifth over the fourth by 5/4; a constant one not at all). These are the
        // delays the pipeline computed and logged, not measured ones, so the machine's speed does not enter.
        var means = byRetry.Select(delays => delays.Average()).ToArray();
        var shown = string.Join(", ", means.Select(m => m.ToString("0.00", System.Globalization.CultureInfo.InvariantCulture)));
        Assert.True(means.Zip(means.Skip(1)).All(pair => pair.First < pair.Second), $"mean delays {shown} ms");
        Assert.True(means[3] > 1.6 * means[2] && means[4] > 1.6 * means[3], $"mean delays {shown} ms");
        // Jittered: the same retry does not wait the same time on every call (which would synchronise clients).
        Assert.All(byRetry, delays => Assert.True(delays.Distinct().Count() > Runs / 2, $"{delays.Distinct().Count()} distinct delays in {Runs}"));
    }

    /// <summary>Keeps the structured values of the pipeline's "attempt failed; attempt N in D ms" lines.</summary>
    private sealed class RetryLog : ILogger<StoreResiliencePipelines>
    {
        public ConcurrentQueue<(int NextAttempt, double DelayMs)> Delays { get; } = new();

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (state is not IReadOnlyList<KeyValuePair<string, object?>> values) return;
            var fields = values.ToDictionary(v => v.Key, v => v.Value);
            if (fields.TryGetValue("NextAttempt", out var next) && fields.TryGetValue("DelayMs", out var delay))
                Delays.Enqueue(((int)next!, (double)delay!));
        }
    }
}
