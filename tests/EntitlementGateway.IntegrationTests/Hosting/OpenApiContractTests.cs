using Microsoft.Extensions.DependencyInjection;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using EntitlementGateway.IntegrationTests.Infrastructure;

namespace EntitlementGateway.IntegrationTests.Hosting;

/// <summary>
/// The API description as a client generated from it sees the gateway: what the gateway refuses is invalid in the
/// document, what it accepts is valid, and every problem it answers is one the document names.
/// </summary>
public sealed class OpenApiContractTests : IAsyncLifetime
{
    private const string OpsKey = "openapi-contract-ops-key-0123456789abcdef";
    private readonly GatewayApplication _gateway = new(new Dictionary<string, string?>
    {
        ["Ops:Enabled"] = "true",
        ["Ops:ApiKey"] = OpsKey,
        ["Consume:MaxQuantity"] = "750",
        ["Clawback:Enabled"] = "true",
        ["Clawback:WebhookUrl"] = "http://127.0.0.1:9/clawback",
        ["Clawback:WebhookSecret"] = "openapi-contract-webhook-secret-0123456789",
    }, environment: "Development");
    private HttpClient _client = null!;
    private JsonObject _document = null!;

    public async Task InitializeAsync()
    {
        _client = _gateway.CreateClient();
        _client.DefaultRequestHeaders.Add("X-Api-Key", OpsKey);
        _document = (await _client.GetFromJsonAsync<JsonObject>("/openapi/v1.json"))!;
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _gateway.DisposeAsync();
    }

    private JsonNode Schema(string name) => _document["components"]!["schemas"]![name]!;

    private IEnumerable<(string Path, string Method, JsonObject Operation)> Operations() =>
        from path in _document["paths"]!.AsObject()
        from operation in path.Value!.AsObject()
        select (path.Key, operation.Key, operation.Value!.AsObject());

    private static HashSet<string> Statuses(JsonObject operation) => operation["responses"]!.AsObject().Select(r => r.Key).ToHashSet();

    [Fact]
    public async Task TheDocument_IsGeneratedOnce_AndServedAsTheSameBytes_BehindItsAccessCheck()
    {
        using var first = await _client.GetAsync("/openapi/v1.json");
        using var second = await _client.GetAsync("/openapi/v1.json");

        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal(await first.Content.ReadAsByteArrayAsync(), await second.Content.ReadAsByteArrayAsync());
        Assert.Equal(first.Content.Headers.ContentType, second.Content.Headers.ContentType);
        Assert.Equal("application/json", second.Content.Headers.ContentType?.MediaType);
        Assert.Equal(first.Content.Headers.ContentLength, second.Content.Headers.ContentLength);
        Assert.Equal(1, _gateway.Services.GetRequiredService<EntitlementGateway.Hosting.OpenApiDocumentCache>().Generated);
    }

    [Fact]
    public void TheProblemBody_CarriesItsCode_AndEachStatusNamesTheCodesItCarries()
    {
        var problem = Schema("ProblemDetails");
        var codes = problem["properties"]!["code"]!["enum"]!.AsArray().Select(c => c!.GetValue<string>()).ToHashSet();
        Assert.Superset(new HashSet<string> { "invalid_request", "budget_exhausted", "too_many_requests", "upstream_unavailable", "consume_in_progress", "request_headers_too_large" }, codes);
        Assert.Contains("code", problem["required"]!.AsArray().Select(r => r!.GetValue<string>()));
        Assert.Equal("array", problem["properties"]!["errors"]!["additionalProperties"]!["type"]!.GetValue<string>());
        Assert.NotNull(problem["properties"]!["traceId"]);

        var query = _document["paths"]!["/v1/entitlements/query"]!["post"]!;
        Assert.Equal("Too Many Requests. Problem codes: budget_exhausted, too_many_requests.", query["responses"]!["429"]!["description"]!.GetValue<string>());
        // Every code the document lists is named by some status of some operation: none is listed and never answered.
        var named = Operations().SelectMany(o => o.Operation["responses"]!.AsObject())
            .Select(r => r.Value!["description"]!.GetValue<string>()).ToList();
        Assert.All(codes.Where(c => c is not ("not_found" or "method_not_allowed" or "internal_error")), code => Assert.Contains(named, d => d.Contains(code, StringComparison.Ordinal)));
    }

    [Fact]
    public void EveryBodyEndpoint_DocumentsTheRefusalsOfItsBody_AndEveryEndpointItsHeadersLimit()
    {
        foreach (var (path, method, operation) in Operations())
        {
            var statuses = Statuses(operation);
            Assert.Contains("431", statuses);
            if (operation["requestBody"] is not null) Assert.Superset(new HashSet<string> { "400", "408", "413", "415" }, statuses);
            Assert.True(operation["requestBody"] is not null || !statuses.Contains("415"), $"{method} {path}");
        }
        Assert.Contains("503", Statuses(_document["paths"]!["/v1/collections-ticket"]!["get"]!.AsObject()));
        Assert.Contains("400", Statuses(_document["paths"]!["/ops/budgets/{userKey}"]!["get"]!.AsObject()));
    }

    [Theory]
    [InlineData("GamePassRequest")]
    [InlineData("ConsumeRequest")]
    [InlineData("EntitlementQueryRequest")]
    public void ABody_NeedsOneCredential_TheUcidOrTheXboxAuthorization_NotBoth(string name)
    {
        var schema = Schema(name);
        var required = schema["required"]?.AsArray().Select(r => r!.GetValue<string>()).ToList() ?? [];
        Assert.DoesNotContain("userCollectionsId", required);
        Assert.DoesNotContain("xbox", required);
        Assert.Equal("""[{"required":["userCollectionsId"]},{"required":["xbox"]}]""", schema["oneOf"]!.ToJsonString());
    }

    [Fact]
    public void TheRulesTheGatewayEnforces_AreInTheDocument()
    {
        var query = Schema("EntitlementQueryRequest")["properties"]!;
        Assert.Equal(1, query["products"]!["minItems"]!.GetValue<int>());
        Assert.Equal(100, query["products"]!["maxItems"]!.GetValue<int>());
        Assert.Equal("""["Game","Application","Durable","Consumable","UnmanagedConsumable","Pass"]""", query["productTypes"]!["items"]!["enum"]!.ToJsonString());
        var product = Schema("ProductSkuRequest");
        Assert.Equal("""["productId"]""", product["required"]!.ToJsonString());
        Assert.Equal("^[0-9A-Z]{12}$", product["properties"]!["productId"]!["pattern"]!.GetValue<string>());
        Assert.Equal("string", product["properties"]!["productId"]!["type"]!.GetValue<string>());
        Assert.Equal("^[0-9]{4}$", product["properties"]!["skuId"]!["pattern"]!.GetValue<string>());
        var consume = Schema("ConsumeRequest");
        Assert.Equal("""["productId","quantity","trackingId"]""", consume["required"]!.ToJsonString());
        Assert.Equal("uuid", consume["properties"]!["trackingId"]!["format"]!.GetValue<string>());
        Assert.Equal(1, consume["properties"]!["quantity"]!["minimum"]!.GetValue<int>());
        Assert.Equal(750, consume["properties"]!["quantity"]!["maximum"]!.GetValue<int>());
        var reason = Schema("OpsActionRequest")["properties"]!["reason"]!;
        Assert.Equal(1, reason["minLength"]!.GetValue<int>());
        Assert.Equal(500, reason["maxLength"]!.GetValue<int>());
        Assert.Equal("""["upstream","cache","stale"]""", Schema("EntitlementQueryResponse")["properties"]!["servedFrom"]!["enum"]!.ToJsonString());
        var limit = _document["paths"]!["/ops/clawback/events"]!["get"]!["parameters"]!.AsArray().Single(p => p!["name"]!.GetValue<string>() == "limit")!["schema"]!;
        Assert.Equal("integer", limit["type"]!.GetValue<string>());
        Assert.Equal(1, limit["minimum"]!.GetValue<int>());
        Assert.Equal(500, limit["maximum"]!.GetValue<int>());
        Assert.Equal(100, limit["default"]!.GetValue<int>());
        // Descriptions are plain text (a generator does not unescape HTML).
        Assert.DoesNotContain("&lt;", _document.ToJsonString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Numbers_AreIntegers_AndAnOpenJsonValueIsAnyValue()
    {
        foreach (var (name, schema) in _document["components"]!["schemas"]!.AsObject())
        {
            foreach (var (property, value) in schema!["properties"]?.AsObject() ?? [])
            {
                var type = value!["type"]?.ToJsonString() ?? "";
                var numeric = type.Contains("integer", StringComparison.Ordinal) || type.Contains("number", StringComparison.Ordinal);
                Assert.False(numeric && type.Contains("string", StringComparison.Ordinal), $"{name}.{property}: {type}");
            }
        }
        // recurrenceData is whatever the Store wrote, null included: as "null or any value" in a oneOf, null matched twice.
        var recurrence = Schema("ClawbackEventRecord")["properties"]!["recurrenceData"]!.AsObject();
        Assert.Null(recurrence["oneOf"]);
        Assert.Null(recurrence["type"]);
    }

    [Fact]
    public void TheHeadersTheGatewayPromises_AreDocumented()
    {
        var query = _document["paths"]!["/v1/entitlements/query"]!["post"]!["responses"]!;
        Assert.NotNull(query["200"]!["headers"]!["RateLimit-Policy"]);
        Assert.NotNull(query["200"]!["headers"]!["X-Served-Stale-Because"]);
        Assert.NotNull(query["429"]!["headers"]!["Retry-After"]);
        Assert.NotNull(query["503"]!["headers"]!["Retry-After"]);
        var consume = _document["paths"]!["/v1/consumables/consume"]!["post"]!["responses"]!;
        Assert.NotNull(consume["200"]!["headers"]!["Idempotent-Replayed"]);
        Assert.NotNull(consume["409"]!["headers"]!["Retry-After"]);
        Assert.Null(_document["paths"]!["/ops/config"]!["get"]!["responses"]!["200"]!["headers"]);
        // Renewal and the ticket spend no budget, and send no RateLimit headers.
        Assert.Null(_document["paths"]!["/v1/user-collections-id/renew"]!["post"]!["responses"]!["200"]!["headers"]);
        Assert.Null(_document["paths"]!["/v1/collections-ticket"]!["get"]!["responses"]!["200"]!["headers"]);
    }

    [Fact]
    public async Task TheDocument_NamesNoServer_WhateverHostTheRequestNamed()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/openapi/v1.json");
        request.Headers.Host = "evil.example";

        using var response = await _client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var document = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Null(document["servers"]);
        Assert.DoesNotContain("evil.example", document.ToJsonString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("POST", "/v1/entitlements/query", "application/json", "{", "400")]
    [InlineData("POST", "/v1/entitlements/query", "text/plain", "x", "415")]
    [InlineData("POST", "/v1/entitlements/query", "application/json", """{"userCollectionsId":"not-a-jwt","products":[{"productId":"9N30KZZF4BR9"}]}""", "400")]
    [InlineData("POST", "/v1/consumables/consume", "application/json", """{"productId":"9N30KZZF4BR9","quantity":1,"trackingId":"x"}""", "400")]
    [InlineData("GET", "/ops/budgets/nobody", null, null, "400")]
    [InlineData("POST", "/ops/budgets/user-p1/reset", "application/json", """{"reason":""}""", "400")]
    public async Task ARealProblem_IsOneTheDocumentNamesForThatOperationAndStatus(string method, string path, string? contentType, string? body, string status)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (body is not null) request.Content = new StringContent(body, System.Text.Encoding.UTF8, contentType!);

        using var response = await _client.SendAsync(request);

        Assert.Equal(status, ((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture));
        var problem = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        var schema = Schema("ProblemDetails");
        foreach (var member in schema["required"]!.AsArray()) Assert.NotNull(problem[member!.GetValue<string>()]);
        var code = problem["code"]!.GetValue<string>();
        Assert.Contains(code, schema["properties"]!["code"]!["enum"]!.AsArray().Select(c => c!.GetValue<string>()));
        var documented = _document["paths"]![path.StartsWith("/ops/budgets/", StringComparison.Ordinal) ? path.Replace("nobody", "{userKey}", StringComparison.Ordinal).Replace("user-p1", "{userKey}", StringComparison.Ordinal) : path]![method.ToLowerInvariant()]!["responses"]![status]!;
        Assert.Contains(code, documented["description"]!.GetValue<string>(), StringComparison.Ordinal);
    }
}
