using System.Net;
using System.Text.Json.Nodes;
using EntitlementGateway.Emulator;
using EntitlementGateway.IntegrationTests.Infrastructure;
using static EntitlementGateway.IntegrationTests.Infrastructure.GatewayQueries;
using static EntitlementGateway.IntegrationTests.Infrastructure.StoreWorld;

namespace EntitlementGateway.IntegrationTests.Entitlements;

/// <summary>A gateway whose query goes through Store:QueryApi=V8 (the default) or V9, over an emulator with small pages.</summary>
public class QueryApiV8Fixture : LiveGatewayFixture
{
    public virtual string Api => "V8";
    public string Operation => Api == "V9" ? StoreOperations.PublisherQuery.Name : StoreOperations.B2bLicensePreview.Name;
    protected override IReadOnlyDictionary<string, string?> Overrides => new Dictionary<string, string?>
    {
        ["Store:QueryApi"] = Api,
        ["Store:Sandbox"] = "XDKS.1",
    };
}

public sealed class QueryApiV9Fixture : QueryApiV8Fixture
{
    public override string Api => "V9";
}

/// <summary>One suite, run against both Collections APIs: the same collection gives the same answer through either.</summary>
public abstract class QueryApiSuite<TFixture>(TFixture fixture) where TFixture : QueryApiV8Fixture
{
    private static readonly string[] Asked = ["9N30KZZF4BR9", "9MXL21XPWWWK", "9PLRFWZWWF91", "9NBUNDLED001", "9NFUTURE0001"];

    private async Task<(string User, string Ucid)> PlayerWithCollectionAsync()
    {
        var user = NewUser();
        await fixture.Store.SeedAsync(user,
            Item("9N30KZZF4BR9"),
            Item("9N30KZZF4BR9", "Revoked"),
            Item("9MXL21XPWWWK", kind: "Game"),
            Item("9MXL21XPWWWK", kind: "Game", acquisition: "Recurring"),
            Item("9PLRFWZWWF91", "Expired"),
            Item("9NBUNDLED001", satisfiedBy: ["9N30KZZF4BR9"]),
            Item("9NFUTURE0001", start: DateTimeOffset.UtcNow.AddDays(2)),
            Item("9NOTASKED001"));
        return (user, await fixture.Store.MintUcidAsync(user));
    }

    private static async Task<string[]> ProductIdsAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await BodyAsync(response))["entitlements"]!.AsArray().Select(e => e!["productId"]!.GetValue<string>() + "/" + e["acquisitionType"]!.GetValue<string>()).ToArray();
    }

    [Fact]
    public async Task Query_ACollectionWithDuplicatesAndStatuses_GivesTheSameFilteredAnswerThroughEitherApi()
    {
        var (_, ucid) = await PlayerWithCollectionAsync();
        var before = await fixture.Store.OperationCallsAsync(fixture.Operation);

        using var response = await QueryAsync(fixture.Client, ucid, Products(Asked));

        Assert.Equal(["9MXL21XPWWWK/Single", "9N30KZZF4BR9/Single", "9NBUNDLED001/Single"], await ProductIdsAsync(response));
        Assert.True(await fixture.Store.OperationCallsAsync(fixture.Operation) > before, $"the query should have gone through {fixture.Operation}");
    }

    [Fact]
    public async Task Query_ProductTypes_AreAppliedTheSameWayThroughEitherApi()
    {
        var (_, ucid) = await PlayerWithCollectionAsync();

        using var response = await QueryAsync(fixture.Client, ucid, Products(Asked), productTypes: ["Game"]);

        Assert.Equal(["9MXL21XPWWWK/Single"], await ProductIdsAsync(response));
    }

    [Fact]
    public async Task Query_MoreThan100Products_Is400BeforeAnyStoreCall_AndSpendsNoBudget()
    {
        var (user, ucid) = await PlayerWithCollectionAsync();
        var ids = Enumerable.Range(0, 101).Select(i => $"9N30KZZF{i:D4}").ToArray();

        using var response = await QueryAsync(fixture.Client, ucid, Products(ids));

        await AssertProblemAsync(response, HttpStatusCode.BadRequest, "invalid_request");
        Assert.Equal(0, await fixture.Store.QueriesAsync(user));
        Assert.Equal(0, await UnitsUsedAsync(fixture.Gateway, user));
    }

    [Fact]
    public async Task Query_SendsWhatTheApiVersionDocuments()
    {
        var (user, ucid) = await PlayerWithCollectionAsync();
        using var response = await QueryAsync(fixture.Client, ucid, Products(Asked), productTypes: ["Durable"]);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        var record = (await fixture.Store.RequestsAsync()).Last(r => r!["body"]!.GetValue<string>().Contains(ucid, StringComparison.Ordinal))!;
        var body = JsonNode.Parse(record["body"]!.GetValue<string>())!.AsObject();
        Assert.EndsWith(fixture.Operation == StoreOperations.PublisherQuery.Name ? StoreOperations.PublisherQuery.Path : StoreOperations.B2bLicensePreview.Path,
            record["path"]!.GetValue<string>());
        Assert.Equal("XDKS.1", body["sbx"]!.GetValue<string>());
        if (fixture.Api == "V9")
        {
            Assert.Equal(200, body["maxPageSize"]!.GetValue<int>());
            Assert.Null(body["entitlementFilters"]);
            Assert.Null(body["market"]);
            Assert.Null(body["expandSatisfyingItems"]);
        }
        else
        {
            Assert.Equal(100, body["maxPageSize"]!.GetValue<int>());
            Assert.Equal("neutral", body["market"]!.GetValue<string>());
            // Product types are the gateway's own filter on v8 too: the optional entitlementFilters is not sent.
            Assert.Null(body["entitlementFilters"]);
        }
        Assert.Equal("b2b", body["beneficiaries"]![0]!["identitytype"]!.GetValue<string>());
        Assert.True(await UnitsUsedAsync(fixture.Gateway, user) >= 1);
    }
}

public sealed class QueryApiV8Tests(QueryApiV8Fixture fixture) : QueryApiSuite<QueryApiV8Fixture>(fixture), IClassFixture<QueryApiV8Fixture>;

public sealed class QueryApiV9Tests(QueryApiV9Fixture fixture) : QueryApiSuite<QueryApiV9Fixture>(fixture), IClassFixture<QueryApiV9Fixture>;
