using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using EntitlementGateway.Budget;
using EntitlementGateway.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using static EntitlementGateway.IntegrationTests.Infrastructure.GatewayQueries;

namespace EntitlementGateway.IntegrationTests.Api;

/// <summary>The ops console: what an operator can change (audited) and read, over the real HTTP pipeline with the ops key.</summary>
public sealed class OpsApiTests : OwnEmulatorGatewayTests
{
    private static async Task<HttpResponseMessage> OpsAsync(HttpClient client, HttpMethod method, string path, object? body = null, bool withKey = true)
    {
        using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body) };
        if (withKey) request.Headers.Add("X-Api-Key", OpsKey);
        return await client.SendAsync(request);
    }

    private static IEnumerable<CapturedLog> Audit(GatewayApplication gateway) => gateway.Logs.Where(l => l.Message.StartsWith("AUDIT", StringComparison.Ordinal));

    [Fact]
    public async Task ResetBudget_WithAReason_LetsAnExhaustedPlayerQueryAgain_AndWritesAnAuditLine()
    {
        await using var gateway = Gateway(new() { ["Budget:Limit"] = "1", ["Cache:Enabled"] = "false" });
        using var client = gateway.CreateClient();
        var user = NewUser();
        var ucid = await World.MintUcidAsync(user);
        using (var first = await QueryAsync(client, ucid)) Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        using (var refused = await QueryAsync(client, ucid)) await AssertProblemAsync(refused, HttpStatusCode.TooManyRequests, "budget_exhausted");

        using var reset = await OpsAsync(client, HttpMethod.Post, $"/ops/budgets/user-{user}/reset", new { reason = "TICKET-42 stuck player" });
        Assert.Equal(HttpStatusCode.OK, reset.StatusCode);
        var snapshot = await BodyAsync(reset);
        Assert.Equal(0, snapshot["used"]!.GetValue<int>());
        using (var again = await QueryAsync(client, ucid)) Assert.Equal(HttpStatusCode.OK, again.StatusCode);

        var line = Assert.Single(Audit(gateway));
        Assert.Contains($"user-{user}", line.Message, StringComparison.Ordinal);
        Assert.Contains("ops-api-key", line.Message, StringComparison.Ordinal); // the operator
        Assert.Contains("TICKET-42 stuck player", line.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_budget_asked_for_by_the_bare_userId_is_a_400_naming_the_key_forms_not_an_empty_budget()
    {
        await using var gateway = Gateway();
        using var client = gateway.CreateClient();
        var user = NewUser();
        using (var query = await QueryAsync(client, await World.MintUcidAsync(user))) Assert.Equal(HttpStatusCode.OK, query.StatusCode);

        using var bare = await OpsAsync(client, HttpMethod.Get, $"/ops/budgets/{user[7..]}");
        var problem = await AssertProblemAsync(bare, HttpStatusCode.BadRequest, "invalid_request");
        Assert.Contains("user-{userId}", problem["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        using (var prefixOnly = await OpsAsync(client, HttpMethod.Get, "/ops/budgets/user-")) await AssertProblemAsync(prefixOnly, HttpStatusCode.BadRequest, "invalid_request");
        Assert.Equal(1, (await BudgetAsync(client, $"user-{user}"))["used"]!.GetValue<int>());
        foreach (var key in new[] { "player-p1", "xbl-123", "ucid-abc" })
            Assert.Equal(0, (await BudgetAsync(client, key))["used"]!.GetValue<int>());
    }

    [Theory]
    [InlineData("/ops/budgets/user-x/reset")]
    [InlineData("/ops/budgets/user-x/unblock")]
    [InlineData("/ops/cache/players/user-x/drop")]
    public async Task ChangingOps_WithoutAOneLineReason_Is400InvalidRequest_AndChangesNothing(string path)
    {
        await using var gateway = Gateway();
        using var client = gateway.CreateClient();
        foreach (var body in new object[] { new { reason = "" }, new { reason = "two\nlines" }, new { reason = "two\u2028lines" }, new { reason = "TICKET-1\u202Eenilno" }, new { reason = new string('r', 501) }, new { } })
        {
            using var response = await OpsAsync(client, HttpMethod.Post, path, body);
            var problem = await AssertProblemAsync(response, HttpStatusCode.BadRequest, "invalid_request");
            Assert.NotNull(problem["errors"]?["reason"]);
        }
        Assert.Empty(Audit(gateway));
        using var anonymous = await OpsAsync(client, HttpMethod.Post, path, new { reason = "no key" }, withKey: false);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
    }

    [Fact]
    public async Task UnblockBudget_LiftsTheBlockAfterAStore429_AndKeepsTheUnits()
    {
        await using var gateway = Gateway();
        using var client = gateway.CreateClient();
        var user = NewUser();
        await World.SetFaultsAsync(new { failNext = 1, failureStatus = 429, retryAfterSeconds = 600 });
        using (var limited = await QueryAsync(client, await World.MintUcidAsync(user)))
            await AssertProblemAsync(limited, HttpStatusCode.ServiceUnavailable, "upstream_unavailable");
        var blocked = await BudgetAsync(client, $"user-{user}");
        Assert.NotNull(blocked["blockedUntil"]?.GetValue<DateTimeOffset>());

        using var unblock = await OpsAsync(client, HttpMethod.Post, $"/ops/budgets/user-{user}/unblock", new { reason = "Store confirmed the 429 was theirs" });
        Assert.Equal(HttpStatusCode.OK, unblock.StatusCode);
        var after = await BodyAsync(unblock);
        Assert.Null(after["blockedUntil"]);
        Assert.Equal(blocked["used"]!.GetValue<int>(), after["used"]!.GetValue<int>());
        using (var again = await QueryAsync(client, await World.MintUcidAsync(user))) Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Single(Audit(gateway), l => l.Message.Contains("block lifted", StringComparison.Ordinal));
    }

    [Fact]
    public async Task DropCachedAnswers_MakesThePlayersNextQueryAskTheStore()
    {
        await using var gateway = Gateway();
        using var client = gateway.CreateClient();
        var user = NewUser();
        var ucid = await World.MintUcidAsync(user);
        using (var first = await QueryAsync(client, ucid)) Assert.Equal("upstream", await ServedFromAsync(first));
        using (var cached = await QueryAsync(client, ucid)) Assert.Equal("cache", await ServedFromAsync(cached));

        using var drop = await OpsAsync(client, HttpMethod.Post, $"/ops/cache/players/user-{user}/drop", new { reason = "refund processed" });
        Assert.Equal(HttpStatusCode.OK, drop.StatusCode);
        Assert.True((await BodyAsync(drop))["allReplicas"]!.GetValue<bool>()); // no Redis: this replica is all of them

        using (var after = await QueryAsync(client, ucid)) Assert.Equal("upstream", await ServedFromAsync(after));
        Assert.Single(Audit(gateway), l => l.Message.Contains("dropped", StringComparison.Ordinal));
    }

    [Fact]
    public async Task StoreHealth_ShowsTheCircuit_TheLastErrorsByCode_AndTheTokenState_NeverTheToken()
    {
        await using var gateway = Gateway(new() { ["Resilience:MaxRetries"] = "0", ["Cache:Enabled"] = "false" });
        using var client = gateway.CreateClient();
        var ucid = await World.MintUcidAsync(NewUser());
        using (var ok = await QueryAsync(client, ucid)) Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        await World.SetFaultsAsync(new { failNext = 2, failureStatus = 500 });
        for (var i = 0; i < 2; i++)
            using (var failed = await QueryAsync(client, ucid)) await AssertProblemAsync(failed, HttpStatusCode.BadGateway, "upstream_error");

        using var response = await OpsAsync(client, HttpMethod.Get, "/ops/store/health");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var health = await BodyAsync(response);
        Assert.Equal("Closed", health["circuit"]!.GetValue<string>());
        Assert.False(health["credentialsSuspect"]!.GetValue<bool>());
        Assert.False(string.IsNullOrEmpty(health["replica"]!.GetValue<string>()));
        var error = Assert.Single(health["recentErrors"]!.AsArray());
        Assert.Equal("upstream_error", error!["code"]!.GetValue<string>());
        Assert.Equal(2, error["count"]!.GetValue<long>());
        var token = health["serviceToken"]!;
        Assert.True(token["held"]!.GetValue<bool>());
        Assert.True(token["acquisitions"]!.GetValue<long>() >= 1);
        Assert.True(token["expiresOn"]!.GetValue<DateTimeOffset>() > DateTimeOffset.UtcNow);
        Assert.DoesNotContain("eyJ", health.ToJsonString(), StringComparison.Ordinal); // no JWT anywhere
    }

    [Fact]
    public async Task Readiness_WhileTheCircuitIsOpen_SaysStoreDegraded_AndStaysInTheLoadBalancer()
    {
        await using var gateway = Gateway(new()
        {
            ["Resilience:MaxRetries"] = "0", ["Cache:Enabled"] = "false", ["Resilience:CircuitFailureRatio"] = "0.5",
            ["Resilience:CircuitMinimumThroughput"] = "4", ["Resilience:CircuitSamplingSeconds"] = "30", ["Resilience:CircuitBreakSeconds"] = "60",
        });
        using var client = gateway.CreateClient();
        Assert.Equal("Healthy", (await ReadinessAsync(client))["checks"]!["store"]!["status"]!.GetValue<string>());

        await World.SetFaultsAsync(new { failureRate = 1.0, failureStatus = 500, mode = "Status" });
        for (var i = 0; i < 4; i++)
            using (var failed = await QueryAsync(client, await World.MintUcidAsync(NewUser()))) Assert.Equal(HttpStatusCode.BadGateway, failed.StatusCode);
        using (var refused = await QueryAsync(client, await World.MintUcidAsync(NewUser())))
            await AssertProblemAsync(refused, HttpStatusCode.ServiceUnavailable, "upstream_unavailable");

        var store = (await ReadinessAsync(client))["checks"]!["store"]!;
        Assert.Equal("Degraded", store["status"]!.GetValue<string>());
        Assert.Contains("circuit is open", store["description"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    private static async Task<JsonNode> ReadinessAsync(HttpClient client)
    {
        using var ready = await client.GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        return JsonNode.Parse(await ready.Content.ReadAsStringAsync())!;
    }

    [Fact]
    public async Task EffectiveConfiguration_ShowsEverySection_WithEverySecretRedacted()
    {
        await using var gateway = Gateway(new()
        {
            ["Redis:ConnectionString"] = "127.0.0.1:1,password=redis-pass-s3cret,abortConnect=false",
            ["OTEL_EXPORTER_OTLP_HEADERS"] = "api-key=otlp-s3cret",
            ["Clawback:WebhookUrl"] = "https://hooks.example.com/studio?code=hook-s3cret",
        });
        using var client = gateway.CreateClient();
        using var response = await OpsAsync(client, HttpMethod.Get, "/ops/config");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(response.Headers.CacheControl?.NoStore);
        var text = await response.Content.ReadAsStringAsync();
        var config = JsonNode.Parse(text)!["sections"]!;

        foreach (var section in new[] { "Store", "Budget", "Redis", "Cache", "Resilience", "Ops", "PlayerAuth", "ClientLimits", "OTEL" })
            Assert.NotNull(config[section]);
        Assert.Equal(100, config["Budget"]!["limit"]!.GetValue<int>()); // a default, shown as in effect
        Assert.Equal("***redacted***", config["Store"]!["clientSecret"]!.GetValue<string>());
        Assert.Equal("***redacted***", config["Ops"]!["apiKey"]!.GetValue<string>());
        Assert.Equal("127.0.0.1:1,password=***redacted***,abortConnect=false", config["Redis"]!["connectionString"]!.GetValue<string>());
        Assert.Equal("https://hooks.example.com/studio?***redacted***", config["Clawback"]!["webhookUrl"]!.GetValue<string>());
        foreach (var secret in new[] { OpsKey, Emulator.Options.ClientSecret, "redis-pass-s3cret", "otlp-s3cret", "hook-s3cret" })
            Assert.DoesNotContain(secret, text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OpenApi_WithPlayerBinding_DeclaresThePlayersBearerToken_OnGameClientOperations()
    {
        using var idp = new TestTokens();
        await using var gateway = PlayerBoundGateway(idp);
        using var client = gateway.CreateClient();
        var document = (await client.GetFromJsonAsync<JsonObject>("/openapi/v1.json"))!;
        Assert.Equal("bearer", document["components"]!["securitySchemes"]!["PlayerBearer"]!["scheme"]!.GetValue<string>());
        var gameClient = 0;
        foreach (var (path, operations) in document["paths"]!.AsObject())
        foreach (var (_, operation) in operations!.AsObject())
        {
            var schemes = operation!["security"]!.AsArray().SelectMany(r => r!.AsObject().Select(p => p.Key)).ToList();
            if (path.StartsWith("/v1/", StringComparison.Ordinal))
            {
                Assert.Equal(["PlayerBearer"], schemes);
                gameClient++;
            }
            else Assert.DoesNotContain("PlayerBearer", schemes);
        }
        Assert.True(gameClient >= 5, $"{gameClient} game-client operations");
    }

    [Fact]
    public async Task ClawbackEvents_WithClawbackOff_Is404_NotAnEmptyList()
    {
        await using var gateway = Gateway();
        using var client = gateway.CreateClient();

        using var response = await OpsAsync(client, HttpMethod.Get, "/ops/clawback/events");

        await AssertProblemAsync(response, HttpStatusCode.NotFound, "not_found");
    }

    [Fact]
    public async Task OpenApi_MarksTheSkuIdOptional_AsTheQueryReadsIt()
    {
        await using var gateway = Gateway();
        using var client = gateway.CreateClient();
        var document = (await client.GetFromJsonAsync<JsonObject>("/openapi/v1.json"))!;
        var required = document["components"]!["schemas"]!["ProductSkuRequest"]!["required"]?.AsArray().Select(r => r!.GetValue<string>()).ToList() ?? [];
        Assert.Contains("productId", required);
        Assert.DoesNotContain("skuId", required);
    }

    [Fact]
    public async Task OpenApi_DeclaresTheOpsSecuritySchemes_OnOpsOperationsOnly()
    {
        await using var gateway = Gateway();
        using var client = gateway.CreateClient();
        var document = (await client.GetFromJsonAsync<JsonObject>("/openapi/v1.json"))!;
        var schemes = document["components"]!["securitySchemes"]!;
        Assert.Equal("X-Api-Key", schemes["OpsApiKey"]!["name"]!.GetValue<string>());
        Assert.Equal("bearer", schemes["OpsBearer"]!["scheme"]!.GetValue<string>());
        foreach (var (path, operations) in document["paths"]!.AsObject())
        foreach (var (_, operation) in operations!.AsObject())
        {
            var security = operation!["security"]?.AsArray();
            if (path.StartsWith("/ops/", StringComparison.Ordinal)) Assert.Equal(2, security!.Count);
            else Assert.Null(security);
        }
    }

    [Fact]
    public async Task Budgets_WhenRedisDoesNotAnswer_Are503BudgetUnavailable_WithTheRetryAfterPlayersGet()
    {
        await using var gateway = Gateway(new()
        {
            ["Redis:ConnectionString"] = $"127.0.0.1:{LoopbackPort.Free()}",
            ["Redis:OperationTimeoutMs"] = "250",
            ["Budget:WhenRedisUnavailable"] = "Reject",
        });
        using var client = gateway.CreateClient();

        using var read = await OpsAsync(client, HttpMethod.Get, "/ops/budgets/user-p1");
        await AssertProblemAsync(read, HttpStatusCode.ServiceUnavailable, "budget_unavailable");
        Assert.Equal(TimeSpan.FromSeconds(5), read.Headers.RetryAfter?.Delta);
        using var reset = await OpsAsync(client, HttpMethod.Post, "/ops/budgets/user-p1/reset", new { reason = "TICKET-7" });
        await AssertProblemAsync(reset, HttpStatusCode.ServiceUnavailable, "budget_unavailable");
        Assert.Equal(TimeSpan.FromSeconds(5), reset.Headers.RetryAfter?.Delta);
    }
}
