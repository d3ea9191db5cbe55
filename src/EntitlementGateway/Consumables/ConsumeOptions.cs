using EntitlementGateway.Infrastructure;
using Microsoft.Extensions.Options;

namespace EntitlementGateway.Consumables;

/// <summary>The consume ledger (section <c>Consume</c>): how long outcomes are kept, and how claims on a trackingId behave.</summary>
public sealed class ConsumeOptions
{
    public const string Section = "Consume";

    /// <summary>How long a trackingId's outcome is kept and replayed (Redis, or memory); a game retries within this.</summary>
    public int RetentionDays { get; set; } = 30;

    /// <summary>How long a request owns a trackingId while it calls the Store; past it (its replica died) another request
    /// takes the trackingId over and resends it, which the Store treats as a confirmation. Above Resilience:TotalTimeoutSeconds.</summary>
    public int PendingLeaseSeconds { get; set; } = 30;

    /// <summary>How long a request for a trackingId another request is consuming waits for that outcome before answering
    /// 409 consume_in_progress with Retry-After.</summary>
    public int WaitForPendingSeconds { get; set; } = 15;

    /// <summary>How long after a trackingId's first sending the Store's 409 naming it, on a resend, is still taken as that
    /// first consume being applied (409 consume_in_progress, not recorded). Past it the 409 is final (409 tracking_id_reused,
    /// recorded): no consume takes that long to apply, so the Store holds the trackingId for other values, and resends
    /// that each spend a budget unit would otherwise go on for ever.</summary>
    public int InProgressConflictSeconds { get; set; } = 60;

    /// <summary>Without Redis: the most trackingIds the in-memory ledger keeps (oldest finished ones go first).</summary>
    public int MemoryMaxEntries { get; set; } = 100_000;

    /// <summary>The largest quantity one consume may remove.</summary>
    public int MaxQuantity { get; set; } = 1_000_000;

    public TimeSpan Retention => TimeSpan.FromDays(RetentionDays);
    public TimeSpan PendingLease => TimeSpan.FromSeconds(PendingLeaseSeconds);
    public TimeSpan InProgressConflict => TimeSpan.FromSeconds(InProgressConflictSeconds);
}

/// <summary>The consume settings, and the lease against the Store call it must outlast: a lease that ends while its
/// owner's call can still run lets another request take the trackingId over and send the consume again meanwhile.</summary>
public sealed class ConsumeOptionsValidator(IOptions<Store.Resilience.ResilienceOptions> resilience) : IValidateOptions<ConsumeOptions>
{
    public ValidateOptionsResult Validate(string? name, ConsumeOptions o) => new OptionsErrors(ConsumeOptions.Section)
        .Range(nameof(o.RetentionDays), o.RetentionDays, 1, 365)
        .Range(nameof(o.PendingLeaseSeconds), o.PendingLeaseSeconds, 5, 3600)
        .Require(o.PendingLeaseSeconds > resilience.Value.TotalTimeoutSeconds, FormattableString.Invariant(
            $"Consume:PendingLeaseSeconds ({o.PendingLeaseSeconds}) must be above Resilience:TotalTimeoutSeconds ({resilience.Value.TotalTimeoutSeconds}): a lease that ends while its call can still run lets another request send the consume again meanwhile."))
        .Range(nameof(o.WaitForPendingSeconds), o.WaitForPendingSeconds, 0, 300)
        .Range(nameof(o.InProgressConflictSeconds), o.InProgressConflictSeconds, 1, 3600)
        .Range(nameof(o.MemoryMaxEntries), o.MemoryMaxEntries, 100, 10_000_000)
        .Range(nameof(o.MaxQuantity), o.MaxQuantity, 1, int.MaxValue)
        .Result;
}
