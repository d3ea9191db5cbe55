using Microsoft.Extensions.Options;

namespace EntitlementGateway.Entitlements.Caching;

/// <summary>The result cache (section <c>Cache</c>): L1 in memory, L2 in Redis when <c>Redis:ConnectionString</c> is set.</summary>
public sealed class CacheOptions
{
    public const string Section = "Cache";

    /// <summary>Off: every query goes to the Store (no cache, no single-flight, no stale answers).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>How long an answer is served from the cache without asking the Store (<c>hh:mm:ss</c>).</summary>
    public TimeSpan Ttl { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How old an answer may be and still stand in for a failure or an exhausted budget (<c>hh:mm:ss</c>).</summary>
    public TimeSpan MaxStale { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>Most entries kept in memory per replica (L1); the least recently added go first.</summary>
    public int MaxEntries { get; set; } = 100_000;

    /// <summary>Also keep answers in Redis (L2), shared by replicas, when Redis is configured.</summary>
    public bool UseRedis { get; set; } = true;
}

public sealed class CacheOptionsValidator : IValidateOptions<CacheOptions>
{
    public ValidateOptionsResult Validate(string? name, CacheOptions o)
    {
        var errors = new List<string>();
        if (o.Ttl <= TimeSpan.Zero || o.Ttl > TimeSpan.FromHours(24))
            errors.Add($"Cache:Ttl must be above 0 and at most 24:00:00 (hh:mm:ss); it is {o.Ttl}.");
        if (o.MaxStale < o.Ttl || o.MaxStale > TimeSpan.FromHours(24))
            errors.Add($"Cache:MaxStale must be at least Cache:Ttl and at most 24:00:00 (hh:mm:ss); it is {o.MaxStale}.");
        if (o.MaxEntries is < 1 or > 10_000_000) errors.Add("Cache:MaxEntries must be between 1 and 10000000.");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
