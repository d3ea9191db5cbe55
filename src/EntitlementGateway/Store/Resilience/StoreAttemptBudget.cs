using EntitlementGateway.Budget;

namespace EntitlementGateway.Store.Resilience;

/// <summary>
/// Travels with a Store request (<see cref="HttpRequestMessage.Options"/>) so the resilience handler can take one budget
/// unit before every attempt, and keeps the last decision for the RateLimit headers and for a refund.
/// </summary>
public sealed class StoreAttemptBudget(string key)
{
    public static readonly HttpRequestOptionsKey<StoreAttemptBudget> OptionKey = new("EntitlementGateway.StoreAttemptBudget");

    /// <summary>The budget key (the player).</summary>
    public string Key { get; } = key;

    /// <summary>The latest decision, granted or refused; null before the first attempt.</summary>
    public BudgetDecision? Last { get; internal set; }

    /// <summary>The latest granted decision: the unit of the attempt whose answer the caller sees.</summary>
    public BudgetDecision? LastGranted { get; internal set; }

    /// <summary>Units taken so far (one per attempt that reached the Store or tried to).</summary>
    public int UnitsTaken { get; internal set; }

    internal void Record(BudgetDecision decision)
    {
        Last = decision;
        if (!decision.Allowed) return;
        LastGranted = decision;
        UnitsTaken++;
    }
}

/// <summary>The budget refused the unit an attempt needs: no Store call, and no retry.</summary>
public sealed class StoreBudgetRefusedException(BudgetDecision decision)
    : Exception($"The budget refused a unit; retry after {decision.RetryAfter.TotalSeconds:0.0} s.")
{
    public BudgetDecision Decision { get; } = decision;
}
