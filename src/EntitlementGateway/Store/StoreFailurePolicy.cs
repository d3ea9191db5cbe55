using EntitlementGateway.Budget;
using EntitlementGateway.Infrastructure.Http;
using EntitlementGateway.Infrastructure.Logging;
using EntitlementGateway.Infrastructure.Telemetry;
using EntitlementGateway.Store.Resilience;

namespace EntitlementGateway.Store;

/// <summary>A failed Store call as the caller answers it: the kind, the budget decision for the RateLimit headers, the wait.</summary>
public sealed record StoreFailureOutcome(StoreFailureKind Kind, BudgetDecision? Budget, TimeSpan? RetryAfter, string Detail);

/// <summary>
/// What every Store operation (query page, consume) does when its call fails, so all of them share one budget story: a
/// budget refusal says when to come back; the Store's 429 blocks the player on every replica until its Retry-After; a
/// refused UCID or X-token gives back the units that call's attempts took (or anyone could drain a victim's budget with
/// UCIDs that merely carry the victim's userId, or X-tokens the victim's x=), and a refused UCID counts towards
/// suspecting the gateway's own credentials.
/// </summary>
public sealed partial class StoreFailurePolicy(IUserBudget budget, StoreCredentialsMonitor credentials, GatewayMetrics metrics, StoreHealth health,
    TimeProvider time, ILogger<StoreFailurePolicy> logger)
{
    /// <param name="ucidFingerprint">The UCID's log tag.</param>
    /// <param name="budgetKey">The player's budget key.</param>
    /// <param name="ucid">The call's UCID; null for a call with the player's delegated Xbox authorization.</param>
    /// <param name="result">The failed call.</param>
    /// <param name="state">The call state the failed call used.</param>
    /// <param name="leasesBefore">How many leases <paramref name="state"/> held before this call (earlier pages keep theirs).</param>
    /// <param name="cancellationToken">The caller's.</param>
    public async Task<StoreFailureOutcome> HandleAsync<T>(string ucidFingerprint, string budgetKey, UserCollectionsId? ucid, StoreCallResult<T> result, StoreCallState state,
        int leasesBefore, CancellationToken cancellationToken) where T : class
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(state);
        var kind = result.Failure!.Value;
        var last = state.Last;
        health.RecordFailure(kind, result.Detail);
        switch (kind)
        {
            case StoreFailureKind.BudgetExhausted:
                var wait = StoreFailureAnswers.RetryAfter(kind, result.RetryAfter)!.Value;
                LogBudgetExhausted(logger, ucidFingerprint, wait.TotalSeconds);
                return new StoreFailureOutcome(kind, last, wait,
                    $"This player's budget of Store calls is used up; retry after {GatewayProblems.WholeSeconds(wait)} s.");
            case StoreFailureKind.RateLimited:
                var retryAfter = StoreFailureAnswers.RetryAfter(kind, result.RetryAfter)!.Value;
                await budget.BlockUntilAsync(budgetKey, time.GetUtcNow() + retryAfter, cancellationToken);
                metrics.BudgetDecision(BudgetDecisions.Blocked);
                return new StoreFailureOutcome(kind, last, retryAfter, result.Detail);
            case StoreFailureKind.UcidRefused or StoreFailureKind.XboxTokenRefused:
                // A refused X-token is the player's: it never makes the gateway suspect its own credentials.
                var refunds = state.Leases.Skip(leasesBefore).ToList();
                foreach (var lease in refunds)
                {
                    await budget.RefundAsync(budgetKey, lease, cancellationToken);
                    metrics.BudgetUnitRefunded();
                }
                if (state.LastGranted is { } granted) last = granted with { Remaining = granted.Remaining + refunds.Count };
                if (kind == StoreFailureKind.XboxTokenRefused)
                    return new StoreFailureOutcome(kind, last, null,
                        "The Store refused this Xbox authorization (expired, for another relying party, or a signature that does not match); get a new token and signature.");
                if (credentials.RecordRefusal(budgetKey, ucid))
                    return new StoreFailureOutcome(StoreFailureKind.CredentialsSuspect, last, null,
                        "The Store is refusing many players at once; the gateway's own Store credentials are being checked. Retry later.");
                LogUcidRejected(logger, ucidFingerprint);
                return new StoreFailureOutcome(kind, last, null,
                    "The Store refused this UserCollectionsId (forged, revoked or minted for another app); mint a new one.");
            default:
                return new StoreFailureOutcome(kind, last, result.RetryAfter, result.Detail);
        }
    }

    [LoggerMessage(EventId = EventIds.UcidRejected, EventName = nameof(EventIds.UcidRejected), Level = LogLevel.Warning, Message = "The Store refused ucid {UcidHash}; its budget units were refunded")]
    private static partial void LogUcidRejected(ILogger logger, string ucidHash);

    [LoggerMessage(EventId = EventIds.BudgetExhausted, EventName = nameof(EventIds.BudgetExhausted), Level = LogLevel.Information, Message = "Budget exhausted for ucid {UcidHash}; retry after {RetryAfterSeconds:0.0} s")]
    private static partial void LogBudgetExhausted(ILogger logger, string ucidHash, double retryAfterSeconds);
}
