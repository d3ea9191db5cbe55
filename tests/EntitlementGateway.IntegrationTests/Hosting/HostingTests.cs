using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using EntitlementGateway.Emulator;
using EntitlementGateway.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using static EntitlementGateway.IntegrationTests.Infrastructure.StoreWorld;

namespace EntitlementGateway.IntegrationTests.Hosting;

public class HostingTests
{
    private static readonly Dictionary<string, string?> Quiet = new();

    [Fact]
    public async Task EmbeddedDefaults_WithNoCredentials_RunTheEmulatorInProcess_AndAnswerTheQuickStartSession()
    {
        await using var gateway = new GatewayApplication(Quiet, environment: "Development");
        using var client = gateway.CreateClient();

        // The README's curl session, through the gateway's own port.
        var mint = await client.PostAsJsonAsync("/emulator/users/player-1/collections-id", new { });
        var ucid = (await mint.Content.ReadFromJsonAsync<JsonObject>())!["userCollectionsId"]!.GetValue<string>();
        (await client.PutAsJsonAsync("/emulator/users/player-1/entitlements", new JsonArray(Item("9N30KZZF4BR9"), Item("9N30KZZF4BR9", "Revoked")))).EnsureSuccessStatusCode();
        using var response = await client.PostAsJsonAsync("/v1/entitlements/query",
            new { userCollectionsId = ucid, products = new[] { new { productId = "9N30KZZF4BR9", skuId = "0010" } } });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal("9N30KZZF4BR9", Assert.Single(body["entitlements"]!.AsArray())!["productId"]!.GetValue<string>());
        var stats = (await client.GetFromJsonAsync<JsonObject>("/emulator/stats"))!;
        Assert.Equal(1, stats["queries"]!["player-1"]!.GetValue<long>());
        Assert.Contains(gateway.Logs, l => l.Level == LogLevel.Warning && l.Message.Contains("EMULATOR MODE"));
        var ready = await client.GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Contains("Embedded Store emulator", await ready.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task EmulatorMode_InProduction_RefusesToStart_NamingTheKeys()
    {
        await using var gateway = GatewayProcess.Start(new Dictionary<string, string?> { ["ASPNETCORE_ENVIRONMENT"] = "Production" });

        Assert.NotEqual(0, await gateway.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains("Store:Mode is Emulator", gateway.Output);
        Assert.Contains("Store:ClientId", gateway.Output);
    }

    [Fact]
    public async Task LiveMode_WithoutSecretOrTenant_RefusesToStart_NamingTheKeys()
    {
        await using var gateway = GatewayProcess.Start(new Dictionary<string, string?>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["Store__Mode"] = "Live",
            ["Store__ClientId"] = "abc",
        });

        Assert.NotEqual(0, await gateway.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains("Store:ClientSecret or Store:CertificatePath is required", gateway.Output);
        Assert.Contains("Store:TenantId (or Store:Authority) is required", gateway.Output);
    }

    [Fact]
    public async Task LiveMode_InProduction_WithoutAPlayerBindingDecision_RefusesToStart_NamingBothSettings()
    {
        await using var gateway = GatewayProcess.Start(new Dictionary<string, string?>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["Store__Mode"] = "Live",
            ["Store__TenantId"] = "00000000-0000-0000-0000-0000000000aa",
            ["Store__ClientId"] = "00000000-0000-0000-0000-0000000000bb",
            ["Store__ClientSecret"] = "placeholder-not-a-secret",
        });

        Assert.NotEqual(0, await gateway.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains("PlayerAuth:Enabled=true", gateway.Output);
        Assert.Contains("PlayerAuth:TrustGameClient=true", gateway.Output);
    }

    [Theory]
    [InlineData("Budget__Limit", "0", "Limit")]
    [InlineData("Catalog__Products", "not-a-product", "Catalog:Products has invalid entries (not-a-product)")]
    [InlineData("Store__MaxPages", "0", "Store:MaxPages must be between 1 and 100")]
    [InlineData("Resilience__AttemptTimeoutSeconds", "30", "Resilience:AttemptTimeoutSeconds must not exceed Resilience:TotalTimeoutSeconds")]
    [InlineData("Resilience__CircuitFailureRatio", "1.5", "Resilience:CircuitFailureRatio must be above 0 and at most 1")]
    [InlineData("Cache__MaxStale", "00:00:10", "Cache:MaxStale must be at least Cache:Ttl")]
    [InlineData("ClientLimits__TrustForwardedHeaders", "true", "ClientLimits:TrustForwardedHeaders is replaced by ForwardedHeaders:KnownProxies and ForwardedHeaders:KnownNetworks")]
    [InlineData("ForwardedHeaders__KnownNetworks", "10.0.0.0/33", "ForwardedHeaders:KnownNetworks has entries that are not CIDR networks")]
    [InlineData("ForwardedHeaders__KnownProxies", "balancer.internal", "ForwardedHeaders:KnownProxies has entries that are not IP addresses")]
    [InlineData("Budget__Replica", "10", "Budget:Replica (environment variable Budget__Replica) is not a setting of Budget (did you mean Replicas?)")]
    [InlineData("Stor__MaxPages", "5", "Stor (environment variables Stor__...) is not a section of the gateway; did you mean Store?")]
    [InlineData("Cache__Ttl", "soon", "Cache:Ttl (environment variable Cache__Ttl) cannot be read as a duration (hh:mm:ss)")]
    public async Task BadSettings_RefuseToStart_NamingTheKey(string key, string value, string message)
    {
        await using var gateway = GatewayProcess.Start(new Dictionary<string, string?>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Development",
            [key] = value,
        });

        Assert.NotEqual(0, await gateway.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains(message, gateway.Output);
    }

    [Theory]
    // Read while the services are built, before the host starts.
    [InlineData("Development", "Store__Mode", "Liev", "Store:Mode (environment variable Store__Mode) cannot be read as one of Emulator, Live")]
    // Read when the host starts (validated on start), where the host logs its own error for a failed start too.
    [InlineData("Development", "Budget__Limit", "abc", "Budget:Limit (environment variable Budget__Limit) cannot be read as a whole number: 'abc'.")]
    [InlineData("Staging", "Budget__Replica", "10", "did you mean Replicas?")]
    // Read before logging is configured.
    [InlineData("Staging", "Serilog__MinimumLevel__Default", "Loud", "Serilog:MinimumLevel:Default is not a level")]
    public async Task ABadSetting_IsOneFatalLineNamingTheKey_WithoutAStackTrace(string environment, string key, string value, string named)
    {
        await using var gateway = GatewayProcess.Start(new Dictionary<string, string?>
        {
            ["ASPNETCORE_ENVIRONMENT"] = environment,
            [key] = value,
        });

        Assert.NotEqual(0, await gateway.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        var fatal = Assert.Single(gateway.Output.Split('\n'), l => l.Contains("\"Level\":\"Fatal\"", StringComparison.Ordinal));
        Assert.Contains("EntitlementGateway refused to start", fatal, StringComparison.Ordinal);
        Assert.Contains(named, fatal, StringComparison.Ordinal);
        Assert.DoesNotContain("\"Exception\"", gateway.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", gateway.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("Hosting failed to start", gateway.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadinessProbes_OfADegradedReplica_WriteNoLogLinePerProbe()
    {
        // Degraded: an in-memory budget told that two replicas run. Orchestrators probe every few seconds, and while
        // draining every probe is Unhealthy: a Warning or Error line per probe would fire log alerts on every deploy.
        await using var gateway = GatewayProcess.Start(new Dictionary<string, string?>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Development",
            ["Budget__Replicas"] = "2",
        });
        var address = await gateway.WaitUntilListeningAsync(TimeSpan.FromSeconds(60));
        using var client = new HttpClient { BaseAddress = address };

        for (var i = 0; i < 3; i++)
        {
            using var ready = await client.GetAsync("/health/ready");
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
            Assert.Contains("Degraded", await ready.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        await Task.Delay(500); // log lines are written asynchronously

        Assert.Contains("each replica allows 50 calls", gateway.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("Health check", gateway.Output, StringComparison.Ordinal);
    }

    /// <summary>Seeds player-1 in the embedded emulator with one product (9N30KZZF4BR9) and returns a UCID minted for them.</summary>
    private static async Task<string> PlayerOwningOneProductAsync(HttpClient client)
    {
        var mint = await client.PostAsJsonAsync("/emulator/users/player-1/collections-id", new { });
        var ucid = (await mint.Content.ReadFromJsonAsync<JsonObject>())!["userCollectionsId"]!.GetValue<string>();
        (await client.PutAsJsonAsync("/emulator/users/player-1/entitlements", new JsonArray(Item("9N30KZZF4BR9")))).EnsureSuccessStatusCode();
        return ucid;
    }

    [Fact]
    public async Task TheBuiltService_StartsOnEmbeddedDefaults_AsTheReadmeQuickStartRunsIt()
    {
        await using var gateway = GatewayProcess.Start(new Dictionary<string, string?> { ["ASPNETCORE_ENVIRONMENT"] = "Development" });
        var baseAddress = await gateway.WaitUntilListeningAsync(TimeSpan.FromSeconds(60));
        using var client = new HttpClient { BaseAddress = baseAddress };

        var ucid = await PlayerOwningOneProductAsync(client);
        using var response = await client.PostAsJsonAsync("/v1/entitlements/query",
            new { userCollectionsId = ucid, products = new[] { new { productId = "9N30KZZF4BR9" } } });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("EMULATOR MODE", gateway.Output);
        Assert.DoesNotContain(ucid.Split('.')[1], gateway.Output);

        // The log is written in batches (every 50 ms, off the request threads): wait for the request's line, not for a time.
        for (var i = 0; i < 200 && !gateway.Output.Contains("/v1/entitlements/query responded", StringComparison.Ordinal); i++) await Task.Delay(50);
        // Development logs are for a person: one readable line per event, the banner and each request included, no JSON.
        var lines = gateway.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Contains(lines, l => System.Text.RegularExpressions.Regex.IsMatch(l, @"^\d\d:\d\d:\d\d WRN EMULATOR MODE: "));
        Assert.Contains(lines, l => System.Text.RegularExpressions.Regex.IsMatch(l, @"^\d\d:\d\d:\d\d INF HTTP POST /v1/entitlements/query responded 200 in \d+\.\d ms$"));
        Assert.DoesNotContain(lines, l => l.StartsWith('{'));
    }

    [Fact]
    public async Task TheBuiltService_WithoutRedis_AnsweringMissesHitsAndRefreshes_NeverLoadsTheRedisClient()
    {
        // What a replica maps stays in its memory for good: one without Redis must not load the Redis client at all.
        await using var gateway = GatewayProcess.Start(new Dictionary<string, string?> { ["ASPNETCORE_ENVIRONMENT"] = "Development" });
        var baseAddress = await gateway.WaitUntilListeningAsync(TimeSpan.FromSeconds(60));
        using var client = new HttpClient { BaseAddress = baseAddress };
        var ucid = await PlayerOwningOneProductAsync(client);
        var served = new List<string>();
        foreach (var refresh in new[] { false, false, true })
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/entitlements/query")
            {
                Content = JsonContent.Create(new { userCollectionsId = ucid, products = new[] { new { productId = "9N30KZZF4BR9" } } }),
            };
            if (refresh) request.Headers.CacheControl = new System.Net.Http.Headers.CacheControlHeaderValue { NoCache = true };
            using var query = await client.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, query.StatusCode);
            served.Add((await query.Content.ReadFromJsonAsync<JsonObject>())!["servedFrom"]!.GetValue<string>());
        }
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/ready")).StatusCode);

        Assert.Equal(["upstream", "cache", "upstream"], served);
        var mapped = gateway.MappedFiles();
        // The reading sees the application's own assemblies and those it loaded on the way (MSAL, for the Store's token).
        Assert.Contains("EntitlementGateway.dll", mapped);
        Assert.Contains("Microsoft.Identity.Client.dll", mapped);
        Assert.DoesNotContain("StackExchange.Redis.dll", mapped);
    }

    [Fact]
    public async Task Logs_OutsideDevelopment_AreJsonLines_CarryingTheRequestsTraceId()
    {
        await using var gateway = GatewayProcess.Start(new Dictionary<string, string?> { ["ASPNETCORE_ENVIRONMENT"] = "Staging", ["Store__Mode"] = "Emulator" });
        var baseAddress = await gateway.WaitUntilListeningAsync(TimeSpan.FromSeconds(60));
        using var client = new HttpClient { BaseAddress = baseAddress };
        const string traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
        using var request = new HttpRequestMessage(HttpMethod.Get, "/openapi/v1.json");
        request.Headers.Add("traceparent", $"00-{traceId}-00f067aa0ba902b7-01");
        using var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        var requestLine = await gateway.WaitForLineAsync(l => l.Contains("/openapi/v1.json", StringComparison.Ordinal));
        Assert.NotNull(requestLine);
        var json = JsonNode.Parse(requestLine)!;
        Assert.Equal(traceId, json["Properties"]!["TraceId"]!.GetValue<string>());
        Assert.Equal(100, json["Properties"]!["EventId"]!["Id"]!.GetValue<int>());
        Assert.Equal("EntitlementGateway", json["Properties"]!["Service"]!.GetValue<string>());
    }

    [Fact]
    public async Task Logs_AtTheShippedLevel_LeaveOutHealthyProbes_ButKeepTheRequestsAroundThem()
    {
        await using var gateway = GatewayProcess.Start(new Dictionary<string, string?> { ["ASPNETCORE_ENVIRONMENT"] = "Staging", ["Store__Mode"] = "Emulator" });
        var baseAddress = await gateway.WaitUntilListeningAsync(TimeSpan.FromSeconds(60));
        using var client = new HttpClient { BaseAddress = baseAddress };
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/before-the-probes")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/live")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/ready")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/openapi/v1.json")).StatusCode);

        // Lines are written in order: once the last request's line is out, the probes' would have been too.
        Assert.NotNull(await gateway.WaitForLineAsync(l => l.Contains("/openapi/v1.json", StringComparison.Ordinal) && l.Contains("responded", StringComparison.Ordinal)));
        Assert.Contains("/before-the-probes", gateway.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("/health/", gateway.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Logs_WithTheHostingCategoryAtDebug_ShowTheHealthyProbes()
    {
        await using var gateway = GatewayProcess.Start(new Dictionary<string, string?>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Staging",
            ["Store__Mode"] = "Emulator",
            ["Serilog__MinimumLevel__Override__EntitlementGateway.Hosting"] = "Debug",
        });
        var baseAddress = await gateway.WaitUntilListeningAsync(TimeSpan.FromSeconds(60));
        using var client = new HttpClient { BaseAddress = baseAddress };
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/live")).StatusCode);

        var probeLine = await gateway.WaitForLineAsync(l => l.StartsWith('{') && l.Contains("\"Path\":\"/health/live\"", StringComparison.Ordinal));
        Assert.NotNull(probeLine);
        Assert.Equal("Debug", JsonNode.Parse(probeLine)!["Level"]!.GetValue<string>());
    }

    [Fact]
    public async Task Logs_OutsideDevelopment_NeverCarryTheRawPath_OfARequestWithATokenInIt()
    {
        // The JSON lines write every property of an event, the framework's per-request scope too: its RequestPath would
        // carry a UCID pasted into the URL whole, beside the request line's own hashed path.
        await using var gateway = GatewayProcess.Start(new Dictionary<string, string?> { ["ASPNETCORE_ENVIRONMENT"] = "Staging", ["Store__Mode"] = "Emulator" });
        var baseAddress = await gateway.WaitUntilListeningAsync(TimeSpan.FromSeconds(60));
        using var client = new HttpClient { BaseAddress = baseAddress };
        var token = "eyJ" + new string('k', 300);
        using var response = await client.GetAsync($"/v1/entitlements/{token}/x");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);

        var requestLine = await gateway.WaitForLineAsync(l => l.Contains("303 characters, sha256", StringComparison.Ordinal));
        Assert.NotNull(requestLine);
        var properties = JsonNode.Parse(requestLine)!["Properties"]!.AsObject();
        Assert.StartsWith("/v1/entitlements/[303 characters, sha256 ", properties["Path"]!.GetValue<string>());
        Assert.False(properties.ContainsKey("RequestPath"));
        Assert.DoesNotContain("kkkkkkkkkkkkkkkk", gateway.Output);
        // The other scopes still reach the line (Kestrel's connection), and the trace ids tie the request's lines together.
        Assert.False(string.IsNullOrEmpty(properties["ConnectionId"]?.GetValue<string>()));
        Assert.Equal(32, properties["TraceId"]!.GetValue<string>().Length);
    }

    [Fact]
    public async Task Logs_WithTheFrameworksOwnLevelRaised_StillNeverCarryTheRawUrl()
    {
        // An operator chasing a problem raises Microsoft.AspNetCore to Information: the framework's request events would
        // then write each raw URL, query string included. The gateway's request line stands in for them.
        await using var gateway = GatewayProcess.Start(new Dictionary<string, string?>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Staging",
            ["Store__Mode"] = "Emulator",
            ["Serilog__MinimumLevel__Override__Microsoft.AspNetCore"] = "Information",
        });
        var baseAddress = await gateway.WaitUntilListeningAsync(TimeSpan.FromSeconds(60));
        using var client = new HttpClient { BaseAddress = baseAddress };
        using var response = await client.GetAsync($"/v1/entitlements/{"eyJ" + new string('p', 300)}?ucid=eyJ{new string('q', 300)}");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/openapi/v1.json")).StatusCode);

        var requestLine = await gateway.WaitForLineAsync(l => l.Contains("/openapi/v1.json", StringComparison.Ordinal) && l.Contains("responded", StringComparison.Ordinal));
        Assert.NotNull(requestLine);
        Assert.Contains("303 characters, sha256", gateway.Output, StringComparison.Ordinal);
        // The raised level took effect: the framework's other events at Information (the endpoint run) are written.
        Assert.Contains("\"SourceContext\":\"Microsoft.AspNetCore.Routing.EndpointMiddleware\"", gateway.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("pppppppppppppppp", gateway.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("qqqqqqqqqqqqqqqq", gateway.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Logs_WithTheFrameworkAtVerbose_StillNeverCarryTheRawPath()
    {
        // At Debug, routing's matcher names each request's raw path ("No candidates found for the request path ...").
        await using var gateway = GatewayProcess.Start(new Dictionary<string, string?>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Staging",
            ["Store__Mode"] = "Emulator",
            ["Serilog__MinimumLevel__Default"] = "Verbose",
            ["Serilog__MinimumLevel__Override__Microsoft.AspNetCore"] = "Verbose",
        });
        var baseAddress = await gateway.WaitUntilListeningAsync(TimeSpan.FromSeconds(60));
        using var client = new HttpClient { BaseAddress = baseAddress };
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/v1/entitlements/{"eyJ" + new string('r', 300)}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/openapi/{"eyJ" + new string('s', 300)}.json")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/openapi/v1.json")).StatusCode);

        var requestLine = await gateway.WaitForLineAsync(l => l.Contains("/openapi/v1.json", StringComparison.Ordinal) && l.Contains("responded", StringComparison.Ordinal));
        Assert.NotNull(requestLine);
        // Verbose took effect: the framework's Debug events (Kestrel's connections, routing's chosen endpoint) are written.
        Assert.Contains("\"SourceContext\":\"Microsoft.AspNetCore.Server.Kestrel.Connections\"", gateway.Output, StringComparison.Ordinal);
        Assert.Contains("\"SourceContext\":\"Microsoft.AspNetCore.Routing.EndpointRoutingMiddleware\"", gateway.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("rrrrrrrrrrrrrrrr", gateway.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("ssssssssssssssss", gateway.Output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/health/live")]
    [InlineData("/health/ready")]
    public async Task Probes_AnswerGetAndHead_AndAnyOtherMethodIs405(string path)
    {
        await using var gateway = new GatewayApplication(Quiet, environment: "Development");
        using var client = gateway.CreateClient();

        using (var get = await client.GetAsync(path)) Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        using (var head = await client.SendAsync(new HttpRequestMessage(HttpMethod.Head, path))) Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        using var post = await client.PostAsync(path, null);
        await GatewayQueries.AssertProblemAsync(post, HttpStatusCode.MethodNotAllowed, "method_not_allowed");
    }

    [Fact]
    public async Task AGatewayStartedFromAnotherFolder_StillReadsItsAppsettingsJson()
    {
        // appsettings.json sets Microsoft.AspNetCore to Warning: read, the endpoint's Information events are not written.
        var elsewhere = Directory.CreateTempSubdirectory("eg-elsewhere-").FullName;
        try
        {
            await using var gateway = GatewayProcess.Start(new Dictionary<string, string?> { ["ASPNETCORE_ENVIRONMENT"] = "Staging", ["Store__Mode"] = "Emulator" }, elsewhere);
            var baseAddress = await gateway.WaitUntilListeningAsync(TimeSpan.FromSeconds(60));
            using var client = new HttpClient { BaseAddress = baseAddress };
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/openapi/v1.json")).StatusCode);

            var requestLine = await gateway.WaitForLineAsync(l => l.Contains("/openapi/v1.json", StringComparison.Ordinal) && l.Contains("responded", StringComparison.Ordinal));
            Assert.NotNull(requestLine);
            Assert.DoesNotContain("Microsoft.AspNetCore.Routing.EndpointMiddleware", gateway.Output, StringComparison.Ordinal);
            Assert.Contains($"\"ContentRoot\":\"{GatewayProcess.AppDirectory}{Path.DirectorySeparatorChar}\"", gateway.Output, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(elsewhere, recursive: true);
        }
    }

    [Fact]
    public async Task Logs_TheSerilogSection_CanAddTheConsoleSinkByName()
    {
        await using var gateway = GatewayProcess.Start(new Dictionary<string, string?>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Staging",
            ["Store__Mode"] = "Emulator",
            ["Serilog__WriteTo__0__Name"] = "Console",
            ["Serilog__WriteTo__0__Args__outputTemplate"] = "CONFIGURED-SINK {Message:lj}{NewLine}",
        });
        var baseAddress = await gateway.WaitUntilListeningAsync(TimeSpan.FromSeconds(60));
        using var client = new HttpClient { BaseAddress = baseAddress };
        using var response = await client.GetAsync("/openapi/v1.json");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        // The gateway's own JSON lines are still written beside the configured sink (in batches: waited for, not timed).
        var jsonLine = await gateway.WaitForLineAsync(l => l.StartsWith('{') && l.Contains("/openapi/v1.json", StringComparison.Ordinal));
        Assert.True(jsonLine is not null, gateway.Output);
        Assert.Contains("CONFIGURED-SINK HTTP GET /openapi/v1.json", gateway.Output);
    }

    [Fact]
    public async Task Start_WritesNoDataProtectionKeys()
    {
        // Nothing in the gateway protects data; the framework's start-up warm-up would create a key ring under $HOME.
        var home = Directory.CreateTempSubdirectory("eg-home-").FullName;
        try
        {
            await using (var gateway = GatewayProcess.Start(new Dictionary<string, string?>
            {
                ["ASPNETCORE_ENVIRONMENT"] = "Development",
                ["HOME"] = home,
            }))
            {
                var baseAddress = await gateway.WaitUntilListeningAsync(TimeSpan.FromSeconds(60));
                using var client = new HttpClient { BaseAddress = baseAddress };
                Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/ready")).StatusCode);
                Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/swagger/index.html")).StatusCode);
            }

            Assert.False(Directory.Exists(Path.Combine(home, ".aspnet", "DataProtection-Keys")),
                string.Join(", ", Directory.GetFileSystemEntries(home, "*", SearchOption.AllDirectories)));
        }
        finally
        {
            Directory.Delete(home, recursive: true);
        }
    }

    [Fact]
    public async Task DefaultCatalog_IsUsedWhenTheQueryNamesNoProducts()
    {
        await using var emulator = await EmulatorServer.StartAsync(new EmulatorOptions());
        using var store = new StoreWorld(emulator);
        await using var gateway = GatewayApplication.Live(emulator, new Dictionary<string, string?> { ["Catalog:Products"] = "9N30KZZF4BR9/0010,9MXL21XPWWWK" });
        using var client = gateway.CreateClient();
        var ucid = await store.MintUcidAsync("catalog-player");
        await store.SeedAsync("catalog-player", Item("9N30KZZF4BR9"), Item("9MXL21XPWWWK", kind: "Game"), Item("9NOTINCATLG1"));

        using var response = await client.PostAsJsonAsync("/v1/entitlements/query", new { userCollectionsId = ucid });

        var body = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal(["9MXL21XPWWWK", "9N30KZZF4BR9"], body["entitlements"]!.AsArray().Select(e => e!["productId"]!.GetValue<string>()));
    }

    [Fact]
    public async Task OpenApiAndSwaggerUi_AreServed_WithSummariesExamplesAndProblemResponses()
    {
        await using var gateway = new GatewayApplication(Quiet, environment: "Development");
        using var client = gateway.CreateClient();

        var document = (await client.GetFromJsonAsync<JsonObject>("/openapi/v1.json"))!;
        var query = document["paths"]!["/v1/entitlements/query"]!["post"]!;
        Assert.False(string.IsNullOrWhiteSpace(query["summary"]?.GetValue<string>()));
        Assert.False(string.IsNullOrWhiteSpace(query["description"]?.GetValue<string>()));
        var responses = query["responses"]!.AsObject().Select(r => r.Key).ToHashSet();
        Assert.Superset(new HashSet<string> { "200", "400", "401", "413", "429", "502", "503", "504" }, responses);
        Assert.Equal("application/problem+json", query["responses"]!["429"]!["content"]!.AsObject().Single().Key);
        var schemas = document["components"]!["schemas"]!;
        Assert.NotNull(schemas["EntitlementQueryRequest"]!["examples"]);
        Assert.NotNull(schemas["EntitlementQueryRequest"]!["properties"]!["userCollectionsId"]!["description"]);
        // Read through UcidText in the gateway, a UCID is an optional string in the description, as for Game Pass.
        Assert.Equal("""["null","string"]""", schemas["EntitlementQueryRequest"]!["properties"]!["userCollectionsId"]!["type"]!.ToJsonString());
        Assert.Equal(schemas["GamePassRequest"]!["properties"]!["userCollectionsId"]!["type"]!.ToJsonString(),
            schemas["EntitlementQueryRequest"]!["properties"]!["userCollectionsId"]!["type"]!.ToJsonString());
        Assert.Null(schemas["UcidText"]);
        Assert.NotNull(schemas["EntitlementQueryRequest"]!["properties"]!["xbox"]);
        Assert.NotNull(schemas["XboxCredentials"]!["examples"]);
        var gamePass = document["paths"]!["/v1/subscriptions/game-pass"]!["post"]!;
        Assert.False(string.IsNullOrWhiteSpace(gamePass["description"]?.GetValue<string>()));
        Assert.Superset(new HashSet<string> { "200", "400", "401", "429", "502", "503", "504" },
            gamePass["responses"]!.AsObject().Select(r => r.Key).ToHashSet());
        Assert.NotNull(schemas["GamePassResponse"]!["properties"]!["tiers"]);
        var consume = document["paths"]!["/v1/consumables/consume"]!["post"]!;
        Assert.False(string.IsNullOrWhiteSpace(consume["description"]?.GetValue<string>()));
        Assert.Superset(new HashSet<string> { "200", "400", "401", "409", "429", "502", "503", "504" },
            consume["responses"]!.AsObject().Select(r => r.Key).ToHashSet());
        Assert.NotNull(schemas["ConsumeRequest"]!["examples"]);
        Assert.NotNull(schemas["ConsumeRequest"]!["properties"]!["xbox"]);
        Assert.NotNull(schemas["ConsumeResponse"]!["properties"]!["orderTransactions"]);

        var swagger = await client.GetStringAsync("/swagger/index.html");
        Assert.Contains("swagger-ui", swagger);
    }

    [Fact]
    public async Task Liveness_AnswersHealthy()
    {
        await using var gateway = new GatewayApplication(Quiet, environment: "Development");
        using var client = gateway.CreateClient();

        var live = await client.GetAsync("/health/live");

        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        Assert.Contains("Healthy", await live.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task RequestLog_HasMethodPathStatusElapsed_AndNeverTheUcid()
    {
        await using var emulator = await EmulatorServer.StartAsync(new EmulatorOptions());
        using var store = new StoreWorld(emulator);
        await using var gateway = GatewayApplication.Live(emulator);
        using var client = gateway.CreateClient();
        var ucid = await store.MintUcidAsync("log-player");

        (await client.PostAsJsonAsync("/v1/entitlements/query", new { userCollectionsId = ucid, products = new[] { new { productId = "9N30KZZF4BR9" } } })).EnsureSuccessStatusCode();
        await client.PostAsJsonAsync("/v1/entitlements/query", new { userCollectionsId = ucid + "x.y", products = new[] { new { productId = "9N30KZZF4BR9" } } });

        var logs = gateway.Logs.ToArray();
        Assert.Contains(logs, l => l.Message.StartsWith("HTTP POST /v1/entitlements/query responded 200 in", StringComparison.Ordinal));
        Assert.Contains(logs, l => l.Message.Contains("Store b2bLicensePreview answered 200") && l.State.Contains("MsCorrelationId="));
        var secretParts = ucid.Split('.');
        Assert.DoesNotContain(logs, l => secretParts.Any(p => l.Message.Contains(p) || l.State.Contains(p)));
    }
}
