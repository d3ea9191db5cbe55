namespace EntitlementGateway.Budget;

/// <summary>
/// The per-user upstream budget: an exact sliding-window log of Store calls.
/// One unit is one upstream HTTP call. Implementations: in memory (one replica) and Redis (shared).
/// </summary>
public interface IUserBudget
{
    /// <summary>Takes one unit for <paramref name="key"/> when the rolling window has room and the key is not blocked.</summary>
    ValueTask<BudgetDecision> TryAcquireAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>Gives back a unit taken by <see cref="TryAcquireAsync"/> (the Store rejected the call before counting it).</summary>
    ValueTask RefundAsync(string key, string lease, CancellationToken cancellationToken = default);

    /// <summary>Records that the Store answered 429: no unit is granted for the key before <paramref name="until"/>.</summary>
    ValueTask BlockUntilAsync(string key, DateTimeOffset until, CancellationToken cancellationToken = default);

    /// <summary>The key's current state, without taking a unit.</summary>
    ValueTask<BudgetSnapshot> GetAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>An operator's reset: forgets every unit in the key's window and any block.</summary>
    ValueTask ResetAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>An operator lifts a block set after a Store 429; the units in the window stay.</summary>
    ValueTask UnblockAsync(string key, CancellationToken cancellationToken = default);
}

/// <summary>The answer to one acquire.</summary>
/// <param name="Allowed">Whether a unit was taken.</param>
/// <param name="Remaining">Units left in the current rolling window after this decision.</param>
/// <param name="RetryAfter">When denied: how long until a unit can be granted. Zero when allowed.</param>
/// <param name="ResetAfter">How long until the oldest unit in the window leaves it (a unit frees up).</param>
/// <param name="Lease">Identifies the unit taken, for <see cref="IUserBudget.RefundAsync"/>; null when denied.</param>
public readonly record struct BudgetDecision(bool Allowed, int Remaining, TimeSpan RetryAfter, TimeSpan ResetAfter, string? Lease)
{
    public static BudgetDecision Denied(int remaining, TimeSpan retryAfter) =>
        new(false, remaining, retryAfter, retryAfter, null);
}

/// <summary>A read-only view of one key's budget.</summary>
public sealed record BudgetSnapshot(
    string Key,
    int Limit,
    int WindowSeconds,
    int Used,
    int Remaining,
    DateTimeOffset? OldestEntry,
    DateTimeOffset? BlockedUntil);
