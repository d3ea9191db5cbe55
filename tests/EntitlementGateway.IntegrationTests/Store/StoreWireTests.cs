using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using EntitlementGateway.IntegrationTests.Infrastructure;
using static EntitlementGateway.IntegrationTests.Infrastructure.StoreWorld;

namespace EntitlementGateway.IntegrationTests.Store;

/// <summary>
/// The gateway in Live mode against the strict emulator, which refuses what the documented request header table does
/// not allow: every request the Store received is checked as the documentation lists it.
/// </summary>
public sealed partial class StoreWireTests(LiveGatewayFixture fixture) : IClassFixture<LiveGatewayFixture>
{
    /// <summary>A new player who owns <paramref name="count"/> products, with the UCID the client would send.</summary>
    private async Task<(string Ucid, string[] Products)> PlayerOwningAsync(int count)
    {
        var user = "player-" + Guid.NewGuid().ToString("N")[..10];
        var products = Enumerable.Range(0, count).Select(_ => "9N" + Guid.NewGuid().ToString("N")[..10].ToUpperInvariant()).ToArray();
        await fixture.Store.SeedAsync(user, products.Select(p => Item(p)).ToArray());
        return (await fixture.Store.MintUcidAsync(user), products);
    }

    /// <summary>The player's query (several pages: the fixture's Store pages by three) answers every product; the renewal 200.</summary>
    private async Task QueryThenRenewAsync(string ucid, string[] products)
    {
        using var query = await fixture.Client.PostAsJsonAsync("/v1/entitlements/query",
            new { userCollectionsId = ucid, products = products.Select(p => new { productId = p }) });
        Assert.Equal(HttpStatusCode.OK, query.StatusCode);
        Assert.Equal(products.Length, (await query.Content.ReadFromJsonAsync<JsonObject>())!["entitlements"]!.AsArray().Count);
        using var renew = await fixture.Client.PostAsJsonAsync("/v1/user-collections-id/renew", new { userCollectionsId = ucid });
        Assert.Equal(HttpStatusCode.OK, renew.StatusCode);
    }

    private async Task<long> ProtocolErrorsAsync() => (await fixture.Store.StatsAsync())["protocolErrors"]!.GetValue<long>();

    [Fact]
    public async Task EveryStoreRequest_QueryPagesAndRenewal_CarriesContentLengthJsonUserAgentAndMsCv_NeverChunked()
    {
        var (ucid, products) = await PlayerOwningAsync(8);
        var protocolErrorsBefore = await ProtocolErrorsAsync();
        var requestsBefore = (await fixture.Store.RequestsAsync()).Count;

        await QueryThenRenewAsync(ucid, products);

        var requests = (await fixture.Store.RequestsAsync()).Skip(requestsBefore).Select(r => r!.AsObject()).ToList();
        var pages = requests.Where(r => r["path"]!.GetValue<string>().EndsWith("/v8.0/collections/b2bLicensePreview", StringComparison.Ordinal)).ToList();
        Assert.True(pages.Count >= 3, $"pages of at most three items: expected several calls, saw {pages.Count}");
        Assert.Single(requests, r => r["path"]!.GetValue<string>().EndsWith("/v6.0/b2b/keys/renew", StringComparison.Ordinal));
        foreach (var request in requests)
        {
            var body = request["body"]!.GetValue<string>();
            Assert.Equal(Encoding.UTF8.GetByteCount(body), request["contentLength"]!.GetValue<long>());
            Assert.Null(request["transferEncoding"]?.GetValue<string>());
            Assert.Equal("application/json", request["contentType"]!.GetValue<string>());
            Assert.Matches(UserAgent(), request["userAgent"]!.GetValue<string>());
            Assert.Matches(CorrelationVector(), request["msCv"]!.GetValue<string>());
            Assert.Equal(200, request["status"]!.GetValue<int>());
            Assert.NotNull(JsonNode.Parse(body)); // the whole body arrived as JSON
        }
        // One query, one vector: its pages are numbered attempts of one base.
        var bases = pages.Select(p => p["msCv"]!.GetValue<string>()).Select(cv => cv[..cv.LastIndexOf('.')]).Distinct().ToList();
        Assert.Single(bases);
        Assert.Equal(Enumerable.Range(1, pages.Count).Select(i => $"{bases[0]}.{i}"), pages.Select(p => p["msCv"]!.GetValue<string>()));
        Assert.Equal(protocolErrorsBefore, await ProtocolErrorsAsync());
    }

    [Fact]
    public async Task QueryPagesAndRenewal_PassAFrontEndThatReadsTheHeaderTablesContentTypeWordForWord()
    {
        var (ucid, products) = await PlayerOwningAsync(5);
        var protocolErrorsBefore = await ProtocolErrorsAsync();
        await fixture.Store.SetFaultsAsync(new { literalContentType = true });
        try
        {
            await QueryThenRenewAsync(ucid, products);
            Assert.Equal(protocolErrorsBefore, await ProtocolErrorsAsync());
        }
        finally
        {
            await fixture.Store.SetFaultsAsync(new { });
        }
    }

    [Fact]
    public async Task Query_SendsTheDocumentedBodyFields_ProductSkuIdsMarketNeutralMaxPageSizeAndIdentitytype()
    {
        var user = "player-" + Guid.NewGuid().ToString("N")[..10];
        var ucid = await fixture.Store.MintUcidAsync(user);
        var before = (await fixture.Store.RequestsAsync()).Count;

        using var query = await fixture.Client.PostAsJsonAsync("/v1/entitlements/query",
            new { userCollectionsId = ucid, products = new[] { new { productId = "9N30KZZF4BR9", skuId = "0010" } }, productTypes = new[] { "Durable" } });
        Assert.Equal(HttpStatusCode.OK, query.StatusCode);

        var sent = JsonNode.Parse((await fixture.Store.RequestsAsync()).Skip(before).Single()!["body"]!.GetValue<string>())!.AsObject();
        Assert.Equal("neutral", sent["market"]!.GetValue<string>());
        Assert.Equal(100, sent["maxPageSize"]!.GetValue<int>());
        Assert.Equal("""[{"productId":"9N30KZZF4BR9","skuId":"0010"}]""", sent["productSkuIds"]!.ToJsonString());
        Assert.False(sent.ContainsKey("entitlementFilters"));
        Assert.Equal("b2b", sent["beneficiaries"]![0]!["identitytype"]!.GetValue<string>());
        Assert.Equal(ucid, sent["beneficiaries"]![0]!["identityValue"]!.GetValue<string>());
    }

    [GeneratedRegex(@"^EntitlementGateway/\d+\.\d+\.\d+")]
    private static partial Regex UserAgent();

    [GeneratedRegex(@"^[A-Za-z0-9]{22}\.\d+$")]
    private static partial Regex CorrelationVector();
}
