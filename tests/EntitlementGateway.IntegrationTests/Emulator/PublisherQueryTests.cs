using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using EntitlementGateway.Emulator;
using EntitlementGateway.IntegrationTests.Infrastructure;

namespace EntitlementGateway.IntegrationTests.Emulator;

/// <summary>The emulator's v9 query (PublisherQuery) holds callers to its documented request rules, and counts operations.</summary>
public sealed class PublisherQueryTests(EmulatorFixture fixture) : IClassFixture<EmulatorFixture>
{
    private const string V9Path = "emulator/store/" + "v9.0/collections/publisherQuery";
    private readonly EmulatorClient _client = fixture.Client;

    private async Task<HttpResponseMessage> V9Async(JsonObject body, string? bearer = null, (string Authorization, string Signature)? xbox = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, V9Path) { Content = EmulatorClient.Json(body) };
        if (bearer is not null) request.Headers.Authorization = new("Bearer", bearer);
        if (xbox is { } x)
        {
            request.Headers.TryAddWithoutValidation("Authorization", x.Authorization);
            request.Headers.TryAddWithoutValidation("Signature", x.Signature);
        }
        return await _client.Http.SendAsync(request);
    }

    private static JsonObject Body(string ucid, int products = 1, JsonObject? extra = null)
    {
        var body = new JsonObject
        {
            ["beneficiaries"] = new JsonArray(new JsonObject { ["identitytype"] = "b2b", ["identityValue"] = ucid, ["localTicketReference"] = "" }),
            ["productSkuIds"] = new JsonArray(Enumerable.Range(0, products).Select(i => (JsonNode)new JsonObject { ["productId"] = $"9N30KZZF{i:D4}" }).ToArray()),
        };
        foreach (var (name, value) in extra ?? []) body[name] = value?.DeepClone();
        return body;
    }

    private async Task<(string Token, string Ucid, string UserId)> UserAsync(params JsonObject[] items)
    {
        var userId = EmulatorClient.NewUserId();
        await _client.SeedAsync(userId, items);
        return (await _client.GetTokenAsync(), await _client.MintUcidAsync(userId), userId);
    }

    [Fact]
    public async Task V9_ServesTheUsersItems_AndCountsThePublisherQueryOperation()
    {
        var (token, ucid, userId) = await UserAsync(Items.Item("a", "9N30KZZF0000"));
        var before = fixture.Server.State.Operations.GetValueOrDefault(StoreOperations.PublisherQuery.Name);

        using var response = await V9Async(Body(ucid), token);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var page = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal("a", page["items"]![0]!["id"]!.GetValue<string>());
        Assert.Equal(before + 1, fixture.Server.State.Operations[StoreOperations.PublisherQuery.Name]);
        Assert.Equal(1, fixture.Server.State.QueriesByUser[userId]);
        var stats = await _client.GetJsonAsync("emulator/stats");
        Assert.True(stats["operations"]![StoreOperations.PublisherQuery.Name]!.GetValue<long>() >= 1);
    }

    [Theory]
    [InlineData(0, null, "productSkuIds is required")]
    [InlineData(101, null, "at most 100")]
    [InlineData(1, "{\"maxPageSize\":201}", "maxPageSize must be between 1 and 200")]
    [InlineData(1, "{\"entitlementFilters\":[\"*:Durable\"]}", "entitlementFilters")]
    [InlineData(1, "{\"market\":\"neutral\"}", "market is not a field")]
    [InlineData(1, "{\"expandSatisfyingItems\":true}", "expandSatisfyingItems is not a field")]
    [InlineData(1, "{\"beneficiaries\":[{\"identityType\":\"b2b\"}]}", "identityType")]
    public async Task V9_RequestsOutsideItsRules_Are400_AndReachNoUserLimit(int products, string? extra, string message)
    {
        var (token, ucid, userId) = await UserAsync();
        using var response = await V9Async(Body(ucid, products, extra is null ? null : JsonNode.Parse(extra)!.AsObject()), token);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(message, (await response.Content.ReadFromJsonAsync<JsonObject>())!["message"]!.GetValue<string>());
        Assert.False(fixture.Server.State.QueriesByUser.ContainsKey(userId));
    }

    [Fact]
    public async Task V9_PagesOf200_AreServed()
    {
        var items = Enumerable.Range(0, 150).Select(i => Items.Item($"i{i}", "9N30KZZF0000", skuId: $"{i:D4}")).ToArray();
        var (token, ucid, _) = await UserAsync(items);

        using var response = await V9Async(Body(ucid, extra: new JsonObject { ["maxPageSize"] = 200 }), token);

        var page = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal(150, page["items"]!.AsArray().Count);
        Assert.Null(page["continuationToken"]);
    }

    [Fact]
    public async Task XboxToken_IsAcceptedWithItsSignature_AndRefusedWithAnotherTokensSignature()
    {
        var userId = EmulatorClient.NewUserId();
        await _client.SeedAsync(userId, Items.Item("x", "9N30KZZF0000"));
        var mine = fixture.Server.State.MintXboxToken(userId);
        var other = fixture.Server.State.MintXboxToken(EmulatorClient.NewUserId());
        var body = new JsonObject { ["productSkuIds"] = new JsonArray(new JsonObject { ["productId"] = "9N30KZZF0000" }) };

        using (var ok = await V9Async(body, xbox: mine))
        {
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
            Assert.Equal("x", (await ok.Content.ReadFromJsonAsync<JsonObject>())!["items"]![0]!["id"]!.GetValue<string>());
        }
        using (var mismatched = await V9Async(body, xbox: (mine.Authorization, other.Signature)))
            Assert.Equal(HttpStatusCode.Unauthorized, mismatched.StatusCode);
        var wrongHash = mine.Authorization.Replace("x=" + XboxTokens.UserHash(userId), "x=1234567890123456789", StringComparison.Ordinal);
        using (var forged = await V9Async(body, xbox: (wrongHash, mine.Signature)))
            Assert.Equal(HttpStatusCode.Unauthorized, forged.StatusCode);

        Assert.Equal(1, fixture.Server.State.DelegatedCallsByUser[userId]);
        Assert.Equal(1, fixture.Server.State.QueriesByUser[userId]);
    }
}
