using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using EntitlementGateway.IntegrationTests.Infrastructure;

namespace EntitlementGateway.IntegrationTests.Emulator;

public sealed class QueryPagingTests(EmulatorFixture fixture) : IClassFixture<EmulatorFixture>
{
    private readonly EmulatorClient _client = fixture.Client;

    private async Task<(string Token, string Ucid, string UserId)> UserWithAsync(params JsonObject[] items)
    {
        var userId = EmulatorClient.NewUserId();
        await _client.SeedAsync(userId, items);
        return (await _client.GetTokenAsync(), await _client.MintUcidAsync(userId), userId);
    }

    private static async Task<JsonObject> OkJsonAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!;
    }

    private static string[] Ids(JsonObject page) => page["items"]!.AsArray().Select(i => i!["id"]!.GetValue<string>()).ToArray();

    private static string[] Statuses(JsonObject page) => page["items"]!.AsArray().Select(i => i!["status"]!.GetValue<string>()).ToArray();

    [Fact]
    public async Task Query_WithMaxPageSize2_PagesWithContinuationTokensAndRepeatsARevokedItem()
    {
        var (token, ucid, userId) = await UserWithAsync(
            Items.Item("a", "P1"), Items.Item("b", "P2"), Items.Item("c", "P3"), Items.Item("d", "P4"));
        var pages = new List<JsonObject>();
        string? continuation = null;
        do
        {
            var extra = new JsonObject { ["maxPageSize"] = 2 };
            if (continuation is not null) extra["continuationToken"] = continuation;
            using var response = await _client.QueryAsync(token, ucid, extra);
            var page = await OkJsonAsync(response);
            pages.Add(page);
            continuation = page["continuationToken"]?.GetValue<string>();
            Assert.True(pages.Count < 10, "paging did not end");
        }
        while (continuation is not null);

        // Later pages start with a Revoked copy of the previous page's last item, then new items; never more than 2.
        Assert.Equal(3, pages.Count);
        Assert.Equal(["a", "b"], Ids(pages[0]));
        Assert.Equal(["b", "c"], Ids(pages[1]));
        Assert.Equal(["Revoked", "Active"], Statuses(pages[1]));
        Assert.Equal(["c", "d"], Ids(pages[2]));
        Assert.Equal(["Revoked", "Active"], Statuses(pages[2]));
        Assert.Null(pages[2]["continuationToken"]);
        // Continuation tokens look like the Store's: a JSON string with an offset.
        Assert.NotNull(JsonNode.Parse(pages[0]["continuationToken"]!.GetValue<string>())!["offset"]);
        Assert.Equal(3, fixture.Server.State.GetAdmittedCalls(userId).Count);
    }

    [Fact]
    public async Task Query_FillsLocalTicketReferenceKeepsUnknownFieldsAndSendsMsHeaders()
    {
        var item = Items.Item("a", "P1");
        item["futureField"] = "kept";
        var (token, ucid, _) = await UserWithAsync(item);
        using var response = await _client.QueryAsync(token, ucid, localTicketReference: "ticket-77");
        var page = await OkJsonAsync(response);

        var returned = page["items"]![0]!;
        Assert.Equal("ticket-77", returned["localTicketReference"]!.GetValue<string>());
        Assert.Equal("kept", returned["futureField"]!.GetValue<string>());
        Assert.Null(page["continuationToken"]);
        Assert.True(response.Headers.Contains("MS-CorrelationId"));
        Assert.True(response.Headers.Contains("MS-RequestId"));
        Assert.True(response.Headers.Contains("MS-CV"));
    }

    [Fact]
    public async Task Query_EchoesTheCallersCorrelationId()
    {
        var (token, ucid, _) = await UserWithAsync(Items.Item("a", "P1"));
        var body = new JsonObject
        {
            ["beneficiaries"] = new JsonArray(new JsonObject { ["identitytype"] = "b2b", ["identityValue"] = ucid }),
            ["market"] = "neutral",
        };
        using var request = new HttpRequestMessage(HttpMethod.Post, EmulatorClient.QueryPath) { Content = EmulatorClient.Json(body) };
        request.Headers.Authorization = new("Bearer", token);
        request.Headers.Add("MS-CorrelationId", "corr-123");

        using var response = await _client.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("corr-123", Assert.Single(response.Headers.GetValues("MS-CorrelationId")));
    }

    [Fact]
    public async Task Query_WithProductSkuIds_ReturnsOnlyThoseProductsAndMatchingSkus()
    {
        var (token, ucid, _) = await UserWithAsync(
            Items.Item("a", "P1", skuId: "0010"), Items.Item("b", "P1", skuId: "0020"),
            Items.Item("c", "P2"), Items.Item("d", "P3"));
        var extra = new JsonObject
        {
            ["productSkuIds"] = new JsonArray(
                new JsonObject { ["productId"] = "P1", ["skuId"] = "0020" },
                new JsonObject { ["productId"] = "P3" }),
        };

        using var response = await _client.QueryAsync(token, ucid, extra);

        Assert.Equal(["b", "d"], Ids(await OkJsonAsync(response)));
    }

    [Fact]
    public async Task Query_WithEntitlementFilters_MatchesProductKindOrProductType()
    {
        var typed = Items.Item("c", "P3");
        typed.Remove("productKind");
        typed["productType"] = "Durable";
        var (token, ucid, _) = await UserWithAsync(
            Items.Item("a", "P1", kind: "Durable"), Items.Item("b", "P2", kind: "Game"), typed, Items.Item("d", "P4", kind: "Consumable"));

        using var durable = await _client.QueryAsync(token, ucid, new JsonObject { ["entitlementFilters"] = new JsonArray("*:Durable") });
        using var both = await _client.QueryAsync(token, ucid,
            new JsonObject { ["entitlementFilters"] = new JsonArray("*:Durable", "*:Game") });

        Assert.Equal(["a", "c"], Ids(await OkJsonAsync(durable)));
        Assert.Equal(["a", "b", "c"], Ids(await OkJsonAsync(both)));
    }

    [Fact]
    public async Task Query_WithContinuationTokenFromAnotherQuery_Returns400()
    {
        var (token, ucid, _) = await UserWithAsync(Items.Item("a", "P1"), Items.Item("b", "P2"), Items.Item("c", "P3"));
        using var first = await _client.QueryAsync(token, ucid, new JsonObject { ["maxPageSize"] = 1 });
        var continuation = (await OkJsonAsync(first))["continuationToken"]!.GetValue<string>();

        using var otherFilter = await _client.QueryAsync(token, ucid, new JsonObject
        {
            ["maxPageSize"] = 1,
            ["continuationToken"] = continuation,
            ["entitlementFilters"] = new JsonArray("*:Game"),
        });
        using var garbage = await _client.QueryAsync(token, ucid, new JsonObject { ["continuationToken"] = "not-a-token" });

        Assert.Equal(HttpStatusCode.BadRequest, otherFilter.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, garbage.StatusCode);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(101)]
    public async Task Query_WithMaxPageSizeOutside1To100_Returns400(int maxPageSize)
    {
        var (token, ucid, _) = await UserWithAsync(Items.Item("a", "P1"));

        using var response = await _client.QueryAsync(token, ucid, new JsonObject { ["maxPageSize"] = maxPageSize });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task Query_ForUserWithoutEntitlements_ReturnsEmptyItemsAndNoToken()
    {
        var (token, ucid, _) = await UserWithAsync();

        using var response = await _client.QueryAsync(token, ucid);
        var page = await OkJsonAsync(response);

        Assert.Empty(page["items"]!.AsArray());
        Assert.Null(page["continuationToken"]);
    }
}
