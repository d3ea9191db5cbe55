using EntitlementGateway.Infrastructure.Redis;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace EntitlementGateway.Consumables;

/// <summary>
/// The ledger shared by every replica: one hash per trackingId (<c>eg:consume:v1:{trackingId}</c>; fields state,
/// fp, owner, until, outcome, since: the first claim's Redis time in ms), changed only by Lua scripts that read Redis's own clock, so a claim is one atomic round
/// trip however many replicas race for it. Every call is bounded by Redis:OperationTimeoutMs; a failure is
/// <see cref="ConsumeLedgerUnavailableException"/> (no consume is attempted without the ledger). Uses only
/// StackExchange.Redis API that 2.x keeps (ScriptEvaluateAsync).
/// </summary>
public sealed class RedisConsumeLedger(RedisConnection connection, IOptions<ConsumeOptions> options, IOptions<RedisOptions> redis) : IConsumeLedger
{
    private const string Prefix = "eg:consume:v1:";

    // ARGV: fp, owner, lease ms, retention ms. A pending claim past its lease, or an unknown one, is owned anew (and said
    // so: the Store may have seen that trackingId already).
    private const string Claim = """
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        local state = redis.call('HGET', KEYS[1], 'state')
        if not state then
          redis.call('HSET', KEYS[1], 'state', 'pending', 'fp', ARGV[1], 'owner', ARGV[2], 'until', now + tonumber(ARGV[3]), 'since', now)
          redis.call('PEXPIRE', KEYS[1], ARGV[4])
          return {'claimed'}
        end
        if redis.call('HGET', KEYS[1], 'fp') ~= ARGV[1] then return {'reused'} end
        if state == 'recorded' then return {'recorded', redis.call('HGET', KEYS[1], 'outcome')} end
        if state == 'pending' and tonumber(redis.call('HGET', KEYS[1], 'until')) > now then return {'pending'} end
        redis.call('HSET', KEYS[1], 'state', 'pending', 'owner', ARGV[2], 'until', now + tonumber(ARGV[3]))
        redis.call('PEXPIRE', KEYS[1], ARGV[4])
        local since = redis.call('HGET', KEYS[1], 'since')
        if state == 'pending' then return {'takenover', since} end
        return {'resumed', since}
        """;

    // ARGV: fp, outcome, retention ms. A recorded outcome is never replaced (a taken-over call learnt the same one).
    private const string Complete = """
        if redis.call('HGET', KEYS[1], 'state') == 'recorded' then return 0 end
        redis.call('HSET', KEYS[1], 'state', 'recorded', 'fp', ARGV[1], 'outcome', ARGV[2])
        redis.call('HDEL', KEYS[1], 'owner', 'until')
        redis.call('PEXPIRE', KEYS[1], ARGV[3])
        return 1
        """;

    // ARGV: owner. Only the owner's own pending claim becomes unknown.
    private const string Release = """
        if redis.call('HGET', KEYS[1], 'state') == 'pending' and redis.call('HGET', KEYS[1], 'owner') == ARGV[1] then
          redis.call('HSET', KEYS[1], 'state', 'unknown')
          redis.call('HDEL', KEYS[1], 'owner', 'until')
          return 1
        end
        return 0
        """;

    // ARGV: owner. Only the owner's own pending claim goes.
    private const string Forget = """
        if redis.call('HGET', KEYS[1], 'state') == 'pending' and redis.call('HGET', KEYS[1], 'owner') == ARGV[1] then
          return redis.call('DEL', KEYS[1])
        end
        return 0
        """;

    public async Task<LedgerClaim> ClaimAsync(string trackingId, string fingerprint, string owner, CancellationToken cancellationToken)
    {
        var o = options.Value;
        var reply = (RedisResult[])(await EvaluateAsync(Claim, trackingId,
            [fingerprint, owner, (long)o.PendingLease.TotalMilliseconds, (long)o.Retention.TotalMilliseconds], cancellationToken))!;
        return (string?)reply[0] switch
        {
            "claimed" => new LedgerClaim(LedgerState.Claimed),
            "takenover" => new LedgerClaim(LedgerState.TakenOver, FirstClaimedAt: FirstClaimedAt(reply)),
            "resumed" => new LedgerClaim(LedgerState.Resumed, FirstClaimedAt: FirstClaimedAt(reply)),
            "pending" => new LedgerClaim(LedgerState.Pending),
            "recorded" => new LedgerClaim(LedgerState.Recorded, (string?)reply[1]),
            _ => new LedgerClaim(LedgerState.Reused),
        };
    }

    /// <summary>The first claim's instant from a claim's reply; null for an entry written before it was kept.</summary>
    internal static DateTimeOffset? FirstClaimedAt(RedisResult[] reply) =>
        reply.Length > 1 && !reply[1].IsNull && long.TryParse((string?)reply[1], System.Globalization.NumberStyles.None,
            System.Globalization.CultureInfo.InvariantCulture, out var ms) && ms <= DateTimeOffset.MaxValue.ToUnixTimeMilliseconds()
            ? DateTimeOffset.FromUnixTimeMilliseconds(ms)
            : null;

    public Task CompleteAsync(string trackingId, string fingerprint, string outcome, CancellationToken cancellationToken) =>
        EvaluateAsync(Complete, trackingId, [fingerprint, outcome, (long)options.Value.Retention.TotalMilliseconds], cancellationToken);

    public Task ReleaseAsync(string trackingId, string owner, CancellationToken cancellationToken) =>
        EvaluateAsync(Release, trackingId, [owner], cancellationToken);

    public Task ForgetAsync(string trackingId, string owner, CancellationToken cancellationToken) =>
        EvaluateAsync(Forget, trackingId, [owner], cancellationToken);

    private async Task<RedisResult> EvaluateAsync(string script, string trackingId, RedisValue[] values, CancellationToken cancellationToken)
    {
        try
        {
            var call = Task.Run(async () =>
            {
                var multiplexer = await connection.GetAsync();
                return await multiplexer.GetDatabase().ScriptEvaluateAsync(script, [(RedisKey)(Prefix + "{" + trackingId + "}")], values);
            }, CancellationToken.None);
            return await call.WaitAsync(redis.Value.OperationTimeout, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            throw new ConsumeLedgerUnavailableException(ex);
        }
    }
}
