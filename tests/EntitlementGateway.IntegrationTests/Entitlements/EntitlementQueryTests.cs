using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using EntitlementGateway.IntegrationTests.Infrastructure;
using static EntitlementGateway.IntegrationTests.Infrastructure.GatewayQueries;
using static EntitlementGateway.IntegrationTests.Infrastructure.StoreWorld;

namespace EntitlementGateway.IntegrationTests.Entitlements;

public class EntitlementQueryTests(LiveGatewayFixture fixture) : IClassFixture<LiveGatewayFixture>
{
    private readonly HttpClient _client = fixture.Client;
    private readonly StoreWorld _store = fixture.Store;

    private Task<HttpResponseMessage> QueryAsync(string ucid, params string[] productIds) =>
        GatewayQueries.QueryAsync(_client, ucid, Products(productIds));

    /// <summary>A query whose body is <paramref name="body"/> as written, sent as application/json.</summary>
    private async Task<HttpResponseMessage> PostJsonAsync(string body)
    {
        using var content = new StringContent(body, System.Text.Encoding.UTF8, "application/json");
        return await _client.PostAsync("/v1/entitlements/query", content);
    }

    [Fact]
    public async Task Query_EntitlementsSpanningSeveralPagesWithDuplicates_ReturnsOneActiveEntitlementPerProduct()
    {
        var user = NewUser();
        var ucid = await _store.MintUcidAsync(user);
        await _store.SeedAsync(user,
            Item("9N30KZZF4BR9"),
            Item("9N30KZZF4BR9", "Revoked"),
            Item("9MXL21XPWWWK", kind: "Game"),
            Item("9PLRFWZWWF91", "Expired"),
            Item("9MZ0MGGFPLTP", "Banned"),
            Item("9NFUTURE0001", start: DateTimeOffset.UtcNow.AddDays(2)),
            Item("9NENDED00001", end: DateTimeOffset.UtcNow.AddDays(-1)),
            Item("9MXL21XPWWWK", kind: "Game", acquisition: "Recurring"),
            Item("9NBUNDLED001", satisfiedBy: ["9N30KZZF4BR9"]),
            Item("9NSUSPEND001", "Suspended"));

        using var response = await QueryAsync(ucid, "9N30KZZF4BR9", "9MXL21XPWWWK", "9PLRFWZWWF91", "9MZ0MGGFPLTP",
            "9NFUTURE0001", "9NENDED00001", "9NBUNDLED001", "9NSUSPEND001");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal("upstream", body["servedFrom"]!.GetValue<string>());
        var entitlements = body["entitlements"]!.AsArray();
        Assert.Equal(["9MXL21XPWWWK", "9N30KZZF4BR9", "9NBUNDLED001"], entitlements.Select(e => e!["productId"]!.GetValue<string>()));
        Assert.Equal("Single", entitlements[0]!["acquisitionType"]!.GetValue<string>());
        Assert.Equal(["9N30KZZF4BR9"], entitlements[2]!["satisfiedByProductIds"]!.AsArray().Select(p => p!.GetValue<string>()));

        // Ten items in pages of at most three (plus the emulator's repeated Revoked copies): several Store calls, one unit each.
        var calls = await _store.QueriesAsync(user);
        Assert.True(calls >= 4, $"expected the query to span several pages, saw {calls} Store calls");
        Assert.Equal($"\"upstream\";q=100;w=300", response.Headers.GetValues("RateLimit-Policy").Single());
        Assert.StartsWith($"\"upstream\";r={100 - calls};t=", response.Headers.GetValues("RateLimit").Single());
    }

    [Fact]
    public async Task Query_AnItemRevokedWhileThePagesWereRead_IsNotOwned_ButARepeatModifiedAtTheSameInstantHidesNothing()
    {
        var user = NewUser();
        var ucid = await _store.MintUcidAsync(user);
        var bought = Item("9N30KZZF4BR9");
        bought["modifiedDate"] = "2024-03-01T10:00:00.0000000+00:00";
        var refunded = bought.DeepClone().AsObject();
        refunded["status"] = "Revoked";
        refunded["modifiedDate"] = "2024-03-02T10:00:00Z";
        var game = Item("9MXL21XPWWWK", kind: "Game");
        game["modifiedDate"] = "2024-03-01T10:00:00Z";
        var repeated = game.DeepClone().AsObject();
        repeated["status"] = "Revoked";
        await _store.SeedAsync(user, bought, game, Item("9NFILLER0001"), refunded, repeated);

        using var response = await QueryAsync(ucid, "9N30KZZF4BR9", "9MXL21XPWWWK");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var entitlements = (await response.Content.ReadFromJsonAsync<JsonObject>())!["entitlements"]!.AsArray();
        Assert.Equal(["9MXL21XPWWWK"], entitlements.Select(e => e!["productId"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Query_ProductTypes_AreAppliedToTheAnswer()
    {
        var user = NewUser();
        var ucid = await _store.MintUcidAsync(user);
        await _store.SeedAsync(user, Item("9N30KZZF4BR9", kind: "Durable"), Item("9MXL21XPWWWK", kind: "Game"));

        using var response = await _client.PostAsJsonAsync("/v1/entitlements/query", new
        {
            userCollectionsId = ucid,
            products = new[] { new { productId = "9N30KZZF4BR9" }, new { productId = "9MXL21XPWWWK" } },
            productTypes = new[] { "Game" },
        });

        var body = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal(["9MXL21XPWWWK"], body["entitlements"]!.AsArray().Select(e => e!["productId"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Query_OwnsNothing_ReturnsEmptyList()
    {
        var user = NewUser();
        using var response = await QueryAsync(await _store.MintUcidAsync(user), "9N30KZZF4BR9");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Empty((await response.Content.ReadFromJsonAsync<JsonObject>())!["entitlements"]!.AsArray());
    }

    [Fact]
    public async Task Query_ManyQueries_UseOneCachedServiceTokenFromMsal()
    {
        var user = NewUser();
        var ucid = await _store.MintUcidAsync(user);
        for (var i = 0; i < 3; i++)
        {
            // no-cache: every query must reach the Store (and so need a service token), not the result cache.
            using var response = await GatewayQueries.QueryAsync(_client, ucid, fresh: true);
            Assert.Equal("upstream", await ServedFromAsync(response));
        }

        Assert.Equal(3, await _store.QueriesAsync(user));
        Assert.Equal(1, (await _store.StatsAsync())["tokensIssued"]!.GetValue<long>());
    }

    [Theory]
    [InlineData("not-a-jwt")]
    [InlineData("eyJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJodHRwczovL2V4YW1wbGUuY29tIn0.c2ln")]
    public async Task Query_WhenUcidIsInvalid_Returns400AndSpendsNothing(string ucid)
    {
        var before = await _store.StatsAsync();
        using var response = await QueryAsync(ucid, "9N30KZZF4BR9");

        await AssertProblemAsync(response, HttpStatusCode.BadRequest, "invalid_user_collections_id");
        Assert.Equal(before.ToJsonString(), (await _store.StatsAsync()).ToJsonString());
    }

    [Fact]
    public async Task Query_WhenUcidIsForAnotherClientId_Returns400WithoutCallingTheStore()
    {
        var user = NewUser();
        var ucid = await _store.MintUcidAsync(user, new { clientId = "99999999-9999-9999-9999-999999999999" });

        using var response = await QueryAsync(ucid, "9N30KZZF4BR9");

        await AssertProblemAsync(response, HttpStatusCode.BadRequest, "invalid_user_collections_id");
        Assert.Equal(0, await _store.QueriesAsync(user));
    }

    [Fact]
    public async Task Query_WhenUcidExpired_Returns401WithoutCallingTheStore()
    {
        var user = NewUser();
        var ucid = await _store.MintUcidAsync(user, new { lifetimeSeconds = -60 });

        using var response = await QueryAsync(ucid, "9N30KZZF4BR9");

        await AssertProblemAsync(response, HttpStatusCode.Unauthorized, "user_collections_id_expired");
        Assert.Equal(0, await _store.QueriesAsync(user));
    }

    [Fact]
    public async Task Query_WithBadFields_Returns400NamingEachField()
    {
        using var response = await _client.PostAsJsonAsync("/v1/entitlements/query", new
        {
            userCollectionsId = "a.b.c",
            products = new object[] { new { productId = "9n30kzzf4br9" }, new { productId = "9N30KZZF4BR9", skuId = "10" } },
            productTypes = new[] { "Dlc" },
        });

        var problem = await AssertProblemAsync(response, HttpStatusCode.BadRequest, "invalid_request");
        var errors = problem["errors"]!.AsObject().Select(e => e.Key).Order().ToArray();
        Assert.Equal(["productTypes[0]", "products[0].productId", "products[1].skuId"], errors);
    }

    [Theory]
    [InlineData("{", "invalid_request")]
    [InlineData("{\"userCollectionsId\": 42}", "invalid_request")]
    [InlineData("{\"products\": \"9N30KZZF4BR9\"}", "invalid_request")]
    [InlineData("", "invalid_request")]
    [InlineData("[]", "invalid_request")]
    public async Task Query_WithUnreadableBody_Returns400NotA500(string body, string code)
    {
        using var response = await PostJsonAsync(body);

        await AssertProblemAsync(response, HttpStatusCode.BadRequest, code);
    }

    [Theory]
    [InlineData("{\"userCollectionsId\": 42}", "userCollectionsId")]
    [InlineData("{\"products\": \"9N30KZZF4BR9\"}", "products")]
    [InlineData("{\"products\": [{\"productId\": 5}]}", "products[0].productId")]
    [InlineData("{\"includeSatisfyingItems\": \"yes\"}", "includeSatisfyingItems")]
    public async Task Query_WithAValueOfTheWrongType_NamesTheFieldInErrors(string body, string field)
    {
        using var response = await PostJsonAsync(body);

        var problem = await AssertProblemAsync(response, HttpStatusCode.BadRequest, "invalid_request");
        Assert.Equal("The request is not valid.", problem["title"]!.GetValue<string>());
        Assert.Equal([field], problem["errors"]!.AsObject().Select(e => e.Key));
    }

    [Theory]
    [InlineData("{")]
    [InlineData("{\"products\": [{\"productId\": x}]}")]
    [InlineData("[]")]
    public async Task Query_WithABodyThatIsNotJsonOrNoObject_SaysSo(string body)
    {
        using var response = await PostJsonAsync(body);

        var problem = await AssertProblemAsync(response, HttpStatusCode.BadRequest, "invalid_request");
        Assert.Equal("The request body is not valid JSON.", problem["title"]!.GetValue<string>());
        Assert.Null(problem["errors"]);
    }

    [Fact]
    public async Task Query_WithNonJsonContentType_Returns415Problem()
    {
        using var content = new StringContent("userCollectionsId=x", System.Text.Encoding.UTF8, "application/x-www-form-urlencoded");
        using var response = await _client.PostAsync("/v1/entitlements/query", content);

        await AssertProblemAsync(response, HttpStatusCode.UnsupportedMediaType, "invalid_request");
    }

    [Theory]
    [InlineData("text/html", "POST", "/v1/entitlements/query", "application/json", "{", 400, "invalid_request")]
    [InlineData("application/xml", "POST", "/v1/entitlements/query", "text/plain", "x", 415, "invalid_request")]
    [InlineData("text/plain", "POST", "/v1/entitlements/query", "application/json", "{\"userCollectionsId\": \"x\"}", 400, "invalid_request")]
    [InlineData("image/png", "GET", "/v1/entitlements/query", null, null, 405, "method_not_allowed")]
    [InlineData("text/html", "GET", "/v1/no-such-path", null, null, 404, "not_found")]
    [InlineData("application/json", "GET", "/openapi/v2.json", null, null, 404, "not_found")]
    public async Task Errors_WhateverTheClientAccepts_AreProblemJsonWithTheirCode(string accept, string method, string path, string? contentType, string? body, int status, string code)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        request.Headers.TryAddWithoutValidation("Accept", accept);
        if (body is not null) request.Content = new StringContent(body, System.Text.Encoding.UTF8, contentType!);

        using var response = await _client.SendAsync(request);

        var problem = await AssertProblemAsync(response, (HttpStatusCode)status, code);
        Assert.Equal(path, problem["instance"]!.GetValue<string>());
        Assert.Equal(55, problem["traceId"]!.GetValue<string>().Length);
    }

    [Fact]
    public async Task Errors_ForAPathHoldingAToken_NameItsLongSegmentByLengthAndHash_NotWhole()
    {
        var token = "eyJ" + new string('t', 300);

        using var response = await _client.GetAsync($"/v1/{token}");

        var problem = await AssertProblemAsync(response, HttpStatusCode.NotFound, "not_found");
        Assert.StartsWith("/v1/[303 characters, sha256 ", problem["instance"]!.GetValue<string>());
        Assert.DoesNotContain("tttttttttttttttt", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Query_WithBodyOver64KiB_Returns413()
    {
        var padding = new string('A', 70 * 1024);
        using var response = await _client.PostAsJsonAsync("/v1/entitlements/query", new { userCollectionsId = padding });

        await AssertProblemAsync(response, HttpStatusCode.RequestEntityTooLarge, "request_too_large");
    }
    [Fact]
    public async Task Query_BodyInUtf16_IsTranscodedAndAnswered()
    {
        var user = NewUser();
        var ucid = await _store.MintUcidAsync(user);
        await _store.SeedAsync(user, Item("9N30KZZF4BR9"));
        var json = new JsonObject { ["userCollectionsId"] = ucid, ["products"] = new JsonArray(new JsonObject { ["productId"] = "9N30KZZF4BR9" }) };
        using var content = new StringContent(json.ToJsonString(), System.Text.Encoding.Unicode, "application/json");
        Assert.Equal("utf-16", content.Headers.ContentType!.CharSet);

        using var response = await _client.PostAsync("/v1/entitlements/query", content);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal(["9N30KZZF4BR9"], body["entitlements"]!.AsArray().Select(e => e!["productId"]!.GetValue<string>()));
    }

    [Theory]
    [InlineData("utf-16", "utf-16", true)]
    [InlineData("utf-16", "utf-16BE", true)]
    [InlineData("utf-16BE", "utf-16BE", true)]
    [InlineData("utf-32", "utf-32", true)]
    [InlineData("utf-32", "utf-32BE", true)]
    [InlineData("utf-16", "utf-16BE", false)]
    [InlineData("utf-16BE", "utf-16", false)]
    [InlineData("utf-32", "utf-32BE", false)]
    public async Task Query_BodyInAUnicodeCharset_IsReadInTheOrderItsMarkOrElseItsFirstCharacterGives(string charset, string written, bool mark)
    {
        var user = NewUser();
        var ucid = await _store.MintUcidAsync(user);
        await _store.SeedAsync(user, Item("9N30KZZF4BR9"));
        var json = new JsonObject { ["userCollectionsId"] = ucid, ["products"] = new JsonArray(new JsonObject { ["productId"] = "9N30KZZF4BR9" }) };
        System.Text.Encoding encoding = written switch
        {
            "utf-16" => new System.Text.UnicodeEncoding(bigEndian: false, byteOrderMark: true),
            "utf-16BE" => new System.Text.UnicodeEncoding(bigEndian: true, byteOrderMark: true),
            "utf-32" => new System.Text.UTF32Encoding(bigEndian: false, byteOrderMark: true),
            _ => new System.Text.UTF32Encoding(bigEndian: true, byteOrderMark: true),
        };
        using var content = new ByteArrayContent([.. mark ? encoding.GetPreamble() : Array.Empty<byte>(), .. encoding.GetBytes(json.ToJsonString())]);
        content.Headers.TryAddWithoutValidation("Content-Type", $"application/json; charset={charset}");

        using var response = await _client.PostAsync("/v1/entitlements/query", content);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal(["9N30KZZF4BR9"], body["entitlements"]!.AsArray().Select(e => e!["productId"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Query_BodyWithAnUnknownCharset_Returns415Problem()
    {
        using var content = new ByteArrayContent("{}"u8.ToArray());
        content.Headers.TryAddWithoutValidation("Content-Type", "application/json; charset=no-such-charset");

        using var response = await _client.PostAsync("/v1/entitlements/query", content);

        await AssertProblemAsync(response, HttpStatusCode.UnsupportedMediaType, "invalid_request");
    }

    [Fact]
    public async Task Query_Answer_IsSentWithItsContentLengthAsTheSameJsonTheSerializerWrites()
    {
        var user = NewUser();
        var ucid = await _store.MintUcidAsync(user);
        await _store.SeedAsync(user, Item("9N30KZZF4BR9"), Item("9MXL21XPWWWK", kind: "Game"));

        using var response = await QueryAsync(ucid, "9N30KZZF4BR9", "9MXL21XPWWWK");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json; charset=utf-8", response.Content.Headers.ContentType!.ToString());
        Assert.NotEqual(true, response.Headers.TransferEncodingChunked);
        var bytes = await response.Content.ReadAsByteArrayAsync();
        Assert.Equal(bytes.Length, response.Content.Headers.ContentLength);
        // Byte for byte what the web serializer writes for the answer read back: nothing lost, renamed or reformatted.
        var web = new System.Text.Json.JsonSerializerOptions(System.Text.Json.JsonSerializerDefaults.Web);
        var answer = System.Text.Json.JsonSerializer.Deserialize<EntitlementGateway.Api.EntitlementQueryResponse>(bytes, web)!;
        Assert.Equal(2, answer.Entitlements.Count);
        Assert.Equal(System.Text.Encoding.UTF8.GetString(bytes), System.Text.Json.JsonSerializer.Serialize(answer, web));
    }
}
