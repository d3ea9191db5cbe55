using System.Net;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using EntitlementGateway.IntegrationTests.Infrastructure;
using static EntitlementGateway.IntegrationTests.Infrastructure.GatewayQueries;
using static EntitlementGateway.IntegrationTests.Infrastructure.StoreWorld;

namespace EntitlementGateway.IntegrationTests.Entitlements.Caching;

public sealed class CacheFixture : ConfiguredGatewayFixture
{
    // Some latency so concurrent queries really overlap the upstream call.
    protected override EntitlementGateway.Emulator.EmulatorOptions EmulatorOptions => new() { LatencyMs = 200 };
    protected override IReadOnlyDictionary<string, string?> Overrides => new Dictionary<string, string?>
    {
        ["Cache:Ttl"] = "00:01:00",
        ["ClientLimits:PermitLimit"] = "0",
    };
}

public sealed class ResultCacheTests(CacheFixture fixture) : IClassFixture<CacheFixture>
{
    private readonly StoreWorld _store = fixture.Store;

    private async Task<(string User, string Ucid)> PlayerAsync(string product = "9N30KZZF4BR9")
    {
        var user = NewUser();
        await _store.SeedAsync(user, Item(product));
        return (user, await _store.MintUcidAsync(user));
    }

    [Fact]
    public async Task Query_50ConcurrentIdenticalQueries_MakeOneUpstreamCall()
    {
        var (user, ucid) = await PlayerAsync();

        var responses = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => QueryAsync(fixture.Client, ucid)));

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        foreach (var response in responses)
            Assert.Single((await BodyAsync(response))["entitlements"]!.AsArray());
        Assert.Equal(1, await _store.QueriesAsync(user));
        Assert.Equal(1, await UnitsUsedAsync(fixture.Gateway, user));
        foreach (var response in responses) response.Dispose();
    }

    [Fact]
    public async Task Query_10SequentialQueriesWithinTheTtl_MakeOneUpstreamCall_AndHitsSpendNoBudget()
    {
        var (user, ucid) = await PlayerAsync();

        using (var first = await QueryAsync(fixture.Client, ucid))
        {
            Assert.Equal("upstream", await ServedFromAsync(first));
            Assert.StartsWith("\"upstream\";r=99;", first.Headers.GetValues("RateLimit").Single());
        }
        for (var i = 0; i < 9; i++)
        {
            using var hit = await QueryAsync(fixture.Client, ucid);
            Assert.Equal(HttpStatusCode.OK, hit.StatusCode);
            Assert.Equal("cache", await ServedFromAsync(hit));
            Assert.False(hit.Headers.Contains("RateLimit"));
            Assert.True(hit.Headers.Contains("RateLimit-Policy"));
        }

        Assert.Equal(1, await _store.QueriesAsync(user));
        Assert.Equal(1, await UnitsUsedAsync(fixture.Gateway, user));
    }

    [Fact]
    public async Task Query_TheSameQueryInAnotherOrderWithDuplicatesAndOtherCase_IsACacheHit()
    {
        var (user, ucid) = await PlayerAsync();
        object[] products = [new { productId = "9N30KZZF4BR9" }, new { productId = "9MXL21XPWWWK", skuId = "0010" }];
        object[] reordered = [new { productId = "9MXL21XPWWWK", skuId = "0010" }, new { productId = "9N30KZZF4BR9" }, new { productId = "9N30KZZF4BR9" }];

        using var first = await QueryAsync(fixture.Client, ucid, products, productTypes: ["Durable", "Game"]);
        using var second = await QueryAsync(fixture.Client, ucid, reordered, productTypes: ["game", "DURABLE", "Durable"]);

        Assert.Equal("upstream", await ServedFromAsync(first));
        Assert.Equal("cache", await ServedFromAsync(second));
        Assert.Equal(1, await _store.QueriesAsync(user));
    }

    [Fact]
    public async Task Query_AnotherPlayersIdenticalQuery_IsNeverACacheHit()
    {
        var (alice, aliceUcid) = await PlayerAsync("9N30KZZF4BR9");
        var (bob, bobUcid) = await PlayerAsync("9MXL21XPWWWK");
        object[] both = [new { productId = "9N30KZZF4BR9" }, new { productId = "9MXL21XPWWWK" }];

        using var forAlice = await QueryAsync(fixture.Client, aliceUcid, both);
        using var forBob = await QueryAsync(fixture.Client, bobUcid, both);

        Assert.Equal("upstream", await ServedFromAsync(forBob));
        var bobs = (await BodyAsync(forBob))["entitlements"]!.AsArray();
        Assert.Equal("9MXL21XPWWWK", Assert.Single(bobs)!["productId"]!.GetValue<string>());
        Assert.Equal(1, await _store.QueriesAsync(alice));
        Assert.Equal(1, await _store.QueriesAsync(bob));
    }

    [Fact]
    public async Task Query_WithCacheControlNoCache_AsksTheStoreAndSpendsBudget_AndItsAnswerReplacesTheCachedOne()
    {
        var (user, ucid) = await PlayerAsync();
        object[] both = [new { productId = "9N30KZZF4BR9" }, new { productId = "9MXL21XPWWWK" }];
        static async Task<string[]> ProductsAsync(HttpResponseMessage r) =>
            (await BodyAsync(r))["entitlements"]!.AsArray().Select(e => e!["productId"]!.GetValue<string>()).ToArray();
        using var first = await QueryAsync(fixture.Client, ucid, both);
        // The player buys the second product after the first answer was cached: a plain query still gets the old answer.
        await _store.SeedAsync(user, Item("9N30KZZF4BR9"), Item("9MXL21XPWWWK", kind: "Game"));
        using var old = await QueryAsync(fixture.Client, ucid, both);
        Assert.Equal("cache", await ServedFromAsync(old));
        Assert.Equal(["9N30KZZF4BR9"], await ProductsAsync(old));

        using var fresh = await QueryAsync(fixture.Client, ucid, both, fresh: true);
        using var hit = await QueryAsync(fixture.Client, ucid, both);

        Assert.Equal("upstream", await ServedFromAsync(fresh));
        Assert.Equal(["9MXL21XPWWWK", "9N30KZZF4BR9"], await ProductsAsync(fresh));
        Assert.Equal("cache", await ServedFromAsync(hit));
        Assert.Equal(["9MXL21XPWWWK", "9N30KZZF4BR9"], await ProductsAsync(hit));
        Assert.Equal(2, await _store.QueriesAsync(user));
        Assert.Equal(2, await UnitsUsedAsync(fixture.Gateway, user));
    }

    [Fact]
    public async Task Query_AnotherUcidOfTheSamePlayer_IsNotServedFromTheFirstUcidsAnswer()
    {
        // The Store alone can verify a UCID's signature: an answer is only reused for the UCID the Store accepted.
        var (user, ucid) = await PlayerAsync();
        var other = await _store.MintUcidAsync(user);

        using var first = await QueryAsync(fixture.Client, ucid);
        using var second = await QueryAsync(fixture.Client, other);

        Assert.Equal("upstream", await ServedFromAsync(second));
        Assert.Equal(2, await _store.QueriesAsync(user));
    }

    [Fact]
    public async Task Query_RepeatedCacheHits_SendTheSameJson_WithItsContentLength_AsTheSerializerWritesIt()
    {
        var user = NewUser();
        await _store.SeedAsync(user, Item("9N30KZZF4BR9"), Item("9MXL21XPWWWK", kind: "Game"));
        var ucid = await _store.MintUcidAsync(user);
        object[] both = [new { productId = "9N30KZZF4BR9" }, new { productId = "9MXL21XPWWWK" }];
        using (var first = await QueryAsync(fixture.Client, ucid, both)) Assert.Equal("upstream", await ServedFromAsync(first));

        var bodies = new List<byte[]>();
        for (var i = 0; i < 3; i++)
        {
            using var hit = await QueryAsync(fixture.Client, ucid, both);
            var bytes = await hit.Content.ReadAsByteArrayAsync();
            Assert.Equal(bytes.Length, hit.Content.Headers.ContentLength);
            Assert.Equal("application/json; charset=utf-8", hit.Content.Headers.ContentType!.ToString());
            bodies.Add(bytes);
        }

        Assert.All(bodies, b => Assert.Equal(bodies[0], b));
        var web = new System.Text.Json.JsonSerializerOptions(System.Text.Json.JsonSerializerDefaults.Web);
        var answer = System.Text.Json.JsonSerializer.Deserialize<EntitlementGateway.Api.EntitlementQueryResponse>(bodies[0], web)!;
        Assert.Equal("cache", answer.ServedFrom);
        Assert.Equal(2, answer.Entitlements.Count);
        Assert.Equal(System.Text.Encoding.UTF8.GetString(bodies[0]), System.Text.Json.JsonSerializer.Serialize(answer, web));
        Assert.Equal(1, await _store.QueriesAsync(user));
    }

    [Fact]
    public async Task Query_AnEntitlementThatEndsWhileItsAnswerIsCached_IsLeftOutOfTheHitsAfterItsEnd()
    {
        // Hits before the end send the whole cached answer (the same JSON each time); a hit after it must not.
        var clock = new ManualTimeProvider(DateTimeOffset.UtcNow);
        await using var gateway = fixture.Gateway.WithWebHostBuilder(b => b.ConfigureTestServices(s => s.AddSingleton<TimeProvider>(clock)));
        using var client = gateway.CreateClient();
        var user = NewUser();
        await _store.SeedAsync(user, Item("9N30KZZF4BR9", end: clock.GetUtcNow().AddSeconds(10)), Item("9MXL21XPWWWK", kind: "Game"));
        var ucid = await _store.MintUcidAsync(user);
        object[] both = [new { productId = "9N30KZZF4BR9" }, new { productId = "9MXL21XPWWWK" }];
        static async Task<string[]> ProductsAsync(HttpResponseMessage r) =>
            (await BodyAsync(r))["entitlements"]!.AsArray().Select(e => e!["productId"]!.GetValue<string>()).Order().ToArray();

        using (var first = await QueryAsync(client, ucid, both)) Assert.Equal(["9MXL21XPWWWK", "9N30KZZF4BR9"], await ProductsAsync(first));
        for (var i = 0; i < 2; i++)
        {
            using var before = await QueryAsync(client, ucid, both);
            Assert.Equal("cache", await ServedFromAsync(before));
            Assert.Equal(["9MXL21XPWWWK", "9N30KZZF4BR9"], await ProductsAsync(before));
        }

        clock.Advance(TimeSpan.FromSeconds(20));

        for (var i = 0; i < 2; i++)
        {
            using var after = await QueryAsync(client, ucid, both);
            Assert.Equal("cache", await ServedFromAsync(after));
            Assert.Equal(["9MXL21XPWWWK"], await ProductsAsync(after));
        }
        Assert.Equal(1, await _store.QueriesAsync(user));
    }
    [Fact]
    public async Task Query_APurchaseThatEndsWhileAGrantOfTheSameGameGoesOn_IsServedAsTheGrantFromTheCache()
    {
        // The answer cached holds both copies: when the preferred one ends, the other is what the player owns.
        var clock = new ManualTimeProvider(DateTimeOffset.UtcNow);
        await using var gateway = fixture.Gateway.WithWebHostBuilder(b => b.ConfigureTestServices(s => s.AddSingleton<TimeProvider>(clock)));
        using var client = gateway.CreateClient();
        var user = NewUser();
        await _store.SeedAsync(user, Item("9MXL21XPWWWK", kind: "Game", end: clock.GetUtcNow().AddSeconds(10)),
            Item("9MXL21XPWWWK", kind: "Game", acquisition: "Recurring", satisfiedBy: ["CFQ7TTC0KHS0"]));
        var ucid = await _store.MintUcidAsync(user);
        object[] game = [new { productId = "9MXL21XPWWWK" }];
        static async Task<string> AcquisitionAsync(HttpResponseMessage r) =>
            Assert.Single((await BodyAsync(r))["entitlements"]!.AsArray())!["acquisitionType"]!.GetValue<string>();

        using (var first = await QueryAsync(client, ucid, game)) Assert.Equal("Single", await AcquisitionAsync(first));
        clock.Advance(TimeSpan.FromSeconds(20));
        using var after = await QueryAsync(client, ucid, game);

        Assert.Equal("cache", await ServedFromAsync(after));
        Assert.Equal("Recurring", await AcquisitionAsync(after));
        Assert.Equal(1, await _store.QueriesAsync(user));
    }

    [Fact]
    public async Task Query_AnEntitlementThatStartsWhileItsAnswerIsCached_IsServedFromItsStart()
    {
        var clock = new ManualTimeProvider(DateTimeOffset.UtcNow);
        await using var gateway = fixture.Gateway.WithWebHostBuilder(b => b.ConfigureTestServices(s => s.AddSingleton<TimeProvider>(clock)));
        using var client = gateway.CreateClient();
        var user = NewUser();
        await _store.SeedAsync(user, Item("9MXL21XPWWWK", kind: "Game", start: clock.GetUtcNow().AddSeconds(10)));
        var ucid = await _store.MintUcidAsync(user);
        object[] game = [new { productId = "9MXL21XPWWWK" }];

        using (var before = await QueryAsync(client, ucid, game)) Assert.Empty((await BodyAsync(before))["entitlements"]!.AsArray());
        clock.Advance(TimeSpan.FromSeconds(20));
        using var after = await QueryAsync(client, ucid, game);

        Assert.Equal("cache", await ServedFromAsync(after));
        Assert.Equal("9MXL21XPWWWK", Assert.Single((await BodyAsync(after))["entitlements"]!.AsArray())!["productId"]!.GetValue<string>());
        Assert.Equal(1, await _store.QueriesAsync(user));
    }

    [Fact]
    public async Task Query_WithCacheControlNoCache_DoesNotJoinAStoreCallBegunBeforeIt()
    {
        // The emulator answers after 200 ms: the plain query's call is in flight when the player buys and asks fresh.
        var (user, ucid) = await PlayerAsync();
        object[] both = [new { productId = "9N30KZZF4BR9" }, new { productId = "9MXL21XPWWWK" }];
        var plain = QueryAsync(fixture.Client, ucid, both);
        await Task.Delay(50);
        await _store.SeedAsync(user, Item("9N30KZZF4BR9"), Item("9MXL21XPWWWK", kind: "Game"));

        using var fresh = await QueryAsync(fixture.Client, ucid, both, fresh: true);
        using var hit = await QueryAsync(fixture.Client, ucid, both);
        (await plain).Dispose();

        Assert.Equal("upstream", await ServedFromAsync(fresh));
        Assert.Equal(2, (await BodyAsync(fresh))["entitlements"]!.AsArray().Count);
        Assert.Equal(2, (await BodyAsync(hit))["entitlements"]!.AsArray().Count);
        Assert.Equal(2, await _store.QueriesAsync(user));
        Assert.Equal(2, await UnitsUsedAsync(fixture.Gateway, user));
    }
}
