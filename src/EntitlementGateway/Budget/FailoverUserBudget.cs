using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using EntitlementGateway.Infrastructure.Logging;
using EntitlementGateway.Infrastructure.Redis;

namespace EntitlementGateway.Budget;

/// <summary>
/// The Redis budget with a policy for when Redis does not answer (Budget:WhenRedisUnavailable). Reject fails fast with
/// <see cref="BudgetUnavailableException"/>; LocalShare answers from memory with floor(Limit / Replicas) per window.
/// After a failure Redis is skipped for a second, so an outage costs one timeout per second, not one per request;
/// recovery is automatic on the first call (or readiness probe) that Redis answers.
/// </summary>
public sealed partial class FailoverUserBudget : IUserBudget, IHealthCheck
{
    private readonly RedisUserBudget _redis;
    private readonly InMemoryUserBudget _local;
    private readonly BudgetOptions _options;
    private readonly ILogger<FailoverUserBudget> _logger;
    private readonly RedisBackoff _backoff;
    private int _degraded;
    private readonly TimeProvider _time;
    // When Redis last answered a readiness check (ticks of _time's timestamp); 0: not recently, or failed since.
    private long _healthyAt;

    /// <summary>
    /// How long a readiness check that found Redis answering is taken as the answer: probes cost no one anything, so
    /// unauthenticated clients calling <c>/health/ready</c> in a loop would otherwise turn each call into Redis round trips
    /// for every replica's shared Redis. Any failing budget call forgets it at once.
    /// </summary>
    internal static readonly TimeSpan HealthyFor = TimeSpan.FromSeconds(1);

    public FailoverUserBudget(RedisUserBudget redis, IOptions<BudgetOptions> options, TimeProvider time, ILogger<FailoverUserBudget> logger)
    {
        _redis = redis;
        _options = options.Value;
        _backoff = new RedisBackoff(time);
        _time = time;
        _logger = logger;
        _local = new InMemoryUserBudget(Options.Create(_options.ShareOfOneReplica()), time);
    }

    public async ValueTask<BudgetDecision> TryAcquireAsync(string key, CancellationToken cancellationToken = default)
    {
        if (!SkippingRedis())
        {
            try
            {
                var decision = await _redis.TryAcquireAsync(key, cancellationToken);
                Recovered();
                // A replica's own recent calls also count against its local share, should Redis go away next.
                if (decision.Allowed && _options.WhenRedisUnavailable == RedisUnavailablePolicy.LocalShare)
                {
                    var local = await _local.TryAcquireAsync(key, cancellationToken);
                    // One lease for both units, so a refund reaches the local log too.
                    return decision with { Lease = Lease(decision.Lease, local.Lease) };
                }
                return decision with { Lease = Lease(decision.Lease, null) };
            }
            catch (BudgetUnavailableException e)
            {
                // One player's unusable key is no reason to skip Redis for everyone.
                if (!e.OnlyThisKey) Failed();
                if (_options.WhenRedisUnavailable == RedisUnavailablePolicy.Reject) throw;
            }
        }
        if (_options.WhenRedisUnavailable == RedisUnavailablePolicy.Reject)
            throw new BudgetUnavailableException("Redis is unavailable (failing fast until the next probe).");
        var fromMemory = await _local.TryAcquireAsync(key, cancellationToken);
        return fromMemory with { Lease = fromMemory.Lease is null ? null : Lease(null, fromMemory.Lease) };
    }

    public async ValueTask RefundAsync(string key, string lease, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(lease);
        var separator = lease.IndexOf(LeaseSeparator, StringComparison.Ordinal);
        var (redisLease, localLease) = separator < 0 ? (lease, "") : (lease[..separator], lease[(separator + 1)..]);
        if (localLease.Length > 0) await _local.RefundAsync(key, localLease, cancellationToken);
        if (redisLease.Length == 0) return;
        try
        {
            await _redis.RefundAsync(key, redisLease, cancellationToken);
        }
        catch (BudgetUnavailableException)
        {
            // Not refunding only errs towards fewer Store calls.
        }
    }

    private const char LeaseSeparator = '|';

    /// <summary>The Redis unit's lease and the local unit's, either may be missing: <c>redis|local</c>.</summary>
    private static string? Lease(string? redis, string? local) =>
        redis is null && local is null ? null : (redis ?? "") + LeaseSeparator + (local ?? "");

    public async ValueTask BlockUntilAsync(string key, DateTimeOffset until, CancellationToken cancellationToken = default)
    {
        // Always locally too: a 429 must stop this replica even if Redis cannot record it.
        await _local.BlockUntilAsync(key, until, cancellationToken);
        try
        {
            await _redis.BlockUntilAsync(key, until, cancellationToken);
        }
        catch (BudgetUnavailableException)
        {
            Failed();
        }
    }

    public async ValueTask<BudgetSnapshot> GetAsync(string key, CancellationToken cancellationToken = default)
    {
        var snapshot = await _redis.GetAsync(key, cancellationToken);
        Recovered();
        return snapshot;
    }

    /// <summary>Resets the shared budget and this replica's local share; fails when Redis does not answer, so the
    /// operator knows the shared budget was not reset.</summary>
    public async ValueTask ResetAsync(string key, CancellationToken cancellationToken = default)
    {
        await _local.ResetAsync(key, cancellationToken);
        await _redis.ResetAsync(key, cancellationToken);
        Recovered();
    }

    public async ValueTask UnblockAsync(string key, CancellationToken cancellationToken = default)
    {
        await _local.UnblockAsync(key, cancellationToken);
        await _redis.UnblockAsync(key, cancellationToken);
        Recovered();
    }

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (Volatile.Read(ref _healthyAt) is var at and not 0 && _time.GetElapsedTime(at) < HealthyFor)
            return HealthCheckResult.Healthy("Redis budget answers.");
        try
        {
            await _redis.GetAsync("health-probe", cancellationToken);
            Recovered();
            Volatile.Write(ref _healthyAt, _time.GetTimestamp());
            return HealthCheckResult.Healthy("Redis budget answers.");
        }
        catch (BudgetUnavailableException)
        {
            Failed();
            // Every replica with this setting fails every budget call until it is changed: out of the load balancer, so a
            // rollout with a wrong password stops at its first pod instead of answering 503 to every player it reaches.
            if (_redis.CredentialsRefused)
                return HealthCheckResult.Unhealthy("Redis refused the gateway's credentials (the password or user in Redis:ConnectionString).");
            // Degraded, not Unhealthy: the replica keeps serving by its policy rather than leaving the load balancer.
            return HealthCheckResult.Degraded($"Redis budget unavailable; policy {_options.WhenRedisUnavailable}.");
        }
    }

    private bool SkippingRedis() => _backoff.Skipping;

    private void Failed()
    {
        Volatile.Write(ref _healthyAt, 0);
        _backoff.Failed();
        if (Interlocked.Exchange(ref _degraded, 1) == 0) LogDegraded(_logger, _options.WhenRedisUnavailable.ToString(), _options.LocalShare);
    }

    private void Recovered()
    {
        if (Interlocked.Exchange(ref _degraded, 0) == 1)
        {
            _backoff.Succeeded();
            LogRecovered(_logger);
        }
    }

    [LoggerMessage(EventId = EventIds.BudgetRedisUnavailable, EventName = nameof(EventIds.BudgetRedisUnavailable), Level = LogLevel.Error, Message = "Budget: Redis unavailable; policy {Policy} (local share {LocalShare} per window) until it answers again")]
    private static partial void LogDegraded(ILogger logger, string policy, int localShare);

    [LoggerMessage(EventId = EventIds.BudgetRedisRecovered, EventName = nameof(EventIds.BudgetRedisRecovered), Level = LogLevel.Information, Message = "Budget: Redis answers again; shared budget restored")]
    private static partial void LogRecovered(ILogger logger);
}
