using EntitlementGateway.Infrastructure;
using EntitlementGateway.Infrastructure.Redis;
using Microsoft.Extensions.Options;

namespace EntitlementGateway.Budget;

/// <summary>Settings of the per-user upstream budget (section <c>Budget</c>).</summary>
public sealed class BudgetOptions
{
    public const string Section = "Budget";

    /// <summary>Upstream calls allowed per user in any rolling window (the Store's limit is 100).</summary>
    public int Limit { get; set; } = 100;

    /// <summary>Length of the rolling window in seconds (the Store's is 300).</summary>
    public int WindowSeconds { get; set; } = 300;

    /// <summary>
    /// Each unit counts this much longer than the window. The Store counts a call when it arrives, a little after the
    /// gateway took the unit; the margin must cover that delay so the Store's own window never sees more than Limit.
    /// </summary>
    public int SafetyMarginMs { get; set; } = 2_000;

    /// <summary>What to do while Redis does not answer: Reject (503 budget_unavailable) or LocalShare.</summary>
    public RedisUnavailablePolicy WhenRedisUnavailable { get; set; } = RedisUnavailablePolicy.Reject;

    /// <summary>How many gateway replicas share the budget; LocalShare allows floor(Limit / Replicas) per replica.</summary>
    public int Replicas { get; set; } = 1;

    /// <summary>
    /// Most players the in-memory budget (one replica, or LocalShare while Redis is down) tracks at once. Past it a new
    /// player is refused for a second (429) until idle ones are swept: forgetting a log could let the Store's limit be met.
    /// </summary>
    public int MaxKeysInMemory { get; set; } = 200_000;

    public TimeSpan Window => TimeSpan.FromSeconds(WindowSeconds);

    /// <summary>The window units are counted over: the Store's window plus the safety margin.</summary>
    public TimeSpan CountingWindow => Window + TimeSpan.FromMilliseconds(SafetyMarginMs);

    /// <summary>A replica's own share while Redis is unavailable (LocalShare), or always when there is no Redis.</summary>
    public int LocalShare => Limit / Replicas;

    /// <summary>These settings with the limit cut to one replica's share (at least 1; the whole limit for one replica).</summary>
    internal BudgetOptions ShareOfOneReplica() => new()
    {
        Limit = Math.Max(1, LocalShare),
        WindowSeconds = WindowSeconds,
        SafetyMarginMs = SafetyMarginMs,
        MaxKeysInMemory = MaxKeysInMemory,
    };
}

public enum RedisUnavailablePolicy
{
    /// <summary>Answer 503 budget_unavailable: never a Store call that Redis did not count.</summary>
    Reject,
    /// <summary>Each replica allows floor(Limit / Replicas) per window from memory until Redis answers again.</summary>
    LocalShare,
}

/// <summary>Start-up checks of the Budget section.</summary>
public sealed class BudgetOptionsValidator(IOptions<RedisOptions> redis) : IValidateOptions<BudgetOptions>
{
    public ValidateOptionsResult Validate(string? name, BudgetOptions o) => new OptionsErrors(BudgetOptions.Section)
        .Range(nameof(o.Limit), o.Limit, 1, 100_000)
        .Range(nameof(o.WindowSeconds), o.WindowSeconds, 1, 86_400)
        .Range(nameof(o.SafetyMarginMs), o.SafetyMarginMs, 0, 60_000)
        .Range(nameof(o.Replicas), o.Replicas, 1, 10_000)
        .Range(nameof(o.MaxKeysInMemory), o.MaxKeysInMemory, 1, 10_000_000)
        .Require(Enum.IsDefined(o.WhenRedisUnavailable), "Budget:WhenRedisUnavailable must be Reject or LocalShare.")
        .Require(o.WhenRedisUnavailable != RedisUnavailablePolicy.LocalShare || o.Replicas <= o.Limit,
            "Budget:Replicas must not exceed Budget:Limit with Budget:WhenRedisUnavailable=LocalShare (each replica's share would be 0).")
        .Require(redis.Value.Configured || o.Replicas <= o.Limit,
            "Budget:Replicas must not exceed Budget:Limit without Redis:ConnectionString (each replica keeps its own share of the limit, which would be 0).")
        .Result;
}
