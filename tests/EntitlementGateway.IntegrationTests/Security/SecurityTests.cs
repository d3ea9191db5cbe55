using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using EntitlementGateway.Emulator;
using EntitlementGateway.IntegrationTests.Infrastructure;
using static EntitlementGateway.IntegrationTests.Infrastructure.GatewayQueries;
using static EntitlementGateway.IntegrationTests.Infrastructure.StoreWorld;

namespace EntitlementGateway.IntegrationTests.Security;

public sealed partial class SecurityTests : IAsyncLifetime
{
    private const string OpsKey = "ops-key-0123456789-0123456789-0123456789";
    private EmulatorServer _emulator = null!;
    private StoreWorld _store = null!;

    public async Task InitializeAsync()
    {
        _emulator = await EmulatorServer.StartAsync(new EmulatorOptions());
        _store = new StoreWorld(_emulator);
    }

    public async Task DisposeAsync()
    {
        _store.Dispose();
        await _emulator.DisposeAsync();
    }

    private GatewayApplication Gateway(Dictionary<string, string?>? extra = null)
    {
        var settings = new Dictionary<string, string?> { ["Ops:Enabled"] = "true", ["Ops:ApiKey"] = OpsKey };
        foreach (var (k, v) in extra ?? []) settings[k] = v;
        return GatewayApplication.Live(_emulator, settings);
    }

    /// <summary>Player binding on, trusting <paramref name="idp"/>'s key for audience "game-api".</summary>
    private GatewayApplication PlayerBoundGateway(TestTokens idp, string playerIdClaim = "sub") => Gateway(new()
    {
        ["PlayerAuth:Enabled"] = "true",
        ["PlayerAuth:Issuer"] = TestTokens.Issuer,
        ["PlayerAuth:Audience"] = "game-api",
        ["PlayerAuth:SigningKeyPem"] = idp.PublicKeyPem,
        ["PlayerAuth:PlayerIdClaim"] = playerIdClaim,
    });

    private static Task<HttpResponseMessage> QueryAsync(HttpClient client, string ucid, string? playerToken = null) =>
        GatewayQueries.QueryAsync(client, ucid, playerToken: playerToken);

    private static async Task<JsonObject> BudgetAsync(HttpClient client, string key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/ops/budgets/{key}");
        request.Headers.Add("X-Api-Key", OpsKey);
        using var response = await client.SendAsync(request);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!;
    }

    [Fact]
    public async Task CollectionsTicket_IsACollectionsKeyToken_NotTheServiceToken_AndNotCached()
    {
        await using var gateway = Gateway();
        using var client = gateway.CreateClient();

        using var response = await client.GetAsync("/v1/collections-ticket");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(response.Headers.CacheControl?.NoStore);
        var body = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        var ticket = body["serviceTicket"]!.GetValue<string>();
        var claims = JsonNode.Parse(Convert.FromBase64String(Pad(ticket.Split('.')[1])))!;
        Assert.Equal("https://onestore.microsoft.com/b2b/keys/create/collections", claims["aud"]!.GetValue<string>());
        Assert.True(body["expiresOn"]!.GetValue<DateTimeOffset>() > DateTimeOffset.UtcNow);
    }

    [Fact]
    public async Task Renew_CallsOnlyTheFixedRenewUrl_NeverTheRefreshUriInTheToken()
    {
        using var listener = new TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var connections = 0;
        _ = Task.Run(async () =>
        {
            while (true)
            {
                try { using var socket = await listener.AcceptSocketAsync(); Interlocked.Increment(ref connections); }
                catch (Exception) { return; }
            }
        });
        await using var gateway = Gateway();
        using var client = gateway.CreateClient();
        var ucid = await _store.MintUcidAsync("renew-player", new { refreshUri = $"http://127.0.0.1:{port}/steal", lifetimeSeconds = 3600 });

        using var response = await client.PostAsJsonAsync("/v1/user-collections-id/renew", new { userCollectionsId = ucid });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(response.Headers.CacheControl?.NoStore);
        var body = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        var renewed = body["userCollectionsId"]!.GetValue<string>();
        Assert.NotEqual(ucid, renewed);
        Assert.True(body["expiresOn"]!.GetValue<DateTimeOffset>() > DateTimeOffset.UtcNow.AddDays(29));
        Assert.Equal(1, (await _store.StatsAsync())["renewals"]!.GetValue<long>());
        await Task.Delay(200);
        Assert.Equal(0, Volatile.Read(ref connections));

        // The renewed key works for queries.
        (await QueryAsync(client, renewed)).EnsureSuccessStatusCode();
    }

    [Fact]
    public async Task Renew_WhenExpired_Returns401WithoutCallingTheStore()
    {
        await using var gateway = Gateway();
        using var client = gateway.CreateClient();
        var ucid = await _store.MintUcidAsync("expired-player", new { lifetimeSeconds = -10 });

        using var response = await client.PostAsJsonAsync("/v1/user-collections-id/renew", new { userCollectionsId = ucid });

        await AssertProblemAsync(response, HttpStatusCode.Unauthorized, "user_collections_id_expired");
        Assert.Equal(0, (await _store.StatsAsync())["renewals"]!.GetValue<long>());
    }

    [Fact]
    public async Task ForgedUcids_ForAVictimsUserId_DoNotReduceTheVictimsBudget()
    {
        var recorder = new StoreRequestRecorder();
        await using var unrecorded = Gateway();
        await using var gateway = recorder.Attach(unrecorded);
        using var client = gateway.CreateClient();
        // Right claims, wrong signature: the gateway cannot tell, the Store can.
        var forged = TestUcidFor("victim", _emulator.Options.ClientId);

        for (var i = 0; i < 5; i++)
        {
            using var response = await QueryAsync(client, forged);
            await AssertProblemAsync(response, HttpStatusCode.BadRequest, "invalid_user_collections_id");
        }

        // Each forged query did reach the Store (only it can refuse the signature), taking a unit that was then refunded.
        Assert.Equal(5, recorder.Requests.Count);
        Assert.All(recorder.Requests, r => Assert.Equal(forged, r.Body["beneficiaries"]![0]!["identityValue"]!.GetValue<string>()));
        var budget = await BudgetAsync(client, "user-victim");
        Assert.Equal(0, budget["used"]!.GetValue<int>());
        Assert.Equal(100, budget["remaining"]!.GetValue<int>());
    }

    [Fact]
    public async Task PlayerBinding_MatchingMismatchingMissingAndExpiredTokens()
    {
        using var idp = new TestTokens();
        await using var gateway = PlayerBoundGateway(idp, playerIdClaim: "player_id");
        using var client = gateway.CreateClient();
        var ucid = await _store.MintUcidAsync("alice");
        string Token(string player, TimeSpan? lifetime = null, DateTime? nbf = null) =>
            idp.Create("game-api", new Dictionary<string, object> { ["player_id"] = player }, lifetime, nbf);

        using (var matching = await QueryAsync(client, ucid, Token("alice")))
            Assert.Equal(HttpStatusCode.OK, matching.StatusCode);
        Assert.Equal(1, (await BudgetAsync(client, "player-alice"))["used"]!.GetValue<int>());

        using (var mismatching = await QueryAsync(client, ucid, Token("mallory")))
            await AssertProblemAsync(mismatching, HttpStatusCode.Forbidden, "player_mismatch");
        using (var missing = await QueryAsync(client, ucid))
            await AssertProblemAsync(missing, HttpStatusCode.Unauthorized, "unauthorized");
        using (var expired = await QueryAsync(client, ucid, Token("alice", TimeSpan.FromMinutes(-10), DateTime.UtcNow.AddMinutes(-30))))
            await AssertProblemAsync(expired, HttpStatusCode.Unauthorized, "unauthorized");
        using (var wrongAudience = await QueryAsync(client, ucid, idp.Create("other-api", new Dictionary<string, object> { ["player_id"] = "alice" })))
            await AssertProblemAsync(wrongAudience, HttpStatusCode.Unauthorized, "unauthorized");

        Assert.Equal(1, await _store.QueriesAsync("alice"));
    }

    [Fact]
    public async Task ClientIpLimiter_Answers429WithRetryAfter()
    {
        await using var gateway = Gateway(new() { ["ClientLimits:PermitLimit"] = "3", ["ClientLimits:WindowSeconds"] = "60" });
        using var client = gateway.CreateClient();

        for (var i = 0; i < 3; i++) (await client.GetAsync("/v1/collections-ticket")).EnsureSuccessStatusCode();
        using var limited = await client.GetAsync("/v1/collections-ticket");

        await AssertProblemAsync(limited, HttpStatusCode.TooManyRequests, "too_many_requests");
        Assert.InRange(int.Parse(limited.Headers.GetValues("Retry-After").Single()), 1, 60);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/live")).StatusCode);
    }

    [Fact]
    public async Task HeadersOver16KiB_Answer431Problem()
    {
        await using var gateway = Gateway();
        using var client = gateway.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/collections-ticket");
        request.Headers.Add("X-Padding", new string('a', 17 * 1024));

        using var response = await client.SendAsync(request);

        await AssertProblemAsync(response, (HttpStatusCode)431, "request_headers_too_large");
    }

    [Fact]
    public async Task Ops_RequiresTheApiKeyOrAnOperatorTokenWithTheRole()
    {
        using var idp = new TestTokens();
        await using var gateway = Gateway(new()
        {
            ["Ops:Issuer"] = TestTokens.Issuer,
            ["Ops:Audience"] = "gateway-ops",
            ["Ops:SigningKeyPem"] = idp.PublicKeyPem,
        });
        using var client = gateway.CreateClient();

        async Task<HttpStatusCode> GetAsync(Action<HttpRequestMessage> authorize)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/ops/budgets/user-someone");
            authorize(request);
            using var response = await client.SendAsync(request);
            return response.StatusCode;
        }

        Assert.Equal(HttpStatusCode.Unauthorized, await GetAsync(_ => { }));
        Assert.Equal(HttpStatusCode.Unauthorized, await GetAsync(r => r.Headers.Add("X-Api-Key", "wrong-key-0123456789-0123456789-012345")));
        Assert.Equal(HttpStatusCode.OK, await GetAsync(r => r.Headers.Add("X-Api-Key", OpsKey)));
        var operatorToken = idp.Create("gateway-ops", new Dictionary<string, object> { ["roles"] = new[] { "EntitlementGateway.Ops" } });
        Assert.Equal(HttpStatusCode.OK, await GetAsync(r => r.Headers.Authorization = new("Bearer", operatorToken)));
        var plainToken = idp.Create("gateway-ops", new Dictionary<string, object> { ["roles"] = new[] { "Reader" } });
        Assert.Equal(HttpStatusCode.Forbidden, await GetAsync(r => r.Headers.Authorization = new("Bearer", plainToken)));
    }

    [Fact]
    public async Task Swagger_WhenProtected_NeedsTheOpsCheck_WhenOff_IsGone()
    {
        await using (var gateway = Gateway(new() { ["Ops:Swagger"] = "Protected" }))
        {
            using var client = gateway.CreateClient();
            Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/openapi/v1.json")).StatusCode);
            Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/swagger/index.html")).StatusCode);
            using var request = new HttpRequestMessage(HttpMethod.Get, "/openapi/v1.json");
            request.Headers.Add("X-Api-Key", OpsKey);
            Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(request)).StatusCode);
        }
        await using (var gateway = Gateway(new() { ["Ops:Swagger"] = "Off" }))
        {
            using var client = gateway.CreateClient();
            Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/openapi/v1.json")).StatusCode);
        }
    }

    [Fact]
    public async Task AFullRun_LeaksNoUcidTokenTicketSecretOrAuthorizationValue_InLogsOrProblems()
    {
        using var idp = new TestTokens();
        await using var gateway = PlayerBoundGateway(idp);
        using var client = gateway.CreateClient();
        var player = idp.Create("game-api", new Dictionary<string, object> { ["sub"] = "leak-player" });
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", player);
        var ucid = await _store.MintUcidAsync("leak-player", new { lifetimeSeconds = 3600 });
        var expired = await _store.MintUcidAsync("leak-player", new { lifetimeSeconds = -5 });
        var foreign = await _store.MintUcidAsync("someone-else");
        await _store.SeedAsync("leak-player", Item("9N30KZZF4BR9"));
        var problems = new List<string>();

        var ticket = (await client.GetFromJsonAsync<JsonObject>("/v1/collections-ticket"))!["serviceTicket"]!.GetValue<string>();
        (await QueryAsync(client, ucid, player)).EnsureSuccessStatusCode();
        foreach (var bad in new[] { expired, foreign, TestUcidFor("leak-player", _emulator.Options.ClientId), ucid[..^3] + "abc" })
            problems.Add(await (await QueryAsync(client, bad, player)).Content.ReadAsStringAsync());
        var renewed = await client.PostAsJsonAsync("/v1/user-collections-id/renew", new { userCollectionsId = ucid });
        renewed.EnsureSuccessStatusCode();
        problems.Add(await (await client.PostAsJsonAsync("/v1/user-collections-id/renew", new { userCollectionsId = expired })).Content.ReadAsStringAsync());
        await _store.SetFaultsAsync(new { failNext = 1, failureStatus = 500, mode = "Status" });
        problems.Add(await (await QueryAsync(client, ucid, player)).Content.ReadAsStringAsync());

        var logs = string.Join("\n", gateway.Logs.Select(l => l.Message + " " + l.State));
        Assert.NotEmpty(logs);
        foreach (var text in problems.Append(logs))
        {
            Assert.DoesNotMatch(JwtPattern(), text);
            Assert.DoesNotContain(_emulator.Options.ClientSecret, text);
            foreach (var secret in new[] { ucid, expired, foreign, ticket, player })
                Assert.DoesNotContain(secret.Split('.')[1][..40], text);
        }
    }

    [GeneratedRegex("eyJ[A-Za-z0-9_-]{8,}\\.eyJ")]
    private static partial Regex JwtPattern();

    private static string TestUcidFor(string userId, string clientId)
    {
        var header = Convert.ToBase64String("{\"alg\":\"RS256\",\"kid\":\"forged\"}"u8.ToArray()).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var claims = new JsonObject
        {
            ["aud"] = "https://collections.mp.microsoft.com/v6.0/keys",
            ["iss"] = "https://collections.mp.microsoft.com/v6.0/keys",
            ["iat"] = now, ["nbf"] = now, ["exp"] = now + 3600,
            ["http://schemas.microsoft.com/marketplace/2015/08/claims/key/clientId"] = clientId,
            ["http://schemas.microsoft.com/marketplace/2015/08/claims/key/userId"] = userId,
        };
        var payload = Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(claims.ToJsonString())).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        return $"{header}.{payload}.Zm9yZ2Vk";
    }

    private static string Pad(string base64Url)
    {
        var s = base64Url.Replace('-', '+').Replace('_', '/');
        return s + new string('=', (4 - s.Length % 4) % 4);
    }
}
