using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using EntitlementGateway.IntegrationTests.Infrastructure;

namespace EntitlementGateway.IntegrationTests.Emulator;

/// <summary>
/// The emulator reads a v8 query body as strictly as the Store's documentation writes it: the document's own request
/// example is served, and a field spelt otherwise, a field it does not list, a missing market or a filter that is not a
/// product type is a 400 that names it, before any per-user limit.
/// </summary>
public sealed class QueryBodyContractTests(EmulatorFixture fixture) : IClassFixture<EmulatorFixture>
{
    private readonly EmulatorClient _client = fixture.Client;

    /// <summary>The documentation's request example (its product ids, maxPageSize 2, sbx), with a real UCID.</summary>
    private static JsonObject DocumentExample(string ucid)
    {
        var body = JsonNode.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "b2bLicensePreview-request.json")))!.AsObject();
        body["beneficiaries"]![0]!["identityValue"] = ucid;
        return body;
    }

    private async Task<(string Token, string Ucid, string UserId)> UserAsync()
    {
        var userId = EmulatorClient.NewUserId();
        await _client.SeedAsync(userId, Items.Item("a", "9N30KZZF4BR9"), Items.Item("b", "9MXL21XPWWWK", kind: "Game"),
            Items.Item("c", "9PLRFWZWWF91", kind: "Game"), Items.Item("d", "9ZZZZZZZZZZZ"));
        return (await _client.GetTokenAsync(), await _client.MintUcidAsync(userId), userId);
    }

    private async Task<HttpResponseMessage> PostAsync(string token, JsonObject body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, EmulatorClient.QueryPath) { Content = EmulatorClient.Json(body) };
        request.Headers.Authorization = new("Bearer", token);
        return await _client.Http.SendAsync(request);
    }

    [Fact]
    public async Task TheDocumentsRequestExample_AndItsContinuation_AreServed()
    {
        var (token, ucid, _) = await UserAsync();
        var body = DocumentExample(ucid);

        using var first = await PostAsync(token, body);
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        var page = (await first.Content.ReadFromJsonAsync<JsonObject>())!;
        // The example's four products, two to a page: the seeded item of another product is not among them.
        Assert.Equal(["a", "b"], page["items"]!.AsArray().Select(i => i!["id"]!.GetValue<string>()));
        // The documented follow-up: a copy of the previous body with the continuation token added.
        body["continuationToken"] = page["continuationToken"]!.GetValue<string>();
        using var second = await PostAsync(token, body);

        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        var next = (await second.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal(["b", "c"], next["items"]!.AsArray().Select(i => i!["id"]!.GetValue<string>()));
        Assert.Null(next["continuationToken"]);
    }

    public static TheoryData<string, string> Misspelt => new()
    {
        // The response example's spelling, which the request examples do not use.
        { """{"beneficiaries":[{"identityType":"b2b","identityValue":"UCID","localTicketReference":""}]}""", "identityType" },
        { """{"Market":"neutral"}""", "Market" },
        { """{"markets":"neutral"}""", "markets" },
        { """{"productSkuIds":[{"productID":"9N30KZZF4BR9"}]}""", "productID" },
        { """{"entitlementFilter":["Durable"]}""", "entitlementFilter" },
    };

    [Theory]
    [MemberData(nameof(Misspelt))]
    public async Task AFieldSpeltOtherwiseThanTheDocuments_Is400NamingIt_AndReachesNoUserLimit(string fields, string name)
    {
        var (token, ucid, userId) = await UserAsync();
        var body = DocumentExample(ucid);
        foreach (var (key, value) in JsonNode.Parse(fields.Replace("UCID", ucid, StringComparison.Ordinal))!.AsObject())
            body[key] = value?.DeepClone();

        using var response = await PostAsync(token, body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains($"'{name}'", (await response.Content.ReadFromJsonAsync<JsonObject>())!["message"]!.GetValue<string>());
        Assert.False(fixture.Server.State.QueriesByUser.ContainsKey(userId));
    }

    [Theory]
    [InlineData("market", null, "market is required")]
    [InlineData("market", "", "market is required")]
    [InlineData("entitlementFilters", """["Durable","Games"]""", "entitlementFilters[1] must name a product type")]
    [InlineData("entitlementFilters", """["durable"]""", "entitlementFilters[0] must name a product type")]
    [InlineData("entitlementFilters", """[":Durable"]""", "entitlementFilters[0] must name a product type")]
    [InlineData("entitlementFilters", """["*:Durable:Game"]""", "entitlementFilters[0] must name a product type")]
    public async Task AValueTheDocumentsDoNotAllow_Is400NamingTheField(string field, string? json, string message)
    {
        var (token, ucid, userId) = await UserAsync();
        var body = DocumentExample(ucid);
        if (json is null) body.Remove(field);
        else body[field] = json.Length == 0 ? "" : JsonNode.Parse(json);

        using var response = await PostAsync(token, body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(message, (await response.Content.ReadFromJsonAsync<JsonObject>())!["message"]!.GetValue<string>());
        Assert.False(fixture.Server.State.QueriesByUser.ContainsKey(userId));
    }

    [Fact]
    public async Task ABeneficiaryOfAnotherIdentityType_Is400()
    {
        var (token, ucid, _) = await UserAsync();
        var body = DocumentExample(ucid);
        body["beneficiaries"]![0]!["identitytype"] = "pub";

        using var response = await PostAsync(token, body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("identitytype must be b2b", (await response.Content.ReadFromJsonAsync<JsonObject>())!["message"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("Durable", new[] { "a" })]
    [InlineData("*:Game", new[] { "b" })]
    [InlineData("9N30KZZF4BR9:Durable", new[] { "a" })]
    public async Task ProductTypeFilters_BareOrScoped_AreServed(string filter, string[] ids)
    {
        var (token, ucid, _) = await UserAsync();
        var body = DocumentExample(ucid);
        body["entitlementFilters"] = new JsonArray(filter);
        body["productSkuIds"] = new JsonArray(new JsonObject { ["productId"] = "9N30KZZF4BR9" }, new JsonObject { ["productId"] = "9MXL21XPWWWK" });

        using var response = await PostAsync(token, body);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(ids, (await response.Content.ReadFromJsonAsync<JsonObject>())!["items"]!.AsArray().Select(i => i!["id"]!.GetValue<string>()));
    }
}
