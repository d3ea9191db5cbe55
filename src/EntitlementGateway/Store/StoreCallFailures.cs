using EntitlementGateway.Budget;
using EntitlementGateway.Store.Resilience;
using Polly.CircuitBreaker;
using Polly.Timeout;
using MsalException = Microsoft.Identity.Client.MsalException;

namespace EntitlementGateway.Store;

/// <summary>What an exception thrown by one Store call (any operation) means, in the gateway's failure vocabulary.</summary>
internal static class StoreCallFailures
{
    /// <summary>The failure, and the reason to log (null: nothing to log, the budget spoke); null when the exception is
    /// the caller's own cancellation or not a Store call's, and must propagate.</summary>
    public static (StoreCallResult Result, string? LogReason)? Classify(Exception ex, CancellationToken cancellationToken) => ex switch
    {
        StoreBudgetRefusedException refused => (StoreCallResult.Fail(StoreFailureKind.BudgetExhausted,
            "The player's budget refused the unit this Store call needs.", refused.Decision.RetryAfter), null),
        BudgetUnavailableException => (StoreCallResult.Fail(StoreFailureKind.BudgetUnavailable,
            "The shared budget store (Redis) is unavailable; retry shortly."), null),
        BrokenCircuitException open => (StoreCallResult.Fail(StoreFailureKind.Unavailable, "The Store is failing; calls to it are paused (circuit open).",
            open.RetryAfter is { } wait && wait > TimeSpan.Zero ? wait : TimeSpan.FromSeconds(1)), "circuit open"),
        TimeoutRejectedException or StoreTokenTimeoutException =>
            (StoreCallResult.Fail(StoreFailureKind.Timeout, "The Store did not answer in time."), "timeout"),
        OperationCanceledException when !cancellationToken.IsCancellationRequested =>
            (StoreCallResult.Fail(StoreFailureKind.Timeout, "The Store did not answer in time."), "timeout"),
        StoreBodyException body => (StoreCallResult.Fail(StoreFailureKind.Error, body.Message), "answer broke off"),
        HttpRequestException request => (StoreCallResult.Fail(StoreFailureKind.Unavailable, "The Store could not be reached."),
            request.HttpRequestError.ToString()),
        // The message can name the app and tenant but never holds a secret; the code is enough to act on.
        MsalException msal => (StoreCallResult.Fail(StoreFailureKind.Error, "The gateway could not obtain its service token."),
            "service token: " + msal.ErrorCode),
        _ => null,
    };
}
