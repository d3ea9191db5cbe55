using Microsoft.Extensions.Options;

namespace EntitlementGateway.Store.Resilience;

/// <summary>How the gateway survives a slow or failing Store (section <c>Resilience</c>), for the Collections query.</summary>
public sealed class ResilienceOptions
{
    public const string Section = "Resilience";

    /// <summary>Upper bound of one Store call including every retry and backoff, in seconds.</summary>
    public double TotalTimeoutSeconds { get; set; } = 10;

    /// <summary>Upper bound of one attempt, in seconds; must not exceed <see cref="TotalTimeoutSeconds"/>.</summary>
    public double AttemptTimeoutSeconds { get; set; } = 3;

    /// <summary>Retries after the first attempt for transient failures (5xx, 408, timeouts, connection failures); 0 turns retries off.</summary>
    public int MaxRetries { get; set; } = 2;

    /// <summary>First backoff delay; later ones grow exponentially, with jitter.</summary>
    public int BaseDelayMs { get; set; } = 200;

    /// <summary>Share of failed attempts in the sampling window that opens the circuit.</summary>
    public double CircuitFailureRatio { get; set; } = 0.5;

    /// <summary>Attempts the sampling window must hold before the circuit may open.</summary>
    public int CircuitMinimumThroughput { get; set; } = 20;

    /// <summary>The circuit breaker's sampling window, in seconds.</summary>
    public double CircuitSamplingSeconds { get; set; } = 30;

    /// <summary>How long the circuit stays open before one trial call, in seconds.</summary>
    public double CircuitBreakSeconds { get; set; } = 15;

    public TimeSpan TotalTimeout => TimeSpan.FromSeconds(TotalTimeoutSeconds);
    public TimeSpan AttemptTimeout => TimeSpan.FromSeconds(AttemptTimeoutSeconds);
}

/// <summary>Start-up checks that name the key at fault (the bounds are Polly's own where it has them).</summary>
public sealed class ResilienceOptionsValidator : IValidateOptions<ResilienceOptions>
{
    public ValidateOptionsResult Validate(string? name, ResilienceOptions o)
    {
        var errors = new List<string>();
        if (!(o.TotalTimeoutSeconds is >= 0.01 and <= 300))
            errors.Add("Resilience:TotalTimeoutSeconds must be between 0.01 and 300.");
        if (!(o.AttemptTimeoutSeconds is >= 0.01 and <= 300))
            errors.Add("Resilience:AttemptTimeoutSeconds must be between 0.01 and 300.");
        else if (o.AttemptTimeoutSeconds > o.TotalTimeoutSeconds)
            errors.Add("Resilience:AttemptTimeoutSeconds must not exceed Resilience:TotalTimeoutSeconds.");
        if (o.MaxRetries is < 0 or > 10) errors.Add("Resilience:MaxRetries must be between 0 and 10.");
        if (o.BaseDelayMs is < 0 or > 60_000) errors.Add("Resilience:BaseDelayMs must be between 0 and 60000.");
        if (!(o.CircuitFailureRatio is > 0 and <= 1)) errors.Add("Resilience:CircuitFailureRatio must be above 0 and at most 1.");
        if (o.CircuitMinimumThroughput < 2) errors.Add("Resilience:CircuitMinimumThroughput must be at least 2.");
        if (!(o.CircuitSamplingSeconds is >= 0.5 and <= 3600)) errors.Add("Resilience:CircuitSamplingSeconds must be between 0.5 and 3600.");
        if (!(o.CircuitBreakSeconds is >= 0.5 and <= 3600)) errors.Add("Resilience:CircuitBreakSeconds must be between 0.5 and 3600.");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
