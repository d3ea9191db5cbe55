using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using EntitlementGateway.Entitlements;
using EntitlementGateway.IntegrationTests.Infrastructure;
using EntitlementGateway.Store;
using Microsoft.Extensions.DependencyInjection;
using static EntitlementGateway.IntegrationTests.Infrastructure.StoreWorld;

namespace EntitlementGateway.IntegrationTests.Store;

/// <summary>
/// How the Collections calls reach the Store, read from the emulator's audit: over HTTP/2 when the Store offers it in TLS
/// negotiation (Store:HttpVersion 2, the default) or HTTP/1.1, the body framed by Content-Length either way, and the
/// connection kept for the next calls instead of a new connection (and TLS handshake) per call.
/// </summary>
public sealed class StoreConnectionTests(LiveGatewayFixture fixture) : IClassFixture<LiveGatewayFixture>
{
    private static readonly string[] Products = Enumerable.Range(0, 7).Select(i => $"9N30KZZF{i:D4}").ToArray();

    [Fact]
    public async Task Queries_OnDefaults_CallTheStoreOverHttp2WithContentLength_AllOnOneConnection()
    {
        var calls = await TwoQueriesAsync(fixture.Client);

        Assert.All(calls, call => Assert.Equal("HTTP/2", call["protocol"]!.GetValue<string>()));
        AssertFramedAndOnOneConnection(calls);
    }

    [Fact]
    public async Task Queries_WithHttpVersion11_CallTheStoreOverHttp11WithContentLength_AllOnOneConnection()
    {
        await using var gateway = GatewayApplication.Live(fixture.Emulator, new Dictionary<string, string?> { ["Store:HttpVersion"] = "1.1" });
        using var client = gateway.CreateClient();

        var calls = await TwoQueriesAsync(client);

        Assert.All(calls, call => Assert.Equal("HTTP/1.1", call["protocol"]!.GetValue<string>()));
        AssertFramedAndOnOneConnection(calls);
    }

    [Fact]
    public async Task StoreCallObjects_AreMadeOncePerProcess_AndStillCarryTheConfiguredClient()
    {
        var services = fixture.Gateway.Services;

        // No typed client, HttpClient or query service made per Store call sequence.
        Assert.Same(services.GetRequiredService<CollectionsClient>(), services.GetRequiredService<CollectionsClient>());
        Assert.Same(services.GetRequiredService<EntitlementQueryService>(), services.GetRequiredService<EntitlementQueryService>());
        // The one instance is the configured client: calls go through the resilience handler (which spends the budget)
        // and carry the gateway's User-Agent and a GUID of their own as MS-CorrelationId.
        var calls = await TwoQueriesAsync(fixture.Client);
        Assert.All(calls, call => Assert.StartsWith("EntitlementGateway/", call["userAgent"]!.GetValue<string>(), StringComparison.Ordinal));
        Assert.All(calls, call => Assert.True(Guid.TryParse(call["msCorrelationId"]!.GetValue<string>(), out _)));
        Assert.Equal(calls.Count, calls.Select(call => call["msCorrelationId"]!.GetValue<string>()).Distinct().Count());
    }

    /// <summary>Two players' queries, one after the other, each several pages long (the fixture's pages hold three
    /// items); the Store calls they made, as the emulator received them.</summary>
    private async Task<List<JsonObject>> TwoQueriesAsync(HttpClient client)
    {
        var before = (await fixture.Store.RequestsAsync()).Count;
        var ucids = new List<string>();
        for (var i = 0; i < 2; i++)
        {
            var user = GatewayQueries.NewUser();
            await fixture.Store.SeedAsync(user, Products.Select(p => Item(p)).ToArray());
            var ucid = await fixture.Store.MintUcidAsync(user);
            ucids.Add(ucid);
            using var query = await client.PostAsJsonAsync("/v1/entitlements/query",
                new { userCollectionsId = ucid, products = Products.Select(p => new { productId = p }) });
            Assert.Equal(HttpStatusCode.OK, query.StatusCode);
        }
        var calls = (await fixture.Store.RequestsAsync()).Skip(before).Select(r => r!.AsObject())
            .Where(r => ucids.Any(u => r["body"]!.GetValue<string>().Contains(u, StringComparison.Ordinal))).ToList();
        Assert.True(calls.Count >= 6, $"two queries of three pages each: expected six calls or more, saw {calls.Count}");
        return calls;
    }

    private static void AssertFramedAndOnOneConnection(List<JsonObject> calls)
    {
        foreach (var call in calls)
        {
            Assert.Equal(Encoding.UTF8.GetByteCount(call["body"]!.GetValue<string>()), call["contentLength"]!.GetValue<long>());
            Assert.Null(call["transferEncoding"]?.GetValue<string>());
            Assert.Equal(200, call["status"]!.GetValue<int>());
        }
        Assert.Single(calls.Select(c => c["connectionId"]!.GetValue<string>()).Distinct());
    }
}
