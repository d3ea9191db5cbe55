using EntitlementGateway.Infrastructure;
using Microsoft.Extensions.Options;

namespace EntitlementGateway.Store.Replicas;

/// <summary>
/// How replicas share their Store health for the ops console (section <c>ReplicaHealth</c>). Only with Redis: each
/// replica writes its snapshot every <see cref="PublishIntervalMs"/>, kept for <see cref="TtlIntervals"/> intervals.
/// </summary>
public sealed class ReplicaHealthOptions
{
    public const string Section = "ReplicaHealth";

    /// <summary>A snapshot lives this many intervals: a replica that stops writing vanishes after it.</summary>
    public const int TtlIntervals = 3;

    /// <summary>How often this replica writes its snapshot to Redis.</summary>
    public int PublishIntervalMs { get; set; } = 5_000;

    /// <summary>The replica's name in health reports; empty: the host name (the pod's name in Kubernetes).</summary>
    public string? Name { get; set; }

    public TimeSpan PublishInterval => TimeSpan.FromMilliseconds(PublishIntervalMs);

    public TimeSpan Ttl => PublishInterval * TtlIntervals;

    public string ReplicaName => string.IsNullOrWhiteSpace(Name) ? Environment.MachineName : Name.Trim();
}

internal sealed class ReplicaHealthOptionsValidator : IValidateOptions<ReplicaHealthOptions>
{
    public ValidateOptionsResult Validate(string? name, ReplicaHealthOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new OptionsErrors(ReplicaHealthOptions.Section)
            .Range(nameof(options.PublishIntervalMs), options.PublishIntervalMs, 100, 300_000)
            .Require(string.IsNullOrEmpty(options.Name) || options.Name.Trim().Length is > 0 and <= 128 && !options.Name.Any(char.IsControl),
                $"{ReplicaHealthOptions.Section}:{nameof(options.Name)} must be 1 to 128 characters on one line.")
            .Result;
    }
}
