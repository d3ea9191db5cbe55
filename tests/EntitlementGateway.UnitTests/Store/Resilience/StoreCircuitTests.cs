using System.Diagnostics.Metrics;
using System.Net;
using EntitlementGateway.Infrastructure.Logging;
using EntitlementGateway.Infrastructure.Telemetry;
using EntitlementGateway.Store.Resilience;
using EntitlementGateway.UnitTests.Infrastructure;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Polly;
using Polly.CircuitBreaker;

namespace EntitlementGateway.UnitTests.Store.Resilience;

/// <summary>The process's Store circuit, on the gateway's own clock: when it opens, refuses, reopens to a trial and closes.</summary>
public sealed class StoreCircuitTests : IDisposable
{
    private static readonly TimeSpan Break = TimeSpan.FromSeconds(30);

    private readonly ManualTimeProvider _time = new();
    private readonly WrittenLog<StoreResiliencePipelines> _log = new();
    private readonly TestMeters _meters = new();

    public void Dispose() => _meters.Dispose();

    [Fact]
    public async Task TransientFailures_OpenTheCircuitForItsBreak_ThenATrialCallClosesIt()
    {
        var pipelines = Pipelines();
        Assert.Null(pipelines.OpenUntil);

        await FailAsync(pipelines);
        Assert.False(pipelines.CircuitRefusesNow);
        await FailAsync(pipelines);

        Assert.Equal(CircuitState.Open, pipelines.CircuitState);
        Assert.True(pipelines.CircuitRefusesNow);
        Assert.Equal(_time.GetUtcNow() + Break, pipelines.OpenUntil);
        var opened = Assert.Single(_log.Events);
        Assert.Equal((EventIds.StoreCircuitOpened, LogLevel.Error), (opened.Id, opened.Level));
        Assert.Equal("Store circuit opened for 30.0 s after 503: Store calls are refused meanwhile", opened.Text);
        await Assert.ThrowsAsync<BrokenCircuitException>(() => SucceedAsync(pipelines));

        // One tick before the break ends it still refuses; at its end Polly still says Open, but the next call is let through.
        _time.Advance(Break - TimeSpan.FromTicks(1));
        Assert.True(pipelines.CircuitRefusesNow);
        _time.Advance(TimeSpan.FromTicks(1));
        Assert.False(pipelines.CircuitRefusesNow);
        Assert.Equal(CircuitState.Open, pipelines.CircuitState);

        await SucceedAsync(pipelines);
        Assert.Equal(CircuitState.Closed, pipelines.CircuitState);
        Assert.False(pipelines.CircuitRefusesNow);
        var closed = _log.Events[^1];
        Assert.Equal((EventIds.StoreCircuitClosed, "Store circuit closed: Store calls resume"), (closed.Id, closed.Text));
    }

    [Fact]
    public async Task A4xx_NeverOpensTheCircuit()
    {
        var pipelines = Pipelines();
        for (var i = 0; i < 4; i++)
            using (await pipelines.Inner.ExecuteAsync(_ => ValueTask.FromResult(new HttpResponseMessage(HttpStatusCode.BadRequest)))) { }

        Assert.Equal(CircuitState.Closed, pipelines.CircuitState);
        Assert.Empty(_log.Events);
    }

    [Fact]
    public async Task TheCircuitGauge_IsOneOnlyWhileCallsAreRefused()
    {
        var pipelines = Pipelines(new GatewayMetrics(_meters));
        var seen = new List<int>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (_meters.Created(instrument.Meter) && instrument.Name.EndsWith("store.circuit.open", StringComparison.Ordinal)) l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<int>((_, value, _, _) => seen.Add(value));
        listener.Start();

        listener.RecordObservableInstruments();
        await FailAsync(pipelines);
        await FailAsync(pipelines);
        listener.RecordObservableInstruments();
        _time.Advance(Break);
        listener.RecordObservableInstruments();

        Assert.Equal([0, 1, 0], seen);
    }

    [Fact]
    public async Task NoRetries_MeansOneAttempt()
    {
        var pipelines = new StoreResiliencePipelines(Options.Create(new ResilienceOptions { MaxRetries = 0, BaseDelayMs = 1 }), _time, _log);
        var attempts = 0;

        using var answer = await pipelines.Outer.ExecuteAsync(_ =>
        {
            attempts++;
            return ValueTask.FromResult(new HttpResponseMessage(HttpStatusCode.ServiceUnavailable));
        });

        Assert.Equal(1, attempts);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, answer.StatusCode);
    }

    [Fact]
    public void AnOutcomeWithNeitherAnswerNorException_IsNotTransient_AndIsDescribedAsNone()
    {
        var nothing = Outcome.FromResult<HttpResponseMessage>(null!);

        Assert.False(StoreResiliencePipelines.IsTransient(nothing));
        Assert.Equal("none", StoreResiliencePipelines.Describe(nothing));
        Assert.Equal("TimeoutException", StoreResiliencePipelines.Describe(Outcome.FromException<HttpResponseMessage>(new TimeoutException())));
        using var answer = new HttpResponseMessage(HttpStatusCode.GatewayTimeout);
        Assert.Equal("504", StoreResiliencePipelines.Describe(Outcome.FromResult(answer)));
    }

    [Fact]
    public async Task TheRetriesWait_OnTheGatewaysClock()
    {
        // A clock whose timers run 100,000 times fast: the jittered first backoff (up to 1.4 × the 1 h base) is over within
        // 50 ms on it, and the 1-day total timeout fires after 864 ms. On the system clock the backoff would be at least
        // 16 s but for a chance of 1 in 100,000 (the jitter can make it a small fraction of the base), past the wait below.
        var pipelines = new StoreResiliencePipelines(Options.Create(new ResilienceOptions
        {
            MaxRetries = 1, BaseDelayMs = 3_600_000, TotalTimeoutSeconds = 86_400, AttemptTimeoutSeconds = 600, CircuitMinimumThroughput = 1_000_000,
        }), new FastTimers(), _log);
        var attempts = 0;

        using var answer = await pipelines.Outer.ExecuteAsync(_ => ValueTask.FromResult(new HttpResponseMessage(
            ++attempts == 1 ? HttpStatusCode.ServiceUnavailable : HttpStatusCode.OK))).AsTask().WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(2, attempts);
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
    }

    private sealed class FastTimers : TimeProvider
    {
        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) =>
            base.CreateTimer(callback, state, Fast(dueTime), Fast(period));

        private static TimeSpan Fast(TimeSpan span) => span <= TimeSpan.Zero ? span : span / 100_000;
    }

    /// <summary>Two calls and half of them failed open the circuit; retries are off so each call is one attempt.</summary>
    private StoreResiliencePipelines Pipelines(GatewayMetrics? metrics = null) => new(Options.Create(new ResilienceOptions
    {
        MaxRetries = 0, CircuitFailureRatio = 0.5, CircuitMinimumThroughput = 2, CircuitSamplingSeconds = 10, CircuitBreakSeconds = (int)Break.TotalSeconds,
    }), _time, _log, metrics);

    private static async Task FailAsync(StoreResiliencePipelines pipelines)
    {
        using var answer = await pipelines.Inner.ExecuteAsync(_ => ValueTask.FromResult(new HttpResponseMessage(HttpStatusCode.ServiceUnavailable)));
    }

    private static async Task SucceedAsync(StoreResiliencePipelines pipelines)
    {
        using var answer = await pipelines.Inner.ExecuteAsync(_ => ValueTask.FromResult(new HttpResponseMessage(HttpStatusCode.OK)));
    }
}
