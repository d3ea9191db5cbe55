using EntitlementGateway.Infrastructure.Telemetry;
using EntitlementGateway.Store;
using Microsoft.Extensions.Options;
using EntitlementGateway.Infrastructure.Logging;

namespace EntitlementGateway.Entitlements.Caching;

/// <summary>
/// The query as the API sees it: a fresh cached answer spends no budget; otherwise one upstream call sequence per
/// (player, UCID, normalised query) on this replica, shared by everyone asking at the same time; when that fails or the
/// budget is used up, the last answer younger than Cache:MaxStale stands in, marked stale.
/// </summary>
public sealed partial class CachedEntitlementQueries(
    ResultCache cache,
    EntitlementQueryService upstream,
    IOptions<CacheOptions> options,
    TimeProvider time,
    GatewayMetrics metrics,
    ILogger<CachedEntitlementQueries> logger)
{
    public const string FromUpstream = "upstream";
    public const string FromCache = "cache";
    public const string FromStale = "stale";

    private readonly SingleFlight<QueryOutcome> _flights = new();

    /// <param name="query">The validated query.</param>
    /// <param name="requireFresh">The client sent <c>Cache-Control: no-cache</c>: skip a fresh cached answer (spends budget).</param>
    /// <param name="cancellationToken">This caller's; it never cancels a flight others share.</param>
    public async Task<QueryOutcome> QueryAsync(EntitlementQuery query, bool requireFresh, CancellationToken cancellationToken)
    {
        var outcome = await AnswerAsync(query, requireFresh, cancellationToken);
        if (outcome.Succeeded) metrics.Answer(outcome.ServedFrom, outcome.StaleBecause);
        return outcome;
    }

    private async Task<QueryOutcome> AnswerAsync(EntitlementQuery query, bool requireFresh, CancellationToken cancellationToken)
    {
        if (!options.Value.Enabled) return await upstream.QueryAsync(query, cancellationToken);

        var key = QueryCacheKey.For(query);
        var cached = await cache.GetAsync(key, query.BudgetKey, countLookup: !requireFresh, cancellationToken);
        if (!requireFresh && cached is not null && time.GetUtcNow() < cached.FreshUntil)
        {
            var owned = EntitlementFilter.OwnedAt(cached.Entitlements, time.GetUtcNow());
            // The whole entry still owned: the answer is the same JSON as the previous hit's, so it is kept and sent again.
            return new QueryOutcome(null, owned, null, null, "", FromCache)
            {
                AnswerMemo = ReferenceEquals(owned, cached.Entitlements) ? cached.HitAnswer : null,
                Candidates = cached.Entitlements,
            };
        }

        // A fresh answer is one the Store gave after it was asked for: a no-cache query never joins a call begun before it.
        var outcome = requireFresh ? await FetchAndStoreAsync(query, key) : await FlightAsync(query, key, cancellationToken);
        if (outcome.Succeeded) return outcome;

        if (StaleReason(outcome.Failure!.Value) is { } reason && cached is not null && time.GetUtcNow() < cached.StaleUntil)
        {
            LogServedStale(logger, query.Fingerprint, reason, (time.GetUtcNow() - cached.StoredAt).TotalSeconds);
            return new QueryOutcome(null, EntitlementFilter.OwnedAt(cached.Entitlements, time.GetUtcNow()), outcome.Budget, null, "", FromStale, reason)
            {
                Candidates = cached.Entitlements,
            };
        }
        return outcome;
    }

    // Its own method: a lambda capturing this method's parameters would allocate its closure on every call, cache hits included.
    private Task<QueryOutcome> FlightAsync(EntitlementQuery query, string key, CancellationToken cancellationToken) =>
        _flights.RunAsync(key, () => FetchAndStoreAsync(query, key), cancellationToken);

    /// <summary>The failures a stale answer may stand in for, named by their problem code. A UCID the Store refused is not one of them.</summary>
    internal static string? StaleReason(StoreFailureKind failure) =>
        StoreFailureAnswers.For(failure) is { StaleMayStandIn: true } answer ? answer.Code : null;

    private async Task<QueryOutcome> FetchAndStoreAsync(EntitlementQuery query, string key)
    {
        // No caller's token: the flight outlives any one request. Nor the host's stopping token: a
        // graceful shutdown drains requests in flight, and they wait on this. The query's own deadline
        // (Resilience:TotalTimeoutSeconds) and Redis:OperationTimeoutMs bound it.
        var fetchedAt = time.GetUtcNow();
        var outcome = await upstream.QueryAsync(query, CancellationToken.None);
        if (outcome.Succeeded) await cache.SetAsync(key, query.BudgetKey, outcome.Candidates ?? outcome.Entitlements!, fetchedAt, CancellationToken.None);
        else if (outcome.Failure is StoreFailureKind.UcidRefused or StoreFailureKind.XboxTokenRefused) await cache.RemoveAsync(key, CancellationToken.None);
        return outcome;
    }

    [LoggerMessage(EventId = EventIds.ServedStale, EventName = nameof(EventIds.ServedStale), Level = LogLevel.Information, Message = "Served a stale answer ({AgeSeconds:0} s old) to ucid {UcidHash} because {Reason}")]
    private static partial void LogServedStale(ILogger logger, string ucidHash, string reason, double ageSeconds);
}
