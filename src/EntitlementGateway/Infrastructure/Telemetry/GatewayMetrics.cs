using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace EntitlementGateway.Infrastructure.Telemetry;

/// <summary>
/// Every instrument the gateway records, on one <see cref="Meter"/>, all created here at start so the list is complete
/// (the monitoring files are checked against it). Names follow OpenTelemetry's semantic style; the collector's Prometheus
/// exporter turns <c>entitlement_gateway.store.calls</c> into <c>entitlement_gateway_store_calls_total</c>.
/// Tags are passed as <see cref="TagList"/> (a struct) and every method returns at once when nothing listens, so the
/// hot path pays nothing without an exporter.
/// </summary>
public sealed class GatewayMetrics
{
    public const string MeterName = "EntitlementGateway";
    private const string Prefix = "entitlement_gateway.";

    private readonly Counter<long> _requests;
    private readonly Histogram<double> _requestDuration;
    private readonly Counter<long> _storeCalls;
    private readonly Histogram<double> _storeCallDuration;
    private readonly Histogram<long> _storeQueryPages;
    private readonly Counter<long> _budgetDecisions;
    private readonly Counter<long> _budgetUnitsSpent;
    private readonly Counter<long> _budgetUnitsRefunded;
    private readonly Counter<long> _answers;
    private readonly Counter<long> _cacheLookups;
    private readonly Histogram<double> _redisDuration;
    private readonly Counter<long> _redisFailures;
    private readonly Counter<long> _tokenAcquisitions;
    private Func<bool>? _circuitOpen;
    private Func<bool>? _credentialsSuspect;

    public GatewayMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = meterFactory.Create(MeterName, typeof(GatewayMetrics).Assembly.GetName().Version?.ToString(3));
        _requests = meter.CreateCounter<long>(Prefix + "requests", "{request}", "Requests answered, by route, status and problem code.");
        _requestDuration = meter.CreateHistogram<double>(Prefix + "request.duration", "s", "Time to answer a request.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = SecondsBuckets });
        _storeCalls = meter.CreateCounter<long>(Prefix + "store.calls", "{call}", "Store calls (one per attempt), by operation and outcome.");
        _storeCallDuration = meter.CreateHistogram<double>(Prefix + "store.call.duration", "s", "Time of one Store call attempt.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = SecondsBuckets });
        _storeQueryPages = meter.CreateHistogram<long>(Prefix + "store.query.pages", "{page}", "Store pages one entitlement query needed.",
            advice: new InstrumentAdvice<long> { HistogramBucketBoundaries = [1, 2, 3, 5, 10, 20, 50] });
        _budgetDecisions = meter.CreateCounter<long>(Prefix + "budget.decisions", "{decision}",
            "Budget decisions: allowed, denied, unavailable (Redis), blocked (the Store answered 429).");
        _budgetUnitsSpent = meter.CreateCounter<long>(Prefix + "budget.units.spent", "{unit}", "Budget units taken for Store calls.");
        _budgetUnitsRefunded = meter.CreateCounter<long>(Prefix + "budget.units.refunded", "{unit}", "Budget units given back (the Store never served the call).");
        _answers = meter.CreateCounter<long>(Prefix + "answers", "{answer}", "Entitlement answers, by where they came from and why stale.");
        _cacheLookups = meter.CreateCounter<long>(Prefix + "cache.lookups", "{lookup}", "Result cache lookups, by level (l1, l2) and result (hit, miss).");
        _redisDuration = meter.CreateHistogram<double>(Prefix + "redis.duration", "s", "Time of one Redis call, by use (budget, cache) and outcome.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1] });
        _redisFailures = meter.CreateCounter<long>(Prefix + "redis.failures", "{failure}", "Redis calls that failed or timed out, by use and error type.");
        _tokenAcquisitions = meter.CreateCounter<long>(Prefix + "store.token.acquisitions", "{acquisition}",
            "Service-token requests to the identity provider, by token and outcome.");
        meter.CreateObservableGauge(Prefix + "store.circuit.open", () => _circuitOpen?.Invoke() == true ? 1 : 0, "{circuit}",
            "1 while this replica's Store circuit is open (Store calls refused), else 0.");
        meter.CreateObservableGauge(Prefix + "store.credentials.suspect", () => _credentialsSuspect?.Invoke() == true ? 1 : 0, "{state}",
            "1 while the Store refuses many players at once (the gateway's own credentials are suspect), else 0.");
    }

    private static readonly double[] SecondsBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

    /// <summary>Where the circuit gauge reads its state (the process-wide resilience pipelines).</summary>
    public void ObserveCircuit(Func<bool> isOpen) => _circuitOpen = isOpen;

    /// <summary>Where the credentials gauge reads its state.</summary>
    public void ObserveCredentials(Func<bool> isSuspect) => _credentialsSuspect = isSuspect;

    public void Request(string route, int statusCode, string problemCode, double seconds)
    {
        if (!_requests.Enabled && !_requestDuration.Enabled) return;
        var tags = new TagList { { "http.route", route }, { "http.response.status_code", StatusCodeTag(statusCode) }, { "error.code", problemCode } };
        _requests.Add(1, tags);
        _requestDuration.Record(seconds, tags);
    }

    public void StoreCall(string operation, string outcome, double seconds)
    {
        if (!_storeCalls.Enabled && !_storeCallDuration.Enabled) return;
        var tags = new TagList { { "store.operation", operation }, { "store.outcome", outcome } };
        _storeCalls.Add(1, tags);
        _storeCallDuration.Record(seconds, tags);
    }

    public void StoreQueryPages(string operation, int pages)
    {
        if (_storeQueryPages.Enabled) _storeQueryPages.Record(pages, new KeyValuePair<string, object?>("store.operation", operation));
    }

    public void BudgetDecision(string decision)
    {
        if (_budgetDecisions.Enabled) _budgetDecisions.Add(1, new KeyValuePair<string, object?>("budget.decision", decision));
    }

    public void BudgetUnitSpent()
    {
        if (_budgetUnitsSpent.Enabled) _budgetUnitsSpent.Add(1);
    }

    public void BudgetUnitRefunded()
    {
        if (_budgetUnitsRefunded.Enabled) _budgetUnitsRefunded.Add(1);
    }

    public void Answer(string servedFrom, string? staleReason)
    {
        if (_answers.Enabled)
            _answers.Add(1, new KeyValuePair<string, object?>("answer.served_from", servedFrom), new KeyValuePair<string, object?>("answer.stale_reason", staleReason ?? "none"));
    }

    public void CacheLookup(string level, bool hit)
    {
        if (_cacheLookups.Enabled)
            _cacheLookups.Add(1, new KeyValuePair<string, object?>("cache.level", level), new KeyValuePair<string, object?>("cache.result", hit ? "hit" : "miss"));
    }

    public void RedisCall(string use, string? errorType, double seconds)
    {
        if (_redisDuration.Enabled)
            _redisDuration.Record(seconds, new KeyValuePair<string, object?>("redis.use", use), new KeyValuePair<string, object?>("redis.outcome", errorType is null ? "ok" : "error"));
        if (errorType is not null && _redisFailures.Enabled)
            _redisFailures.Add(1, new KeyValuePair<string, object?>("redis.use", use), new KeyValuePair<string, object?>("error.type", errorType));
    }

    public void TokenAcquisition(string token, string outcome)
    {
        if (_tokenAcquisitions.Enabled)
            _tokenAcquisitions.Add(1, new KeyValuePair<string, object?>("store.token", token), new KeyValuePair<string, object?>("store.token.outcome", outcome));
    }

    // Boxed once: a status code tag must not allocate per request.
    private static readonly object[] StatusCodes = Enumerable.Range(0, 600).Select(code => (object)code).ToArray();

    private static object StatusCodeTag(int statusCode) => (uint)statusCode < StatusCodes.Length ? StatusCodes[statusCode] : statusCode;
}

/// <summary>The <c>budget.decision</c> tag: what the budget said about a unit a Store call needed.</summary>
public static class BudgetDecisions
{
    public const string Allowed = "allowed";
    public const string Denied = "denied";
    public const string Unavailable = "unavailable";
    /// <summary>The Store answered 429: the player is blocked until its Retry-After.</summary>
    public const string Blocked = "blocked";
}
