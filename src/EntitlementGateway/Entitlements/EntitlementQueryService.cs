using EntitlementGateway.Budget;
using EntitlementGateway.Store;
using EntitlementGateway.Store.Resilience;
using Microsoft.Extensions.Options;
using EntitlementGateway.Infrastructure.Logging;
using EntitlementGateway.Infrastructure.Telemetry;

namespace EntitlementGateway.Entitlements;

/// <summary>A validated query: whose (a UCID, or the player's delegated Xbox authorization), which products, which
/// kinds, through which Collections API.</summary>
public sealed record EntitlementQuery(
    UserCollectionsId? Ucid,
    string BudgetKey,
    IReadOnlyList<ProductSelector> Products,
    IReadOnlySet<string>? ProductKinds,
    bool IncludeSatisfyingItems,
    CollectionsApi Api = CollectionsApi.V8,
    XboxAuthorization? Xbox = null)
{
    /// <summary>A short hash of the credential, for logs: the start of <see cref="CredentialHash"/> when the caller has it,
    /// so a query does not hash the whole credential again.</summary>
    public string Fingerprint => CredentialHash is { Length: 2 * System.Security.Cryptography.SHA256.HashSizeInBytes } hash
        ? hash[..UserCollectionsId.FingerprintLength]
        : Ucid?.Fingerprint ?? Xbox!.Fingerprint;

    /// <summary>The credential the Store checks (the UCID, or the X-token's Authorization value); only ever hashed.</summary>
    public string Credential => Ucid?.Value ?? Xbox!.Authorization;

    /// <summary>The lower-case hex SHA-256 of <see cref="Credential"/> when the caller has it already; else computed where needed.</summary>
    public string? CredentialHash { get; init; }
}

/// <summary>The result of one query, with the last budget decision for the RateLimit headers.</summary>
/// <param name="Failure">What went wrong; null when <paramref name="Entitlements"/> is the answer.</param>
/// <param name="Entitlements">The answer when the query succeeded.</param>
/// <param name="Budget">The last budget decision (none on a cache hit).</param>
/// <param name="RetryAfter">The failure's own wait, when it has one.</param>
/// <param name="Detail">The problem's detail on a failure.</param>
/// <param name="ServedFrom">upstream, cache or stale.</param>
/// <param name="StaleBecause">For a stale answer: the failure it stands in for (budget_exhausted, upstream_error, ...).</param>
public sealed record QueryOutcome(
    StoreFailureKind? Failure,
    IReadOnlyList<Entitlement>? Entitlements,
    BudgetDecision? Budget,
    TimeSpan? RetryAfter,
    string Detail,
    string ServedFrom = "upstream",
    string? StaleBecause = null)
{
    public bool Succeeded => Failure is null;

    /// <summary>For an answer: every copy owned now or later (<see cref="EntitlementFilter.Candidates"/>), what the cache
    /// keeps so that it can tell what is owned at a later instant, and what the Game Pass check reads.</summary>
    public IReadOnlyList<Entitlement>? Candidates { get; init; }

    /// <summary>Where the JSON of this very answer is kept when it is a cached one given unchanged (see <see cref="Infrastructure.Http.JsonAnswer{T}"/>).</summary>
    public Infrastructure.Http.JsonAnswerMemo? AnswerMemo { get; init; }
}

/// <summary>
/// The upstream path: every page is one Store call whose every attempt takes a budget unit first (in the resilience
/// handler); follow continuation tokens to the end (bounded by Store:MaxPages, and ended at once when the Store repeats a
/// token, which would otherwise spend budget page after page), then filter and dedupe. The whole query, every page,
/// retry and token request included, ends within Resilience:TotalTimeoutSeconds.
/// </summary>
public sealed partial class EntitlementQueryService(
    CollectionsClient store,
    StoreFailurePolicy failures,
    StoreCredentialsMonitor credentials,
    Clawback.OrderBook orders,
    IOptions<StoreOptions> storeOptions,
    IOptions<ResilienceOptions> resilienceOptions,
    TimeProvider time,
    GatewayMetrics metrics,
    AcceptedUcids accepted,
    UnprovenCallGate gate,
    ILogger<EntitlementQueryService> logger)
{
    public async Task<QueryOutcome> QueryAsync(EntitlementQuery query, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(resilienceOptions.Value.TotalTimeout);
        var state = new StoreCallState(query.BudgetKey, StoreWire.NewCorrelationVector(), query.Xbox)
        {
            Unproven = UnprovenCallGate.IsUnproven(query.BudgetKey, query.Ucid, accepted),
            StopWaitingAt = gate.StopWaitingAt(resilienceOptions.Value.TotalTimeout),
        };
        try
        {
            return await PagesAsync(query, state, deadline.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            LogQueryTimedOut(logger, query.Fingerprint, resilienceOptions.Value.TotalTimeoutSeconds);
            return new QueryOutcome(StoreFailureKind.Timeout, null, state.Last, null,
                $"The Store did not answer the whole query within {resilienceOptions.Value.TotalTimeoutSeconds:0.###} s.");
        }
    }

    private async Task<QueryOutcome> PagesAsync(EntitlementQuery query, StoreCallState state, CancellationToken cancellationToken)
    {
        var options = storeOptions.Value;
        var pages = CollectionsPages.For(query, options, store, state);
        var items = new List<StoreCollectionItem>();
        var tokensSeen = new HashSet<string>(StringComparer.Ordinal);
        for (var page = 1; page <= options.MaxPages; page++)
        {
            var pageLeases = state.Leases.Count;
            state.Page = page;
            var result = await pages.NextAsync(cancellationToken);
            cancellationToken.ThrowIfCancellationRequested();
            if (!result.Succeeded)
            {
                metrics.StoreQueryPages(OperationOf(query), page);
                // The Store took this UCID for page 1 with the same service token moments ago: a refusal now is not the
                // UCID's (telling the player to mint a new one would not help), nor a sign of forged UCIDs.
                if (page > 1 && result.Failure == StoreFailureKind.UcidRefused)
                    result = StoreCallResult<B2bLicensePreviewResponse>.Fail(StoreFailureKind.Error,
                        $"The Store refused page {page} of this query after accepting the UserCollectionsId for page 1; the UserCollectionsId is not the cause.");
                return await FailureAsync(query, result, state, pageLeases, cancellationToken);
            }
            // A page served on the player's own Xbox authorization says nothing about the gateway's credentials.
            if (query.Xbox is null) credentials.RecordAccepted();

            items.AddRange(result.Answer!.Items ?? []);
            var next = result.Answer.ContinuationToken;
            if (string.IsNullOrEmpty(next))
            {
                metrics.StoreQueryPages(OperationOf(query), page);
                var now = time.GetUtcNow();
                var candidates = EntitlementFilter.Candidates(items, now, query.Products, query.ProductKinds);
                // Each item's transactionId is its order: kept with the player, so a refund of it can be brought home.
                await orders.RecordAsync(query.BudgetKey, items.Select(i => i.TransactionId), cancellationToken);
                return new QueryOutcome(null, EntitlementFilter.OwnedAt(candidates, now), state.Last, null, "") { Candidates = candidates };
            }
            if (!tokensSeen.Add(next))
            {
                LogContinuationLoop(logger, query.Fingerprint, page);
                return new QueryOutcome(StoreFailureKind.Error, null, state.Last, null,
                    $"The Store returned a continuation token it had already returned in this query (after {page} pages): a paging loop.");
            }
            pages.ContinueWith(next);
        }

        return new QueryOutcome(StoreFailureKind.Error, null, state.Last, null,
            $"The Store returned more than {options.MaxPages} pages (Store:MaxPages); ask for fewer products.");
    }

    /// <summary>The <c>store.operation</c> a query's pages are counted under.</summary>
    private static string OperationOf(EntitlementQuery query) =>
        (query.Api == CollectionsApi.V9 ? Emulator.StoreOperations.PublisherQuery : Emulator.StoreOperations.B2bLicensePreview).Name;

    private async Task<QueryOutcome> FailureAsync(EntitlementQuery query, StoreCallResult<B2bLicensePreviewResponse> result, StoreCallState state, int pageLeases, CancellationToken cancellationToken)
    {
        var failure = await failures.HandleAsync(query.Fingerprint, query.BudgetKey, query.Ucid, result, state, pageLeases, cancellationToken);
        return new QueryOutcome(failure.Kind, null, failure.Budget, failure.RetryAfter, failure.Detail);
    }

    [LoggerMessage(EventId = EventIds.ContinuationLoop, EventName = nameof(EventIds.ContinuationLoop), Level = LogLevel.Warning, Message = "The Store repeated a continuation token for ucid {UcidHash} after {Pages} pages; the query ends as a paging loop")]
    private static partial void LogContinuationLoop(ILogger logger, string ucidHash, int pages);

    [LoggerMessage(EventId = EventIds.QueryTimedOut, EventName = nameof(EventIds.QueryTimedOut), Level = LogLevel.Warning, Message = "The Store did not answer the whole query for ucid {UcidHash} within {TotalSeconds} s")]
    private static partial void LogQueryTimedOut(ILogger logger, string ucidHash, double totalSeconds);
}
