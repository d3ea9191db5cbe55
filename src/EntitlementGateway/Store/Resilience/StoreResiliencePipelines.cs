using System.Net;
using EntitlementGateway.Budget;
using Microsoft.Extensions.Options;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;
using Polly.Timeout;
using EntitlementGateway.Infrastructure.Logging;

namespace EntitlementGateway.Store.Resilience;

/// <summary>
/// The process-wide Polly pipelines of the Collections client (one circuit per process). Outer: total timeout, then
/// retry with jittered exponential backoff. Inner, once per attempt: circuit breaker, then attempt timeout. The budget
/// unit is taken between the two (see <see cref="StoreResilienceHandler"/>), so each attempt spends one unit and an
/// open circuit spends none.
/// </summary>
public sealed partial class StoreResiliencePipelines
{
    private readonly CircuitBreakerStateProvider _circuit = new();
    private readonly TimeProvider _time;
    private long _openUntilTicks;

    public StoreResiliencePipelines(IOptions<ResilienceOptions> options, TimeProvider time, ILogger<StoreResiliencePipelines> logger,
        Infrastructure.Telemetry.GatewayMetrics? metrics = null)
    {
        // Open while calls are refused: once the break has run out, Polly says Open until a call comes, on an idle replica for ever.
        metrics?.ObserveCircuit(() => CircuitRefusesNow);
        var o = options.Value;
        _time = time;
        var outer = new ResiliencePipelineBuilder<HttpResponseMessage> { TimeProvider = time }.AddTimeout(o.TotalTimeout);
        if (o.MaxRetries > 0)
        {
            outer.AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                MaxRetryAttempts = o.MaxRetries,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = TimeSpan.FromMilliseconds(o.BaseDelayMs),
                ShouldHandle = args => ValueTask.FromResult(ShouldRetry(args.Outcome, time.GetUtcNow())),
                OnRetry = args =>
                {
                    // AttemptNumber is the failed attempt's, from 0: the next one is the second for the first retry.
                    // The attempt's own ids: the query's Store-call line names only its last attempt.
                    // An attempt that failed without an answer (a timeout, a reset) still sent its MS-CV: the call's state has it.
                    var answer = args.Outcome.Result;
                    LogRetry(logger, args.AttemptNumber + 2, Describe(args.Outcome), args.RetryDelay.TotalMilliseconds,
                        answer?.RequestMessage is { } sent ? StoreWire.Header(sent, StoreWire.CorrelationVectorHeader)
                            : args.Context.Properties.TryGetValue(StoreCallState.ContextKey, out var call) ? call.LastCorrelationVector : null,
                        answer is null ? null : StoreWire.Header(answer, StoreWire.CorrelationIdHeader),
                        answer is null ? null : StoreWire.Header(answer, StoreWire.RequestIdHeader),
                        answer is null ? null : StoreWire.Header(answer, StoreWire.CorrelationVectorHeader));
                    return default;
                },
            });
        }
        Outer = outer.Build();

        Inner = new ResiliencePipelineBuilder<HttpResponseMessage> { TimeProvider = time }
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions<HttpResponseMessage>
            {
                FailureRatio = o.CircuitFailureRatio,
                MinimumThroughput = o.CircuitMinimumThroughput,
                SamplingDuration = TimeSpan.FromSeconds(o.CircuitSamplingSeconds),
                BreakDuration = TimeSpan.FromSeconds(o.CircuitBreakSeconds),
                StateProvider = _circuit,
                ShouldHandle = args => ValueTask.FromResult(CountsAgainstCircuit(args.Outcome)),
                OnOpened = args =>
                {
                    Interlocked.Exchange(ref _openUntilTicks, (time.GetUtcNow() + args.BreakDuration).UtcTicks);
                    LogCircuitOpened(logger, args.BreakDuration.TotalSeconds, Describe(args.Outcome));
                    return default;
                },
                OnClosed = _ =>
                {
                    LogCircuitClosed(logger);
                    return default;
                },
            })
            .AddTimeout(o.AttemptTimeout)
            .Build();
    }

    /// <summary>Total timeout and retry, around every attempt.</summary>
    public ResiliencePipeline<HttpResponseMessage> Outer { get; }

    /// <summary>Circuit breaker and attempt timeout, around one attempt's Store call.</summary>
    public ResiliencePipeline<HttpResponseMessage> Inner { get; }

    /// <summary>
    /// Open with its break still running: a call is refused without reaching the Store, so no unit should be taken for
    /// it. Once the break has run out, Polly still says Open until the next call becomes the half-open trial; that call
    /// must have paid its unit before it enters, so a player without budget can neither take the trial nor fail it.
    /// (Nothing isolates the circuit: no manual control is attached.)
    /// </summary>
    public bool CircuitRefusesNow =>
        _circuit.CircuitState == CircuitState.Open && _time.GetUtcNow().UtcTicks < Interlocked.Read(ref _openUntilTicks);

    public CircuitState CircuitState => _circuit.CircuitState;

    /// <summary>When the latest break ends (the circuit opened last); null when it never opened.</summary>
    public DateTimeOffset? OpenUntil => Interlocked.Read(ref _openUntilTicks) is > 0 and var ticks ? new DateTimeOffset(ticks, TimeSpan.Zero) : null;

    /// <summary>Worth another attempt: 5xx, 408, a connection failure (not an untrusted certificate, an answer that is not
    /// HTTP or one with too many headers) or an attempt timeout.
    /// Never a 429 (it is this player's limit, and retrying it would only spend more), a 4xx, a budget refusal or an open
    /// circuit.</summary>
    internal static bool IsTransient(Outcome<HttpResponseMessage> outcome) => outcome switch
    {
        { Exception: StoreBudgetRefusedException or BudgetUnavailableException or BrokenCircuitException } => false,
        // The same certificate, or the same answer, meets the next attempt: retrying only spends the player's units.
        { Exception: HttpRequestException http } when StoreWire.IsTlsRefusal(http) || StoreWire.IsUnreadableAnswer(http) => false,
        { Exception: HttpRequestException or TimeoutRejectedException or StoreBodyException } => true,
        { Exception: not null } => false,
        { Result: { } response } => (int)response.StatusCode >= 500 || response.StatusCode == HttpStatusCode.RequestTimeout,
        _ => false,
    };

    /// <summary>
    /// Retried: a transient failure, unless the Store's answer asks for a second or more of quiet (<c>Retry-After</c> on a
    /// 503): a retry within the query's own time would come back before then and spend another of the player's units.
    /// The circuit still counts that answer.
    /// </summary>
    internal static bool ShouldRetry(Outcome<HttpResponseMessage> outcome, DateTimeOffset now) =>
        IsTransient(outcome) && !(outcome.Result is { } answer && StoreRetryAfter.Parse(answer, now) >= TimeSpan.FromSeconds(1));

    /// <summary>What the circuit counts as a failure: the transient failures, but for a stream reset on a connection
    /// already replaced (the old connection's, not the Store's). Budget refusals never reach it (the unit is taken before
    /// the circuit), and a 4xx is about the request, not the Store's health.</summary>
    internal static bool CountsAgainstCircuit(Outcome<HttpResponseMessage> outcome) =>
        outcome.Exception is not StoreRetiredConnectionException && IsTransient(outcome);

    internal static string Describe(Outcome<HttpResponseMessage> outcome) =>
        outcome.Exception is { } ex ? ex.GetType().Name : ((int?)outcome.Result?.StatusCode)?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none";

    [LoggerMessage(EventId = EventIds.StoreRetry, EventName = nameof(EventIds.StoreRetry), Level = LogLevel.Warning,
        Message = "Store call attempt failed ({Reason}); attempt {NextAttempt} in {DelayMs:0} ms; sent MS-CV {SentMsCv}; MS-CorrelationId {MsCorrelationId} MS-RequestId {MsRequestId} MS-CV {MsCv}")]
    private static partial void LogRetry(ILogger logger, int nextAttempt, string reason, double delayMs, string? sentMsCv, string? msCorrelationId, string? msRequestId, string? msCv);

    [LoggerMessage(EventId = EventIds.StoreCircuitOpened, EventName = nameof(EventIds.StoreCircuitOpened), Level = LogLevel.Error, Message = "Store circuit opened for {BreakSeconds:0.0} s after {Reason}: Store calls are refused meanwhile")]
    private static partial void LogCircuitOpened(ILogger logger, double breakSeconds, string reason);

    [LoggerMessage(EventId = EventIds.StoreCircuitClosed, EventName = nameof(EventIds.StoreCircuitClosed), Level = LogLevel.Information, Message = "Store circuit closed: Store calls resume")]
    private static partial void LogCircuitClosed(ILogger logger);
}
