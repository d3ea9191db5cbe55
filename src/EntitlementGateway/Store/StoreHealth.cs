using EntitlementGateway.Store.Replicas;
using EntitlementGateway.Store.Resilience;
using Microsoft.Extensions.Options;

namespace EntitlementGateway.Store;

/// <summary>One Store failure code as this replica last saw it.</summary>
public sealed record StoreErrorSummary(string Code, string Kind, long Count, DateTimeOffset LastAt, string LastDetail);

/// <summary>A service token's state, never its value.</summary>
public sealed record StoreTokenState(bool Held, DateTimeOffset? AcquiredAt, DateTimeOffset? ExpiresOn, long Acquisitions, long Failures,
    string? LastFailure, DateTimeOffset? LastFailureAt);

/// <summary>What an operator needs to judge the Store path of one replica.</summary>
/// <param name="Replica">The replica's name: ReplicaHealth:Name, by default its host name (the pod's name in Kubernetes).</param>
/// <param name="At">When this report was made.</param>
/// <param name="Circuit">Closed, Open, HalfOpen or Isolated: this replica's circuit breaker.</param>
/// <param name="CircuitOpenUntil">When the latest break ends (or ended); null when the circuit never opened.</param>
/// <param name="CredentialsSuspect">The Store refuses many players at once: the gateway's own credentials are suspect.</param>
/// <param name="ServiceToken">The Store service token.</param>
/// <param name="CollectionsTicket">The collections ticket handed to game clients.</param>
/// <param name="RecentErrors">Store failures by problem code, most recent first.</param>
public record StoreHealthReport(
    string Replica,
    DateTimeOffset At,
    string Circuit,
    DateTimeOffset? CircuitOpenUntil,
    bool CredentialsSuspect,
    StoreTokenState ServiceToken,
    StoreTokenState CollectionsTicket,
    IReadOnlyList<StoreErrorSummary> RecentErrors);

/// <summary>
/// This replica's memory of the Store path for the ops console: the last failure of each problem code and what became
/// of each token. Bounded by construction (one entry per failure kind, two tokens).
/// </summary>
public sealed class StoreHealth(TimeProvider time, IOptions<ReplicaHealthOptions>? replica = null)
{
    private readonly string _replica = replica?.Value.ReplicaName ?? Environment.MachineName;

    public const string ServiceTokenName = "service";
    public const string CollectionsTicketName = "collections_ticket";

    private readonly object _lock = new();
    private readonly Dictionary<StoreFailureKind, StoreErrorSummary> _errors = [];
    private readonly Dictionary<string, StoreTokenState> _tokens = new(StringComparer.Ordinal);

    /// <summary>A Store call (query page or renewal) failed with <paramref name="kind"/>; budget refusals are not Store errors.</summary>
    public void RecordFailure(StoreFailureKind kind, string detail)
    {
        if (kind is StoreFailureKind.BudgetExhausted or StoreFailureKind.BudgetUnavailable) return;
        var now = time.GetUtcNow();
        lock (_lock)
        {
            var count = _errors.TryGetValue(kind, out var previous) ? previous.Count + 1 : 1;
            _errors[kind] = new StoreErrorSummary(StoreFailureAnswers.For(kind).Code, kind.ToString(), count, now, detail);
        }
    }

    public void RecordTokenAcquired(string token, StoreToken acquired)
    {
        lock (_lock)
        {
            var state = Token(token);
            _tokens[token] = state with { Held = true, AcquiredAt = acquired.AcquiredAt == DateTimeOffset.MinValue ? state.AcquiredAt : acquired.AcquiredAt,
                ExpiresOn = acquired.ExpiresOn, Acquisitions = state.Acquisitions + 1 };
        }
    }

    public void RecordTokenFailed(string token, string failure)
    {
        var now = time.GetUtcNow();
        lock (_lock)
        {
            var state = Token(token);
            _tokens[token] = state with { Failures = state.Failures + 1, LastFailure = failure, LastFailureAt = now };
        }
    }

    public StoreHealthReport Report(StoreResiliencePipelines pipelines, StoreCredentialsMonitor credentials)
    {
        ArgumentNullException.ThrowIfNull(pipelines);
        ArgumentNullException.ThrowIfNull(credentials);
        var now = time.GetUtcNow();
        lock (_lock)
        {
            return new StoreHealthReport(_replica, now, pipelines.CircuitState.ToString(), pipelines.OpenUntil,
                credentials.IsSuspect, Current(ServiceTokenName, now), Current(CollectionsTicketName, now),
                _errors.Values.OrderByDescending(e => e.LastAt).ToList());
        }
    }

    /// <summary>The last failure's reason while no valid service token is held and the last attempt to get one failed;
    /// null otherwise (a token held, or none asked for yet).</summary>
    public string? ServiceTokenFailing()
    {
        var now = time.GetUtcNow();
        lock (_lock)
        {
            var state = Current(ServiceTokenName, now);
            return !state.Held && state.LastFailureAt is { } failed && (state.AcquiredAt is not { } acquired || failed >= acquired) ? state.LastFailure : null;
        }
    }

    private StoreTokenState Current(string token, DateTimeOffset now) => Token(token) is var state && state.ExpiresOn <= now ? state with { Held = false } : Token(token);

    private StoreTokenState Token(string token) =>
        _tokens.TryGetValue(token, out var state) ? state : new StoreTokenState(false, null, null, 0, 0, null, null);
}
