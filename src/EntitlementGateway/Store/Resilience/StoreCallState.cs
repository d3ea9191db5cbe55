using EntitlementGateway.Budget;

namespace EntitlementGateway.Store.Resilience;

/// <summary>
/// Travels with one Store call (<see cref="HttpRequestMessage.Options"/>) through its attempts: the budget key whose
/// unit every attempt takes first, the last decisions (for the RateLimit headers and refunds), the service token the
/// last attempt used, and the correlation vector that numbers the attempts.
/// </summary>
public sealed class StoreCallState(string? budgetKey, string correlationVector, XboxAuthorization? xbox = null)
{
    public static readonly HttpRequestOptionsKey<StoreCallState> OptionKey = new("EntitlementGateway.StoreCallState");

    /// <summary>The same state on the resilience pipeline's context, for what runs between attempts.</summary>
    public static readonly Polly.ResiliencePropertyKey<StoreCallState> ContextKey = new("EntitlementGateway.StoreCallState");

    /// <summary>The page this call fetches (1-based); 0 when the operation is not paged.</summary>
    public int Page
    {
        get => _page;
        set
        {
            if (value != _page) _pageAttempts = 0;
            _page = value;
        }
    }

    /// <summary>Attempts made so far at this page (the current one's number while it runs): 2 and more are retries. The
    /// correlation vector numbers every call of the query instead.</summary>
    public int Attempt => _pageAttempts;

    /// <summary>The budget key (the player); null for a call that spends no budget.</summary>
    public string? BudgetKey { get; } = budgetKey;

    /// <summary>The budget key is the credential's own claim and the Store has not yet answered for the credential here:
    /// each attempt waits for a turn at <see cref="UnprovenCallGate"/>.</summary>
    public bool Unproven { get; init; }

    /// <summary>An unproven call waiting for its turn stops waiting at this moment (<see cref="UnprovenCallGate.StopWaitingAt"/>).</summary>
    public DateTimeOffset? StopWaitingAt { get; init; }

    /// <summary>The player's delegated Xbox authorization: every attempt carries it instead of the gateway's service token.</summary>
    public XboxAuthorization? Xbox { get; } = xbox;

    /// <summary>The latest decision, granted or refused; null before the first attempt.</summary>
    public BudgetDecision? Last { get; private set; }

    /// <summary>The latest granted decision: the unit of the attempt whose answer the caller sees.</summary>
    public BudgetDecision? LastGranted { get; private set; }

    /// <summary>Leases of every unit taken so far and not refunded (one per attempt that reached the Store or tried to).</summary>
    public IReadOnlyList<string> Leases => _leases;
    private readonly List<string> _leases = [];

    /// <summary>
    /// An attempt may have been carried out by the Store: it reached it (or may have) and was not refused for its
    /// credential. False while every attempt provably never reached the Store, never sent its whole request, or was
    /// answered 401 or 403, which the Store gives before it acts: then a consume provably changed nothing.
    /// </summary>
    public bool MayHaveActed { get; private set; }

    /// <summary>The latest attempt's outcome, as <see cref="MayHaveActed"/> reads it.</summary>
    internal void Attempted(bool mayHaveActed) => MayHaveActed |= mayHaveActed;

    /// <summary>The unit the latest attempt took; null when it took none.</summary>
    internal string? LastAttemptLease { get; set; }

    /// <summary>The service token the latest attempt carried.</summary>
    public StoreToken? Token { get; internal set; }

    /// <summary>The next attempt must use a new service token (the Store refused the one it had).</summary>
    internal bool RefreshToken { get; set; }

    /// <summary>MS-CV sent by the latest attempt.</summary>
    public string? LastCorrelationVector { get; private set; }

    private int _attempts, _page, _pageAttempts;

    internal void Record(BudgetDecision decision)
    {
        Last = decision;
        if (!decision.Allowed) return;
        LastGranted = decision;
        _leases.Add(decision.Lease!);
    }

    /// <summary>A unit given back: the decision that granted it counts it as remaining again, so the RateLimit headers
    /// do not report a unit the player still has as spent.</summary>
    internal void Forget(string lease)
    {
        _leases.Remove(lease);
        if (Last is { Lease: { } last } && last == lease) Last = Last.Value with { Remaining = Last.Value.Remaining + 1 };
        if (LastGranted is { Lease: { } granted } && granted == lease) LastGranted = LastGranted.Value with { Remaining = LastGranted.Value.Remaining + 1 };
    }

    /// <summary>This call's vector extended for the next attempt: <c>base.1</c>, <c>base.2</c>, ...</summary>
    internal string NextCorrelationVector()
    {
        _pageAttempts++;
        return LastCorrelationVector = correlationVector + "." + (++_attempts).ToString(System.Globalization.CultureInfo.InvariantCulture);
    }
}

/// <summary>The budget refused the unit an attempt needs: no Store call, and no retry.</summary>
public sealed class StoreBudgetRefusedException(BudgetDecision decision)
    : Exception($"The budget refused a unit; retry after {decision.RetryAfter.TotalSeconds:0.0} s.")
{
    public BudgetDecision Decision { get; } = decision;
}

/// <summary>The Store's answer broke off or stalled after its headers (reset, truncated, or larger than allowed).</summary>
public sealed class StoreBodyException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// The Store's answer is not read: it is framed ambiguously (<c>Content-Length</c> headers that disagree, so where it
/// ends cannot be known) or larger than the gateway reads. Not transient: the next attempt gets the same answer.
/// </summary>
public sealed class StoreUnreadableAnswerException(string message) : Exception(message);

/// <summary>
/// An attempt whose HTTP/2 stream was reset on a connection that had already been replaced: retried like any reset, but
/// not counted against the circuit, since the Store's other connections may be well. Carries the reset it wraps (and its
/// error code, so a refused stream still gives its unit back).
/// </summary>
public sealed class StoreRetiredConnectionException(Exception inner)
    : HttpRequestException(HttpRequestError.HttpProtocolError, "The Store reset this attempt's stream on a connection already replaced.", inner);
