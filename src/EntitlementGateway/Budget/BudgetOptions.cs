using System.ComponentModel.DataAnnotations;

namespace EntitlementGateway.Budget;

/// <summary>Settings of the per-user upstream budget (section <c>Budget</c>).</summary>
public sealed class BudgetOptions
{
    public const string Section = "Budget";

    /// <summary>Upstream calls allowed per user in any rolling window (the Store's limit is 100).</summary>
    [Range(1, 100_000)]
    public int Limit { get; set; } = 100;

    /// <summary>Length of the rolling window in seconds (the Store's is 300).</summary>
    [Range(1, 86_400)]
    public int WindowSeconds { get; set; } = 300;

    public TimeSpan Window => TimeSpan.FromSeconds(WindowSeconds);
}
