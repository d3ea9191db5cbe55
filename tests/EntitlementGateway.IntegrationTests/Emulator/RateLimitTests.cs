using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using EntitlementGateway.Emulator;
using EntitlementGateway.IntegrationTests.Infrastructure;

namespace EntitlementGateway.IntegrationTests.Emulator;

/// <summary>An emulator with a limit of 3 per 300 s and a hand-moved clock.</summary>
public sealed class SmallLimitEmulatorFixture : EmulatorFixture
{
    public ManualTimeProvider Clock { get; } = new(DateTimeOffset.UtcNow);

    protected override EmulatorOptions CreateOptions() =>
        new() { RateLimit = 3, RateLimitWindowSeconds = 300, TimeProvider = Clock };
}

public sealed class RateLimitTests(SmallLimitEmulatorFixture fixture) : IClassFixture<SmallLimitEmulatorFixture>
{
    private readonly EmulatorClient _client = fixture.Client;

    private async Task<(string Token, string Ucid, string UserId)> NewUserAsync()
    {
        var userId = EmulatorClient.NewUserId();
        await _client.SeedAsync(userId, Items.Item("a", "P1"));
        return (await _client.GetTokenAsync(), await _client.MintUcidAsync(userId), userId);
    }

    [Fact]
    public async Task Query_WhenLimitReached_Returns429WithRetryAfter()
    {
        var (token, ucid, userId) = await NewUserAsync();
        var rateLimitedBefore = fixture.Server.State.RateLimitedCount;
        for (var i = 0; i < 3; i++)
        {
            using var ok = await _client.QueryAsync(token, ucid);
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
            fixture.Clock.Advance(TimeSpan.FromSeconds(10));
        }

        using var limited = await _client.QueryAsync(token, ucid);

        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        // The first call (30 s ago) leaves the 300 s window in 270 s.
        Assert.Equal(TimeSpan.FromSeconds(270), limited.Headers.RetryAfter!.Delta);
        Assert.Equal(rateLimitedBefore + 1, fixture.Server.State.RateLimitedCount);
        var stats = await _client.GetJsonAsync("emulator/stats");
        Assert.Equal(4, stats["queries"]![userId]!.GetValue<long>());
        Assert.True(stats["rateLimited"]!.GetValue<long>() >= 1);
        var calls = await _client.GetJsonAsync($"emulator/users/{userId}/calls");
        Assert.Equal(3, calls["calls"]!.AsArray().Count);
    }

    [Fact]
    public async Task Query_AfterOldestCallLeavesTheWindow_IsAdmittedAgain()
    {
        var (token, ucid, userId) = await NewUserAsync();
        for (var i = 0; i < 3; i++)
        {
            using var ok = await _client.QueryAsync(token, ucid);
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }
        fixture.Clock.Advance(TimeSpan.FromSeconds(299.999));
        using (var stillLimited = await _client.QueryAsync(token, ucid))
            Assert.Equal(HttpStatusCode.TooManyRequests, stillLimited.StatusCode);

        fixture.Clock.Advance(TimeSpan.FromMilliseconds(1));
        using var admitted = await _client.QueryAsync(token, ucid);

        Assert.Equal(HttpStatusCode.OK, admitted.StatusCode);
        Assert.Equal(4, fixture.Server.State.GetAdmittedCalls(userId).Count);
        Assert.Equal(3, fixture.Server.State.MaxCallsInAnyWindow(userId));
    }

    [Fact]
    public async Task Query_LimitIsPerUser_OtherUsersAreNotAffected()
    {
        var (token, ucidA, _) = await NewUserAsync();
        var (_, ucidB, _) = await NewUserAsync();
        for (var i = 0; i < 4; i++) (await _client.QueryAsync(token, ucidA)).Dispose();

        using var other = await _client.QueryAsync(token, ucidB);

        Assert.Equal(HttpStatusCode.OK, other.StatusCode);
    }

    [Fact]
    public async Task Query_ConcurrentBurst_AdmitsExactlyTheLimitAndAuditShowsNoWindowOverIt()
    {
        var (token, ucid, userId) = await NewUserAsync();

        var responses = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => _client.QueryAsync(token, ucid)));

        Assert.Equal(3, responses.Count(r => r.StatusCode == HttpStatusCode.OK));
        Assert.Equal(17, responses.Count(r => r.StatusCode == HttpStatusCode.TooManyRequests));
        Assert.All(responses.Where(r => r.StatusCode == HttpStatusCode.TooManyRequests), r => Assert.NotNull(r.Headers.RetryAfter));
        foreach (var r in responses) r.Dispose();
        var calls = (await _client.GetJsonAsync($"emulator/users/{userId}/calls"))["calls"]!.AsArray()
            .Select(c => DateTimeOffset.Parse(c!.GetValue<string>(), CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(3, calls.Count);
        Assert.Equal(3, fixture.Server.State.MaxCallsInAnyWindow(userId));
    }

    [Fact]
    public async Task Calls_AreIsoTimestampsWithMilliseconds()
    {
        var (token, ucid, userId) = await NewUserAsync();
        (await _client.QueryAsync(token, ucid)).Dispose();

        var call = (await _client.GetJsonAsync($"emulator/users/{userId}/calls"))["calls"]![0]!.GetValue<string>();

        Assert.Matches(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$", call);
        Assert.Equal(userId, (await _client.Http.GetFromJsonAsync<JsonObject>($"emulator/users/{userId}/calls"))!["userId"]!.GetValue<string>());
    }
}
