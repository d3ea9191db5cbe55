namespace EntitlementGateway.Budget;

/// <summary>
/// The budget store could not answer in time (Redis down, unreachable, slow or refusing).
/// One type for every cause so the caller applies a single policy (Budget:WhenRedisUnavailable: fail closed or open).
/// A timed-out acquire may still have taken a unit in Redis; that only ever errs on the side of admitting fewer calls.
/// </summary>
public sealed class BudgetUnavailableException : Exception
{
    public BudgetUnavailableException()
    {
    }

    public BudgetUnavailableException(string message)
        : base(message)
    {
    }

    public BudgetUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>
    /// Redis answered, but this one player's key cannot serve (it holds a value of another type): Redis is not down, so
    /// other players' calls still go to it.
    /// </summary>
    public bool OnlyThisKey { get; init; }
}
