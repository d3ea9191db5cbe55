using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using EntitlementGateway.Entitlements;
using EntitlementGateway.Store;
using EntitlementGateway.Store.Resilience;
using EntitlementGateway.UnitTests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace EntitlementGateway.UnitTests.Entitlements;

/// <summary>The request bodies one query's pages send: which API, whose credential, which sandbox, which page.</summary>
public class CollectionsPagesTests
{
    private static readonly ManualTimeProvider Time = new();
    private static readonly ProductSelector[] Products = [new("9N30KZZF4BR9", "0010"), new("9MXL21XPWWWK", null)];

    [Fact]
    public async Task AV8Query_SendsTheUcidAsItsBeneficiary_TheSandbox_AndWhetherToExpandSatisfyingItems()
    {
        var ucid = Ucid();
        var (path, body) = await FirstPageAsync(new EntitlementQuery(ucid, "user-player-1", Products, null, IncludeSatisfyingItems: false), sandbox: "XDKS.1");

        Assert.Equal("/v8.0/collections/b2bLicensePreview", path);
        var beneficiary = Assert.Single(body["beneficiaries"]!.AsArray())!;
        Assert.Equal("b2b", (string?)beneficiary["identitytype"]);
        Assert.Equal(ucid.Value, (string?)beneficiary["identityValue"]);
        Assert.Equal("", (string?)beneficiary["localTicketReference"]);
        Assert.Equal("XDKS.1", (string?)body["sbx"]);
        Assert.False((bool)body["expandSatisfyingItems"]!);
        Assert.Equal("""[{"productId":"9N30KZZF4BR9","skuId":"0010"},{"productId":"9MXL21XPWWWK"}]""", body["productSkuIds"]!.ToJsonString());
        Assert.Null(body["continuationToken"]);
    }

    [Fact]
    public async Task AV8Query_ExpandsSatisfyingItems_WhenAskedTo()
    {
        var (_, body) = await FirstPageAsync(new EntitlementQuery(Ucid(), "user-player-1", Products, null, IncludeSatisfyingItems: true), sandbox: null);

        Assert.True((bool)body["expandSatisfyingItems"]!);
        Assert.Null(body["sbx"]);
    }

    [Fact]
    public async Task AV9Query_GoesToPublisherQuery_WithTheSameBeneficiaryAndSandbox_AndNoV8OnlyFields()
    {
        var ucid = Ucid();
        var (path, body) = await FirstPageAsync(new EntitlementQuery(ucid, "user-player-1", Products, null, IncludeSatisfyingItems: true, CollectionsApi.V9),
            sandbox: "XDKS.1");

        Assert.Equal("/v9.0/collections/publisherQuery", path);
        Assert.Equal(ucid.Value, (string?)body["beneficiaries"]![0]!["identityValue"]);
        Assert.Equal("XDKS.1", (string?)body["sbx"]);
        Assert.Null(body["expandSatisfyingItems"]);
        Assert.Null(body["market"]);
        Assert.Equal(2, body["productSkuIds"]!.AsArray().Count);
    }

    [Theory]
    [InlineData(CollectionsApi.V8)]
    [InlineData(CollectionsApi.V9)]
    public async Task AQueryWithTheXboxAuthorization_SendsNeitherBeneficiaryNorSandbox(CollectionsApi api)
    {
        var xbox = XboxAuthorization.TryParse("XBL3.0 x=123;token", Convert.ToBase64String(new byte[16]), out _, out _)!;
        var (_, body) = await FirstPageAsync(new EntitlementQuery(null, "xbl-123", Products, null, IncludeSatisfyingItems: true, api, xbox), sandbox: "XDKS.1");

        Assert.Null(body["beneficiaries"]);
        Assert.Null(body["sbx"]);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    public async Task ABlankSandbox_IsNotSent(string sandbox)
    {
        var (_, body) = await FirstPageAsync(new EntitlementQuery(Ucid(), "user-player-1", Products, null, IncludeSatisfyingItems: true), sandbox);

        Assert.Null(body["sbx"]);
    }

    [Theory]
    [InlineData(CollectionsApi.V8)]
    [InlineData(CollectionsApi.V9)]
    public async Task TheNextPage_CopiesTheRequest_WithTheContinuationToken(CollectionsApi api)
    {
        var store = new Recorder();
        var pages = Pages(new EntitlementQuery(Ucid(), "user-player-1", Products, null, IncludeSatisfyingItems: true, api), "XDKS.1", store);

        Assert.True((await pages.NextAsync(CancellationToken.None)).Succeeded);
        pages.ContinueWith("page-2");
        Assert.True((await pages.NextAsync(CancellationToken.None)).Succeeded);
        pages.ContinueWith("page-3");
        await pages.NextAsync(CancellationToken.None);

        Assert.Equal(3, store.Bodies.Count);
        Assert.Equal(store.Paths[0], store.Paths[1]);
        var first = JsonNode.Parse(store.Bodies[0])!.AsObject();
        var second = JsonNode.Parse(store.Bodies[1])!.AsObject();
        Assert.Equal("page-2", (string?)second["continuationToken"]);
        Assert.Equal("page-3", (string?)JsonNode.Parse(store.Bodies[2])!["continuationToken"]);
        second.Remove("continuationToken");
        Assert.True(JsonNode.DeepEquals(first, second));
    }

    private static UserCollectionsId Ucid() => UserCollectionsId.TryParse(TestUcid.Create(Time.GetUtcNow()), out _)!;

    private static async Task<(string Path, JsonObject Body)> FirstPageAsync(EntitlementQuery query, string? sandbox)
    {
        var store = new Recorder();
        var result = await Pages(query, sandbox, store).NextAsync(CancellationToken.None);
        Assert.True(result.Succeeded);
        return (store.Paths.Single(), JsonNode.Parse(store.Bodies.Single())!.AsObject());
    }

    private static CollectionsPages Pages(EntitlementQuery query, string? sandbox, Recorder store)
    {
        var options = new StoreOptions { Sandbox = sandbox, HttpVersion = "1.1" };
        var client = new CollectionsClient(new HttpClient(store), new Locator(), Options.Create(options), Time, NullLogger<CollectionsClient>.Instance);
        return CollectionsPages.For(query, options, client, new StoreCallState(query.BudgetKey, "cv"));
    }

    private sealed class Locator : IStoreLocator
    {
        public StoreMode Mode => StoreMode.Live;
        public string ClientId => TestUcid.ClientId;
        public string? TrustedCertificateThumbprint => null;

        public ValueTask<StoreConnection> GetAsync(CancellationToken cancellationToken = default) =>
            ValueTask.FromResult(new StoreConnection(new Uri("https://store.example/"), "https://login.example/tenant", TestUcid.ClientId, "secret", null, null));
    }

    /// <summary>Stands where the Store is: records each request and answers an empty page.</summary>
    private sealed class Recorder : HttpMessageHandler
    {
        public List<string> Paths { get; } = [];
        public List<string> Bodies { get; } = [];

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Paths.Add(request.RequestUri!.AbsolutePath);
            Bodies.Add(await request.Content!.ReadAsStringAsync(cancellationToken));
            return new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent("""{"items":[]}""", Encoding.UTF8, "application/json") };
        }
    }
}
