using EntitlementGateway.Budget;
using EntitlementGateway.Store;
using EntitlementGateway.Store.Resilience;
using Microsoft.Extensions.Options;

namespace EntitlementGateway.Entitlements;

/// <summary>A validated query: whose, which products, which kinds.</summary>
public sealed record EntitlementQuery(
    UserCollectionsId Ucid,
    string BudgetKey,
    IReadOnlyList<ProductSelector> Products,
    IReadOnlySet<string>? ProductKinds,
    bool IncludeSatisfyingItems);

public enum QueryStatus { Ok, BudgetExhausted, BudgetUnavailable, UcidRejected, UpstreamError, UpstreamUnavailable, UpstreamTimeout }

/// <summary>The result of one query, with the last budget decision for the RateLimit headers.</summary>
/// <param name="Status">What happened.</param>
/// <param name="Entitlements">The answer when <paramref name="Status"/> is Ok.</param>
/// <param name="Budget">The last budget decision (none on a cache hit).</param>
/// <param name="RetryAfter">For Retry-After, when the answer has one.</param>
/// <param name="Detail">The problem's detail on a failure.</param>
/// <param name="ServedFrom">upstream, cache or stale.</param>
/// <param name="StaleBecause">For a stale answer: the failure it stands in for (budget_exhausted, upstream_error, ...).</param>
public sealed record QueryOutcome(
    QueryStatus Status,
    IReadOnlyList<Entitlement>? Entitlements,
    BudgetDecision? Budget,
    TimeSpan? RetryAfter,
    string Detail,
    string ServedFrom = "upstream",
    string? StaleBecause = null);

/// <summary>
/// The upstream path: every page is one Store call whose every attempt takes a budget unit first (in the resilience
/// handler), follow continuation tokens to the end (bounded by Store:MaxPages), then filter and dedupe.
/// </summary>
public sealed partial class EntitlementQueryService(
    IUserBudget budget,
    CollectionsClient store,
    IOptions<StoreOptions> storeOptions,
    TimeProvider time,
    ILogger<EntitlementQueryService> logger)
{
    public async Task<QueryOutcome> QueryAsync(EntitlementQuery query, CancellationToken cancellationToken)
    {
        var options = storeOptions.Value;
        var request = new B2bLicensePreviewRequest
        {
            Beneficiaries = [new StoreBeneficiary("b2b", query.Ucid.Value, "")],
            ProductSkuIds = query.Products.Select(p => new StoreProductSkuId(p.ProductId, p.SkuId)).ToList(),
            EntitlementFilters = query.ProductKinds?.Order(StringComparer.Ordinal).Select(k => "*:" + k).ToList(),
            ExpandSatisfyingItems = query.IncludeSatisfyingItems,
            Sandbox = string.IsNullOrWhiteSpace(options.Sandbox) ? null : options.Sandbox,
        };

        var items = new List<StoreCollectionItem>();
        // One unit per attempt, taken by the resilience handler (retries included); it keeps the last decision.
        var units = new StoreAttemptBudget(query.BudgetKey);
        for (var page = 1; page <= options.MaxPages; page++)
        {
            var result = await store.QueryPageAsync(request, query.Ucid.Fingerprint, units, cancellationToken);
            if (!result.Succeeded) return await FailureAsync(query, result, units, cancellationToken);

            items.AddRange(result.Page!.Items ?? []);
            if (string.IsNullOrEmpty(result.Page.ContinuationToken))
            {
                var entitlements = EntitlementFilter.Apply(items, time.GetUtcNow(), query.Products, query.ProductKinds);
                return new QueryOutcome(QueryStatus.Ok, entitlements, units.Last, null, "");
            }
            request = request with { ContinuationToken = result.Page.ContinuationToken };
        }

        return new QueryOutcome(QueryStatus.UpstreamError, null, units.Last, null,
            $"The Store returned more than {options.MaxPages} pages (Store:MaxPages); ask for fewer products.");
    }

    private async Task<QueryOutcome> FailureAsync(EntitlementQuery query, StoreCallResult result, StoreAttemptBudget units, CancellationToken cancellationToken)
    {
        var last = units.Last;
        switch (result.Failure)
        {
            case StoreFailureKind.BudgetExhausted:
                var wait = result.RetryAfter ?? TimeSpan.FromSeconds(1);
                LogBudgetExhausted(logger, query.Ucid.Fingerprint, wait.TotalSeconds);
                return new QueryOutcome(QueryStatus.BudgetExhausted, null, last, wait,
                    $"This player's budget of Store calls is used up; retry after {Api.GatewayProblems.WholeSeconds(wait)} s.");
            case StoreFailureKind.BudgetUnavailable:
                // Budget:WhenRedisUnavailable=Reject: no Store call that the shared budget did not count.
                return new QueryOutcome(QueryStatus.BudgetUnavailable, null, last, result.RetryAfter ?? TimeSpan.FromSeconds(5), result.Detail);
            case StoreFailureKind.RateLimited:
                // Shared through the budget store, so no replica calls the Store for this player before then.
                var retryAfter = result.RetryAfter ?? TimeSpan.FromSeconds(60);
                await budget.BlockUntilAsync(query.BudgetKey, time.GetUtcNow() + retryAfter, cancellationToken);
                return new QueryOutcome(QueryStatus.UpstreamUnavailable, null, last, retryAfter, result.Detail);
            case StoreFailureKind.Unavailable:
                return new QueryOutcome(QueryStatus.UpstreamUnavailable, null, last, result.RetryAfter ?? TimeSpan.FromSeconds(5), result.Detail);
            case StoreFailureKind.Unauthorized:
                // A forged or revoked UCID: the Store did not serve this player, so the unit goes back. Otherwise anyone
                // could drain a victim's budget with UCIDs that merely carry the victim's userId. A 401 is never retried,
                // so the last granted unit is the one that attempt took.
                if (units.LastGranted is { Lease: { } lease } granted)
                {
                    await budget.RefundAsync(query.BudgetKey, lease, cancellationToken);
                    last = granted with { Remaining = granted.Remaining + 1 };
                }
                LogUcidRejected(logger, query.Ucid.Fingerprint);
                return new QueryOutcome(QueryStatus.UcidRejected, null, last, null,
                    "The Store refused this UserCollectionsId (forged, revoked or minted for another app); mint a new one.");
            case StoreFailureKind.Timeout:
                return new QueryOutcome(QueryStatus.UpstreamTimeout, null, last, null, result.Detail);
            default:
                return new QueryOutcome(QueryStatus.UpstreamError, null, last, null, result.Detail);
        }
    }

    [LoggerMessage(EventId = 1002, Level = LogLevel.Warning, Message = "The Store refused ucid {UcidHash}; its budget unit was refunded")]
    private static partial void LogUcidRejected(ILogger logger, string ucidHash);

    [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "Budget exhausted for ucid {UcidHash}; retry after {RetryAfterSeconds:0.0} s")]
    private static partial void LogBudgetExhausted(ILogger logger, string ucidHash, double retryAfterSeconds);
}
