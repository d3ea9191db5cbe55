using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using EntitlementGateway.Infrastructure.Redis;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace EntitlementGateway.Clawback;

/// <summary>
/// The clawback state in Redis, shared by every replica. Event keys share one hash tag, so each multi-key step is one
/// atomic script even on a cluster; order keys stand alone (one per order, with their own expiry). Every call is
/// bounded in time; a failure throws, and the worker retries the message after its visibility timeout.
/// Uses only StackExchange.Redis API that 2.x keeps (ScriptEvaluateAsync, StringSetAsync, StringGetAsync, CreateBatch).
/// </summary>
public sealed class RedisClawbackStore(RedisConnection redis, IOptions<RedisOptions> redisOptions) : IClawbackStore
{
    private const string Prefix = "eg:{clawback}:";
    private const string OrderPrefix = "eg:clawback-order:";
    private static readonly RedisKey Outbox = Prefix + "outbox";
    private static readonly RedisKey Index = Prefix + "index";

    // KEYS: claim, event. ARGV: owner, lease ms. 2 = done, 1 = claimed, 0 = busy.
    private const string ClaimScript = """
        if redis.call('EXISTS', KEYS[2]) == 1 then return 2 end
        local holder = redis.call('GET', KEYS[1])
        if holder and holder ~= ARGV[1] then return 0 end
        redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
        return 1
        """;

    // KEYS: claim, event, outbox, index, player index. ARGV: owner, record, retention s, due ms ('' = none), id, received ms, oldest kept ms.
    private const string CommitScript = """
        if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
        redis.call('SET', KEYS[2], ARGV[2], 'EX', ARGV[3])
        if ARGV[4] ~= '' then redis.call('ZADD', KEYS[3], ARGV[4], ARGV[5]) end
        redis.call('ZADD', KEYS[4], ARGV[6], ARGV[5])
        redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', ARGV[7])
        if KEYS[5] ~= KEYS[4] then
          redis.call('ZADD', KEYS[5], ARGV[6], ARGV[5])
          redis.call('ZREMRANGEBYSCORE', KEYS[5], '-inf', ARGV[7])
          redis.call('EXPIRE', KEYS[5], ARGV[3])
        end
        if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
        return 1
        """;

    // KEYS: delivery lease, outbox, event. ARGV: id, owner, now ms, lease ms. The record, or nil.
    private const string LeaseScript = """
        local due = redis.call('ZSCORE', KEYS[2], ARGV[1])
        if not due or tonumber(due) > tonumber(ARGV[3]) then return false end
        if not redis.call('SET', KEYS[1], ARGV[2], 'NX', 'PX', ARGV[4]) then return false end
        return redis.call('GET', KEYS[3])
        """;

    // KEYS: delivery lease, outbox, event. ARGV: id, owner, record, next due ms ('' = out of the outbox).
    private const string FinishScript = """
        local ttl = redis.call('TTL', KEYS[3])
        if ttl > 0 then redis.call('SET', KEYS[3], ARGV[3], 'EX', ttl) end
        if ARGV[4] == '' then redis.call('ZREM', KEYS[2], ARGV[1]) else redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1]) end
        if redis.call('GET', KEYS[1]) == ARGV[2] then redis.call('DEL', KEYS[1]) end
        return 1
        """;

    private TimeSpan Timeout => TimeSpan.FromMilliseconds(Math.Max(redisOptions.Value.OperationTimeoutMs, 1000));

    public async Task RecordOrdersAsync(string playerKey, IReadOnlyCollection<string> orderIds, TimeSpan retention, CancellationToken cancellationToken)
    {
        var db = await DatabaseAsync(cancellationToken);
        var batch = db.CreateBatch();
        var writes = orderIds.Select(id => batch.StringSetAsync(OrderPrefix + Hash(id), playerKey, retention)).ToArray();
        batch.Execute();
        // The query path waits only its own short Redis timeout for this.
        await Task.WhenAll(writes).WaitAsync(redisOptions.Value.OperationTimeout, cancellationToken);
    }

    public async Task<string?> FindOrderOwnerAsync(string orderId, CancellationToken cancellationToken)
    {
        var db = await DatabaseAsync(cancellationToken);
        return (string?)await db.StringGetAsync(OrderPrefix + Hash(orderId)).WaitAsync(Timeout, cancellationToken);
    }

    public async Task<EventClaim> ClaimEventAsync(string eventId, string owner, TimeSpan lease, CancellationToken cancellationToken)
    {
        var result = (int)await EvalAsync(ClaimScript, [Key("claim:", eventId), Key("event:", eventId)],
            [owner, (long)lease.TotalMilliseconds], cancellationToken);
        return result switch { 2 => EventClaim.Done, 1 => EventClaim.Claimed, _ => EventClaim.Busy };
    }

    public async Task ReleaseEventAsync(string eventId, string owner, CancellationToken cancellationToken) =>
        await EvalAsync("if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end return 1",
            [Key("claim:", eventId)], [owner], cancellationToken);

    public async Task<bool> CommitEventAsync(ClawbackEventRecord record, string owner, TimeSpan retention, CancellationToken cancellationToken)
    {
        var received = record.ReceivedAt.ToUnixTimeMilliseconds();
        var due = record.Delivery == WebhookDelivery.Pending ? (record.NextAttemptAt ?? record.ReceivedAt).ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture) : "";
        var result = (int)await EvalAsync(CommitScript,
            [Key("claim:", record.EventId), Key("event:", record.EventId), Outbox, Index, record.Player is { } p ? PlayerIndex(p) : Index],
            [owner, Serialize(record), (long)retention.TotalSeconds, due, record.EventId, received, received - (long)retention.TotalMilliseconds],
            cancellationToken);
        return result == 1;
    }

    public async Task<IReadOnlyList<string>> DueDeliveriesAsync(DateTimeOffset now, int max, CancellationToken cancellationToken)
    {
        var db = await DatabaseAsync(cancellationToken);
        var due = await db.SortedSetRangeByScoreAsync(Outbox, double.NegativeInfinity, now.ToUnixTimeMilliseconds(), take: max).WaitAsync(Timeout, cancellationToken);
        return due.Select(v => (string)v!).ToList();
    }

    public async Task<ClawbackEventRecord?> LeaseDeliveryAsync(string eventId, string owner, DateTimeOffset now, TimeSpan lease, CancellationToken cancellationToken)
    {
        var result = await EvalAsync(LeaseScript, [Key("delivering:", eventId), Outbox, Key("event:", eventId)],
            [eventId, owner, now.ToUnixTimeMilliseconds(), (long)lease.TotalMilliseconds], cancellationToken);
        return result.IsNull ? null : Deserialize((byte[])result!);
    }

    public async Task FinishDeliveryAsync(ClawbackEventRecord record, string owner, CancellationToken cancellationToken)
    {
        var next = record.Delivery == WebhookDelivery.Pending && record.NextAttemptAt is { } at
            ? at.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture) : "";
        await EvalAsync(FinishScript, [Key("delivering:", record.EventId), Outbox, Key("event:", record.EventId)],
            [record.EventId, owner, Serialize(record), next], cancellationToken);
    }

    public async Task<IReadOnlyList<ClawbackEventRecord>> ListAsync(string? player, int limit, CancellationToken cancellationToken)
    {
        var db = await DatabaseAsync(cancellationToken);
        var ids = await db.SortedSetRangeByRankAsync(player is null ? Index : PlayerIndex(player), 0, limit - 1, Order.Descending)
            .WaitAsync(Timeout, cancellationToken);
        if (ids.Length == 0) return [];
        var values = await db.StringGetAsync(ids.Select(id => Key("event:", (string)id!)).ToArray()).WaitAsync(Timeout, cancellationToken);
        return values.Where(v => !v.IsNullOrEmpty).Select(v => Deserialize((byte[])v!)).OfType<ClawbackEventRecord>().ToList();
    }

    private async Task<RedisResult> EvalAsync(string script, RedisKey[] keys, RedisValue[] values, CancellationToken cancellationToken)
    {
        var db = await DatabaseAsync(cancellationToken);
        return await db.ScriptEvaluateAsync(script, keys, values).WaitAsync(Timeout, cancellationToken);
    }

    private async Task<IDatabase> DatabaseAsync(CancellationToken cancellationToken) =>
        (await redis.GetAsync().WaitAsync(Timeout, cancellationToken)).GetDatabase();

    // Event ids and player keys come from outside (the queue, client claims): hashed, so keys stay short and brace-free.
    private static RedisKey Key(string kind, string id) => Prefix + kind + Hash(id);
    private static RedisKey PlayerIndex(string player) => Prefix + "player:" + Hash(player);
    private static string Hash(string value) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(value)));

    private static byte[] Serialize(ClawbackEventRecord record) => JsonSerializer.SerializeToUtf8Bytes(record, ClawbackRecordJsonContext.Default.ClawbackEventRecord);
    private static ClawbackEventRecord? Deserialize(byte[] bytes) => JsonSerializer.Deserialize(bytes, ClawbackRecordJsonContext.Default.ClawbackEventRecord);
}
