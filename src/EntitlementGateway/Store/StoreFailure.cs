namespace EntitlementGateway.Store;

/// <summary>What went wrong with one Store call (or the budget unit it needed), in the terms the gateway answers with.
/// <see cref="StoreFailureAnswers"/> maps each to one problem status, code and Retry-After.</summary>
public enum StoreFailureKind
{
    /// <summary>The player's budget refused the unit a Store call needs.</summary>
    BudgetExhausted,
    /// <summary>The shared budget store (Redis) did not answer and the policy is Reject.</summary>
    BudgetUnavailable,
    /// <summary>The Store answered 429 for this player.</summary>
    RateLimited,
    /// <summary>The Store refused the UCID (401/403 with a freshly obtained service token).</summary>
    UcidRefused,
    /// <summary>The Store refused the player's delegated Xbox authorization (401/403 on a call made with it).</summary>
    XboxTokenRefused,
    /// <summary>The Store refuses many players at once: the gateway's own credentials are suspect.</summary>
    CredentialsSuspect,
    /// <summary>503, no connection, or the circuit is open.</summary>
    Unavailable,
    /// <summary>No answer (headers or body) in time, or 408/504.</summary>
    Timeout,
    /// <summary>Any other error answer, a body that is not the documented JSON, a reset mid-body, a paging loop.</summary>
    Error,
}

/// <summary>Reads the Store's <c>Retry-After</c>: delta-seconds or an HTTP-date.</summary>
public static class StoreRetryAfter
{
    /// <summary>No Store wait is believed beyond this: a broken or hostile value must not block a player for days.</summary>
    public static readonly TimeSpan Max = TimeSpan.FromHours(1);

    /// <summary>
    /// The wait the Store asks for, within [0, <see cref="Max"/>]; null when it sent none. An HTTP-date is measured
    /// against the answer's own <c>Date</c> header when present (so clock skew between the Store and this host does
    /// not matter), else against <paramref name="now"/>.
    /// </summary>
    public static TimeSpan? Parse(HttpResponseMessage response, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(response);
        var header = response.Headers.RetryAfter;
        TimeSpan wait;
        if (header?.Delta is { } delta) wait = delta;
        else if (header?.Date is { } date) wait = date - (response.Headers.Date ?? now);
        // Delta-seconds past what the header type holds (2^31 - 1): as long a wait as any other beyond the cap.
        else if (response.Headers.NonValidated.TryGetValues("Retry-After", out var raw) && raw.Count == 1 &&
                 raw.ToString() is { Length: > 0 } text && text.All(char.IsAsciiDigit)) wait = Max;
        else return null;
        return TimeSpan.FromTicks(Math.Clamp(wait.Ticks, 0, Max.Ticks));
    }
}
