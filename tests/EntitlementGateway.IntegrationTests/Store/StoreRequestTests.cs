using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using EntitlementGateway.IntegrationTests.Infrastructure;
using static EntitlementGateway.IntegrationTests.Infrastructure.GatewayQueries;
using static EntitlementGateway.IntegrationTests.Infrastructure.StoreWorld;

namespace EntitlementGateway.IntegrationTests.Store;

/// <summary>What the gateway asks the Store, read from the requests it sent: filters, sandbox, and how many pages it follows.</summary>
public sealed class StoreRequestTests(LiveGatewayFixture fixture) : IClassFixture<LiveGatewayFixture>
{
    private static readonly object[] TwoProducts = [new { productId = "9N30KZZF4BR9" }, new { productId = "9MXL21XPWWWK" }];

    private static Task<HttpResponseMessage> QueryAsync(HttpClient client, string ucid, string[]? productTypes = null) =>
        GatewayQueries.QueryAsync(client, ucid, TwoProducts, productTypes: productTypes);

    [Fact]
    public async Task Query_ProductTypes_FilterTheStoresAnswer_AndAreNotSentAsEntitlementFilters()
    {
        var recorder = new StoreRequestRecorder();
        await using var gateway = recorder.Attach(fixture.Gateway);
        using var client = gateway.CreateClient();
        var user = GatewayQueries.NewUser();
        await fixture.Store.SeedAsync(user, Item("9N30KZZF4BR9", kind: "Durable"), Item("9MXL21XPWWWK", kind: "Game"));

        using var response = await QueryAsync(client, await fixture.Store.MintUcidAsync(user), ["game"]);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var entitlements = (await response.Content.ReadFromJsonAsync<JsonObject>())!["entitlements"]!.AsArray();
        Assert.Equal(["9MXL21XPWWWK"], entitlements.Select(e => e!["productId"]!.GetValue<string>()));
        var sent = Assert.Single(recorder.Requests).Body;
        Assert.False(sent.ContainsKey("entitlementFilters"));
    }

    [Fact]
    public async Task Query_WithoutProductTypes_SendsNoEntitlementFiltersAndNoSandbox()
    {
        var recorder = new StoreRequestRecorder();
        await using var gateway = recorder.Attach(fixture.Gateway);
        using var client = gateway.CreateClient();

        using var response = await QueryAsync(client, await fixture.Store.MintUcidAsync(GatewayQueries.NewUser()));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var sent = Assert.Single(recorder.Requests).Body;
        Assert.False(sent.ContainsKey("entitlementFilters"));
        Assert.False(sent.ContainsKey("sbx"));
    }

    [Fact]
    public async Task Query_StoreSandbox_IsSentAsSbxOnEveryPage()
    {
        var recorder = new StoreRequestRecorder();
        await using var sandboxed = GatewayApplication.Live(fixture.Emulator, new Dictionary<string, string?> { ["Store:Sandbox"] = "XDKS.1" });
        await using var gateway = recorder.Attach(sandboxed);
        using var client = gateway.CreateClient();
        var user = GatewayQueries.NewUser();
        // Pages of three (the fixture's emulator): four items make at least two pages.
        await fixture.Store.SeedAsync(user, Item("9N30KZZF4BR9", skuId: "0010"), Item("9N30KZZF4BR9", skuId: "0011"),
            Item("9N30KZZF4BR9", skuId: "0012"), Item("9MXL21XPWWWK", kind: "Game"));

        using var response = await QueryAsync(client, await fixture.Store.MintUcidAsync(user));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(recorder.Requests.Count >= 2, $"expected several pages, saw {recorder.Requests.Count} requests");
        Assert.All(recorder.Requests, r => Assert.Equal("XDKS.1", r.Body["sbx"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Query_LongerThanStoreMaxPages_Answers502_AfterSpendingExactlyMaxPagesUnits()
    {
        await using var gateway = GatewayApplication.Live(fixture.Emulator, new Dictionary<string, string?> { ["Store:MaxPages"] = "2" });
        using var client = gateway.CreateClient();
        var user = GatewayQueries.NewUser();
        // Pages of three: nine items need at least three pages, one more than the gateway may follow.
        await fixture.Store.SeedAsync(user, Enumerable.Range(10, 9).Select(i => Item("9N30KZZF4BR9", skuId: $"00{i}")).ToArray());

        using var response = await QueryAsync(client, await fixture.Store.MintUcidAsync(user));

        await AssertProblemAsync(response, HttpStatusCode.BadGateway, "upstream_error");
        Assert.Equal(2, await fixture.Store.QueriesAsync(user));
        Assert.Equal(2, await GatewayQueries.UnitsUsedAsync(gateway, user));
    }
}
