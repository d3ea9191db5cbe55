using System.Text.Json.Serialization;

namespace EntitlementGateway.Emulator;

/// <summary>How an injected failure shows itself to the caller.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<FaultMode>))]
public enum FaultMode
{
    /// <summary>Answer with <see cref="FaultSettings.FailureStatus"/> (and <c>Retry-After</c> for 429/503).</summary>
    Status,

    /// <summary>Abort the connection without a response.</summary>
    Drop,

    /// <summary>Wait <see cref="FaultSettings.LatencyMs"/> (forever when 0) or until the caller gives up.</summary>
    Hang,
}

/// <summary>Latency and fault injection for the query and renew endpoints (<c>PUT /emulator/faults</c>).</summary>
public sealed class FaultSettings
{
    /// <summary>Extra latency for every query/renew call; in <see cref="FaultMode.Hang"/> also how long a hang lasts.</summary>
    public int LatencyMs { get; set; }

    /// <summary>Fail exactly the next N calls (deterministic, for tests).</summary>
    public int FailNext { get; set; }

    /// <summary>Probability in [0, 1] that any other call fails.</summary>
    public double FailureRate { get; set; }

    /// <summary>Status of a <see cref="FaultMode.Status"/> failure.</summary>
    public int FailureStatus { get; set; } = 500;

    /// <summary><c>Retry-After</c> sent with a 429 or 503 failure.</summary>
    public int RetryAfterSeconds { get; set; } = 5;

    /// <summary>How a failure shows itself.</summary>
    public FaultMode Mode { get; set; } = FaultMode.Status;

    /// <summary>A copy, so callers never share a mutable instance with the live state.</summary>
    public FaultSettings Clone() => (FaultSettings)MemberwiseClone();

    internal string? Validate()
    {
        if (LatencyMs < 0) return "latencyMs must be >= 0.";
        if (FailNext < 0) return "failNext must be >= 0.";
        if (FailureRate is < 0 or > 1 || double.IsNaN(FailureRate)) return "failureRate must be within [0, 1].";
        if (FailureStatus is < 400 or > 599) return "failureStatus must be a 4xx or 5xx status.";
        if (RetryAfterSeconds < 0) return "retryAfterSeconds must be >= 0.";
        return null;
    }
}
