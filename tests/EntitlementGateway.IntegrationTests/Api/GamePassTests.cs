using System.Net;
using EntitlementGateway.Emulator;
using EntitlementGateway.IntegrationTests.Infrastructure;
using static EntitlementGateway.IntegrationTests.Infrastructure.GatewayQueries;
using static EntitlementGateway.IntegrationTests.Infrastructure.StoreWorld;

namespace EntitlementGateway.IntegrationTests.Api;

public sealed class GamePassTests(LiveGatewayFixture fixture) : IClassFixture<LiveGatewayFixture>
{
    /// <summary>The answer as <c>active|tier,tier|servedFrom</c>.</summary>
    private static async Task<string> ReadAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await BodyAsync(response);
        return $"{body["active"]!.GetValue<bool>()}|{string.Join(',', body["tiers"]!.AsArray().Select(t => t!.GetValue<string>()))}|{body["servedFrom"]!.GetValue<string>()}";
    }

    [Fact]
    public async Task GamePass_ASubscriber_IsActiveWithTheirTier_ThroughV9_AndTheSecondAskIsACacheHit()
    {
        var user = NewUser();
        await fixture.Store.SeedAsync(user, Item("9N30KZZF4BR9"));
        await fixture.Store.SeedGamePassAsync(user, "Ultimate");
        var ucid = await fixture.Store.MintUcidAsync(user);
        var v9Before = await fixture.Store.OperationCallsAsync(StoreOperations.PublisherQuery.Name);

        using var first = await GamePassAsync(fixture.Client, ucid);
        Assert.Equal("True|Ultimate|upstream", await ReadAsync(first));
        Assert.StartsWith("\"upstream\";r=", first.Headers.GetValues("RateLimit").Single());
        Assert.Equal("\"upstream\";q=100;w=300", first.Headers.GetValues("RateLimit-Policy").Single());
        Assert.True(await fixture.Store.OperationCallsAsync(StoreOperations.PublisherQuery.Name) > v9Before);

        var calls = await fixture.Store.QueriesAsync(user);
        using var second = await GamePassAsync(fixture.Client, ucid);
        Assert.Equal("True|Ultimate|cache", await ReadAsync(second));
        Assert.Equal(calls, await fixture.Store.QueriesAsync(user));
    }

    [Fact]
    public async Task GamePass_NoSubscription_IsInactive_EvenWhenThePlayerOwnsOtherProducts()
    {
        var user = NewUser();
        await fixture.Store.SeedAsync(user, Item("9N30KZZF4BR9"), Item("CFQ7TTC0KHS0", "Expired", skuId: "", kind: "Pass", acquisition: "Recurring"));

        using var response = await GamePassAsync(fixture.Client, await fixture.Store.MintUcidAsync(user));

        Assert.Equal("False||upstream", await ReadAsync(response));
    }

    [Theory]
    [InlineData("Single")]      // what a publisher not authorised for the tier sees
    [InlineData("Conditional")]
    public async Task GamePass_ATierItemThatIsNotRecurring_IsNoSubscription(string acquisition)
    {
        var user = NewUser();
        await fixture.Store.SeedAsync(user, Item("CFQ7TTC0KHS0", skuId: "0001", kind: "Pass", acquisition: acquisition),
            Item("CFQ7TTC0K5DJ", skuId: "0001", kind: "Pass", acquisition: "Recurring"));

        using var response = await GamePassAsync(fixture.Client, await fixture.Store.MintUcidAsync(user));

        Assert.Equal("True|Essential|upstream", await ReadAsync(response));
    }

    [Fact]
    public async Task GamePass_ASingleCopyOfTheTierBesideTheRecurringOne_IsStillASubscription_FromTheStoreAndFromTheCache()
    {
        // A code redeemed is a Single copy, and the entitlement answer would show it (a direct purchase ranks first); the
        // Recurring copy of the same product still proves the subscription.
        var user = NewUser();
        await fixture.Store.SeedAsync(user, Item("CFQ7TTC0KHS0", skuId: "0001", kind: "Pass", acquisition: "Single"),
            Item("CFQ7TTC0KHS0", skuId: "0001", kind: "Pass", acquisition: "Recurring"),
            Item("CFQ7TTC0K5DJ", skuId: "0001", kind: "Pass", acquisition: "Recurring", start: DateTimeOffset.UtcNow.AddDays(1)));
        var ucid = await fixture.Store.MintUcidAsync(user);

        using var first = await GamePassAsync(fixture.Client, ucid);
        using var second = await GamePassAsync(fixture.Client, ucid);

        // Essential starts tomorrow: not a subscription yet.
        Assert.Equal("True|Ultimate|upstream", await ReadAsync(first));
        Assert.Equal("True|Ultimate|cache", await ReadAsync(second));
    }

    [Fact]
    public async Task GamePass_SeveralTiersShown_AreMappedToTheirNamesInTheConfiguredOrder()
    {
        var user = NewUser();
        await fixture.Store.SeedGamePassAsync(user, "Essential", "PC", "Ultimate");

        using var response = await GamePassAsync(fixture.Client, await fixture.Store.MintUcidAsync(user));

        // GamePass:Tiers lists Ultimate, Premium, Essential, PC, Starter.
        Assert.Equal("True|Ultimate,Essential,PC|upstream", await ReadAsync(response));
    }

    [Fact]
    public async Task GamePass_WithAnXboxAuthorization_AnswersForTheTokensPlayer()
    {
        var user = NewUser();
        await fixture.Store.SeedGamePassAsync(user, "Premium");

        using var response = await GamePassAsync(fixture.Client, xbox: await fixture.Store.MintXboxTokenAsync(user));

        Assert.Equal("True|Premium|upstream", await ReadAsync(response));
    }

    [Fact]
    public async Task GamePass_WithoutCredentials_Is400NamingTheField()
    {
        using var response = await GamePassAsync(fixture.Client);

        var problem = await AssertProblemAsync(response, HttpStatusCode.BadRequest, "invalid_request");
        Assert.NotNull(problem["errors"]!["userCollectionsId"]);
    }
}
