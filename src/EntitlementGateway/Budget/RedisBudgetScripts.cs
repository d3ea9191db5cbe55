namespace EntitlementGateway.Budget;

/// <summary>
/// The Lua scripts of <see cref="RedisUserBudget"/>. Times are Redis <c>TIME</c> in microseconds, so every replica
/// judges the window by one clock; numbers are passed to <c>redis.call</c> as numbers (never concatenated: Lua's
/// <c>tostring</c> keeps 14 digits, a µs timestamp has 16).
/// </summary>
internal static class RedisBudgetScripts
{
    /// <summary>
    /// KEYS[1] log ZSET, KEYS[2] blocked-until; ARGV[1] limit, ARGV[2] window µs, ARGV[3] unique member.
    /// Returns {allowed 0|1, remaining, retryAfterMs, resetAfterMs, member|nil}.
    /// An entry at t counts while t &gt; now − window (same rule as the in-memory budget).
    /// </summary>
    public const string Acquire = """
        redis.replicate_commands()
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
        local limit = tonumber(ARGV[1])
        local window = tonumber(ARGV[2])
        redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
        local used = redis.call('ZCARD', KEYS[1])
        local reset = 0
        if used > 0 then
          local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
          reset = tonumber(oldest[2]) + window - now
        end
        local blocked = tonumber(redis.call('GET', KEYS[2]) or 0) - now
        if used >= limit or blocked > 0 then
          local retry = 0
          if used >= limit then retry = reset end
          if blocked > retry then retry = blocked end
          return {0, 0, math.ceil(retry / 1000), math.ceil(reset / 1000), false}
        end
        redis.call('ZADD', KEYS[1], now, ARGV[3])
        redis.call('PEXPIRE', KEYS[1], math.ceil(window / 1000))
        if used == 0 then reset = window end
        return {1, limit - used - 1, 0, math.ceil(reset / 1000), ARGV[3]}
        """;

    /// <summary>
    /// KEYS[1] blocked-until; ARGV[1] block duration µs, relative to Redis time so gateway clocks need not agree with
    /// Redis. Keeps the later of the stored and the new instant. Returns 1 when it moved the instant, else 0.
    /// </summary>
    public const string Block = """
        redis.replicate_commands()
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
        local untilUs = now + tonumber(ARGV[1])
        local existing = tonumber(redis.call('GET', KEYS[1]) or 0)
        if existing >= untilUs then return 0 end
        redis.call('SET', KEYS[1], untilUs, 'PX', math.ceil((untilUs - now) / 1000))
        return 1
        """;

    /// <summary>
    /// Read-only. KEYS[1] log, KEYS[2] blocked-until; ARGV[1] window µs.
    /// Returns {used, oldestAgeUs | -1, blockedForUs | -1}: ages relative to Redis now, turned into instants by the caller.
    /// </summary>
    public const string Get = """
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
        local from = now - tonumber(ARGV[1]) + 1
        local used = redis.call('ZCOUNT', KEYS[1], from, '+inf')
        local oldest = -1
        if used > 0 then
          local o = redis.call('ZRANGEBYSCORE', KEYS[1], from, '+inf', 'WITHSCORES', 'LIMIT', 0, 1)
          oldest = now - tonumber(o[2])
        end
        local blocked = tonumber(redis.call('GET', KEYS[2]) or 0) - now
        if blocked <= 0 then blocked = -1 end
        return {used, oldest, blocked}
        """;
}
