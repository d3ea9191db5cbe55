using System.Diagnostics;
using EntitlementGateway.Budget;
using EntitlementGateway.IntegrationTests.Infrastructure;
using StackExchange.Redis;

namespace EntitlementGateway.IntegrationTests.Budget;

/// <summary>The sliding-window log against a real redis-server. Short windows (limit 5 per 2 s) keep it quick.</summary>
[Collection(RedisCollection.Name)]
public sealed class RedisUserBudgetTests(RedisServerFixture redis) : IAsyncLifetime
{
    private const int Limit = 5;
    private const int WindowSeconds = 2;
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(WindowSeconds);
    /// <summary>Rounding to Redis's milliseconds and the two clocks read around a call; the bounds come from the clock.</summary>
    private static readonly TimeSpan Slack = TimeSpan.FromMilliseconds(50);
    private readonly string _user = "user-" + Guid.NewGuid().ToString("N");
    private BudgetReplica _replica = null!;
    private RedisAdmin _admin = null!;

    private RedisUserBudget Budget => _replica.Budget;

    public async Task InitializeAsync()
    {
        _replica = new BudgetReplica(redis.ConnectionString, Limit, WindowSeconds);
        _admin = await RedisAdmin.ConnectAsync(redis.AdminConnectionString);
        await _replica.Budget.WarmUpAsync(); // connect + SCRIPT LOAD before the behaviour under test
    }

    public async Task DisposeAsync()
    {
        await _replica.DisposeAsync();
        await _admin.DisposeAsync();
    }

    [Fact]
    public async Task TryAcquire_AdmitsExactlyLimit_ThenDeniesWithRetryAfterUpToTheWindow()
    {
        var firstFrom = DateTimeOffset.UtcNow;
        for (var i = 0; i < Limit; i++)
        {
            var decision = await Budget.TryAcquireAsync(_user);
            Assert.True(decision.Allowed, $"call {i + 1} should be admitted");
            Assert.Equal(Limit - i - 1, decision.Remaining);
            Assert.NotNull(decision.Lease);
            Assert.Equal(TimeSpan.Zero, decision.RetryAfter);
        }

        var denied = await Budget.TryAcquireAsync(_user);
        var deniedTo = DateTimeOffset.UtcNow;

        Assert.False(denied.Allowed);
        Assert.Equal(0, denied.Remaining);
        Assert.Null(denied.Lease);
        // The first unit leaves a window after it went in; bounds from the clock, not from how fast the machine ran.
        Assert.InRange(denied.RetryAfter, Window - (deniedTo - firstFrom) - Slack, Window);
    }

    [Fact]
    public async Task TryAcquire_WhenDenied_RetryAfterIsWhenTheOldestEntryLeavesTheWindow_AndThenExactlyOneUnitFrees()
    {
        var first = Stopwatch.StartNew();
        Assert.True((await Budget.TryAcquireAsync(_user)).Allowed);
        var firstTo = first.Elapsed;
        await Task.Delay(800);
        var secondFrom = first.Elapsed;
        Assert.True((await Budget.TryAcquireAsync(_user)).Allowed);
        var secondTo = first.Elapsed;
        for (var i = 2; i < Limit; i++)
        {
            Assert.True((await Budget.TryAcquireAsync(_user)).Allowed);
        }

        var deniedFrom = first.Elapsed;
        var denied = await Budget.TryAcquireAsync(_user);
        var deniedTo = first.Elapsed;
        Assert.False(denied.Allowed);
        Assert.InRange(denied.RetryAfter, Window - deniedTo - Slack, Window - (deniedFrom - firstTo) + Slack);
        Assert.Equal(denied.RetryAfter, denied.ResetAfter);

        await Task.Delay(denied.RetryAfter + TimeSpan.FromMilliseconds(20));

        Assert.True((await Budget.TryAcquireAsync(_user)).Allowed);
        var askedFrom = first.Elapsed;
        var again = await Budget.TryAcquireAsync(_user);
        var askedTo = first.Elapsed;
        Assert.False(again.Allowed);
        // The second entry is the next to leave: it went in between secondFrom and secondTo. Bounds from the clock, not
        // from how fast this machine ran the loop (a fixed range failed on a loaded machine).
        Assert.InRange(again.RetryAfter, Window - (askedTo - secondFrom) - Slack, Window - (askedFrom - secondTo) + Slack);
    }

    [Fact]
    public async Task Acquire_GivesTheKeyATtlOfTheWindow_AndEntriesExpireWithIt()
    {
        Assert.True((await Budget.TryAcquireAsync(_user)).Allowed);
        var (log, _) = BudgetKeys.For(_user);

        var ttl = await _admin.Database.KeyTimeToLiveAsync(log);
        Assert.NotNull(ttl);
        Assert.InRange(ttl.Value, TimeSpan.FromMilliseconds(1), Window);
        Assert.Equal(1, (await Budget.GetAsync(_user)).Used);

        await Task.Delay(Window + TimeSpan.FromMilliseconds(100));

        Assert.False(await _admin.Database.KeyExistsAsync(log));
        var snapshot = await Budget.GetAsync(_user);
        Assert.Equal(0, snapshot.Used);
        Assert.Equal(Limit, snapshot.Remaining);
        Assert.Null(snapshot.OldestEntry);
    }

    [Fact]
    public async Task Keys_AreHashTaggedPerUser_SoBothLiveInOneClusterSlot()
    {
        var (log, blocked) = BudgetKeys.For(_user);
        Assert.Equal($"eg:budget:{{{_user}}}", log);
        Assert.Equal(log + ":blocked", blocked);

        await Budget.TryAcquireAsync(_user);
        await Budget.BlockUntilAsync(_user, DateTimeOffset.UtcNow.AddSeconds(1));

        Assert.Equal(RedisType.SortedSet, await _admin.Database.KeyTypeAsync(log));
        Assert.Equal(RedisType.String, await _admin.Database.KeyTypeAsync(blocked));
    }

    [Fact]
    public async Task Refund_GivesExactlyThatUnitBack()
    {
        var leases = new List<string>();
        for (var i = 0; i < Limit; i++)
        {
            leases.Add((await Budget.TryAcquireAsync(_user)).Lease!);
        }

        Assert.False((await Budget.TryAcquireAsync(_user)).Allowed);

        await Budget.RefundAsync(_user, leases[2]);
        await Budget.RefundAsync(_user, leases[2]); // twice: still one unit
        await Budget.RefundAsync(_user, "no-such-lease");

        Assert.Equal(Limit - 1, (await Budget.GetAsync(_user)).Used);
        Assert.True((await Budget.TryAcquireAsync(_user)).Allowed);
        Assert.False((await Budget.TryAcquireAsync(_user)).Allowed);
    }

    [Fact]
    public async Task BlockUntil_DeniesUntilThen_WithThatRetryAfter_AndKeepsTheLaterInstant()
    {
        var until = DateTimeOffset.UtcNow.AddMilliseconds(1200);
        await Budget.BlockUntilAsync(_user, until);
        await Budget.BlockUntilAsync(_user, DateTimeOffset.UtcNow.AddMilliseconds(300)); // earlier: ignored

        var deniedFrom = DateTimeOffset.UtcNow;
        var denied = await Budget.TryAcquireAsync(_user);
        var deniedTo = DateTimeOffset.UtcNow;
        Assert.False(denied.Allowed);
        Assert.Equal(0, denied.Remaining);
        Assert.InRange(denied.RetryAfter, until - deniedTo - Slack, until - deniedFrom + Slack);

        var snapshot = await Budget.GetAsync(_user);
        Assert.NotNull(snapshot.BlockedUntil);
        Assert.InRange(snapshot.BlockedUntil.Value, until.AddMilliseconds(-100), until.AddMilliseconds(100));
        Assert.Equal(0, snapshot.Used);

        var (_, blocked) = BudgetKeys.For(_user);
        var ttlFrom = DateTimeOffset.UtcNow;
        var ttl = await _admin.Database.KeyTimeToLiveAsync(blocked);
        var ttlTo = DateTimeOffset.UtcNow;
        Assert.InRange(ttl!.Value, until - ttlTo - Slack, until - ttlFrom + Slack);

        await Task.Delay(until - DateTimeOffset.UtcNow + TimeSpan.FromMilliseconds(50));

        Assert.True((await Budget.TryAcquireAsync(_user)).Allowed);
        Assert.Null((await Budget.GetAsync(_user)).BlockedUntil);
    }

    [Fact]
    public async Task BlockUntil_WhenAlsoFull_RetryAfterIsTheLaterOfBlockAndWindow()
    {
        for (var i = 0; i < Limit; i++)
        {
            await Budget.TryAcquireAsync(_user);
        }

        var until = DateTimeOffset.UtcNow.AddSeconds(5);
        await Budget.BlockUntilAsync(_user, until);

        var deniedFrom = DateTimeOffset.UtcNow;
        var denied = await Budget.TryAcquireAsync(_user);
        var deniedTo = DateTimeOffset.UtcNow;
        Assert.InRange(denied.RetryAfter, until - deniedTo - Slack, until - deniedFrom + Slack);
        Assert.InRange(denied.ResetAfter, TimeSpan.FromMilliseconds(1), Window);
    }

    [Fact]
    public async Task BlockUntil_InThePast_DoesNothing()
    {
        await Budget.BlockUntilAsync(_user, DateTimeOffset.UtcNow.AddSeconds(-1));

        Assert.True((await Budget.TryAcquireAsync(_user)).Allowed);
        Assert.False(await _admin.Database.KeyExistsAsync(BudgetKeys.For(_user).Blocked));
    }

    [Fact]
    public async Task Decision_IsExactlyOneRoundTrip_OneEvalshaAndNoOtherClientCommand()
    {
        await Budget.WarmUpAsync(); // connect + SCRIPT LOAD happen once, before measuring
        const int decisions = 20;
        var before = await _admin.CommandCallsAsync();

        var allowed = 0;
        for (var i = 0; i < decisions; i++)
        {
            allowed += (await Budget.TryAcquireAsync(_user)).Allowed ? 1 : 0;
        }

        var delta = RedisAdmin.Delta(before, await _admin.CommandCallsAsync());

        // INFO is this measurement itself; everything else is either EVALSHA or a command the script ran inside it.
        string[] insideScript = ["time", "zremrangebyscore", "zcard", "zrange", "get", "zadd", "pexpire"];
        Assert.Equal(decisions, delta["evalsha"]);
        Assert.Equal(Limit, allowed);
        Assert.Equal(allowed, delta["zadd"]);
        Assert.Equal(decisions, delta["zremrangebyscore"]);
        Assert.Empty(delta.Keys.Except(insideScript.Append("evalsha").Append("info")));
    }

    [Fact]
    public async Task ScriptsFlushedFromRedis_AreLoadedAgainTransparently()
    {
        Assert.True((await Budget.TryAcquireAsync(_user)).Allowed);
        await _admin.FlushScriptsAsync();

        Assert.True((await Budget.TryAcquireAsync(_user)).Allowed);
        Assert.Equal(2, (await Budget.GetAsync(_user)).Used);
    }

    [Fact]
    public async Task Connects_ByHostName()
    {
        await using var byName = new BudgetReplica(redis.ConnectionStringByHostName, Limit, WindowSeconds);

        Assert.True((await byName.Budget.TryAcquireAsync(_user)).Allowed);
        Assert.Equal(1, (await Budget.GetAsync(_user)).Used);
    }

    [Fact]
    public async Task ResetAndUnblock_OnRedis_ClearTheSharedLogAndBlock_ForEveryReplica()
    {
        await using var other = new BudgetReplica(redis.ConnectionString, Limit, WindowSeconds);
        for (var i = 0; i < Limit; i++) Assert.True((await Budget.TryAcquireAsync(_user)).Allowed);
        await Budget.BlockUntilAsync(_user, DateTimeOffset.UtcNow.AddMinutes(5));

        await other.Budget.UnblockAsync(_user);
        var unblocked = await Budget.GetAsync(_user);
        Assert.Null(unblocked.BlockedUntil);
        Assert.Equal(Limit, unblocked.Used); // lifting a block keeps the units

        await other.Budget.ResetAsync(_user);
        Assert.Equal(0, (await Budget.GetAsync(_user)).Used);
        Assert.True((await Budget.TryAcquireAsync(_user)).Allowed);
    }
}
