using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using EntitlementGateway.DeploymentTests.Infrastructure;
using EntitlementGateway.Emulator;

namespace EntitlementGateway.DeploymentTests;

/// <summary>
/// The app the image would hold, built by the Dockerfile's own commands (<see cref="DockerBuild"/>), started the way
/// the container starts it: <c>dotnet EntitlementGateway.dll</c> in <c>/app</c> with the image's ENV.
/// </summary>
public sealed class PublishedAppTests(DockerBuild build) : IClassFixture<DockerBuild>
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };

    private string GatewayDll => Path.Combine(build.App, "EntitlementGateway.dll");

    /// <summary>The image's ENV, on a free port instead of 8080 (tests run side by side), plus <paramref name="settings"/>.</summary>
    private Dictionary<string, string> ContainerEnvironment(out Uri baseAddress, params (string Key, string Value)[] settings)
    {
        var port = AppProcess.FreePort();
        var environment = new Dictionary<string, string>(build.RuntimeEnvironment) { ["ASPNETCORE_HTTP_PORTS"] = port.ToString(CultureInfo.InvariantCulture) };
        foreach (var (key, value) in settings) environment[key] = value;
        baseAddress = new Uri($"http://127.0.0.1:{port}/");
        return environment;
    }

    [Fact]
    public void The_Dockerfile_publishes_Release_framework_dependent_output()
    {
        Assert.Contains(build.Commands, c => c.Contains("dotnet publish src/EntitlementGateway/EntitlementGateway.csproj -c Release", StringComparison.Ordinal));
        Assert.True(File.Exists(GatewayDll));
        Assert.False(File.Exists(Path.Combine(build.App, "EntitlementGateway")), "no apphost: the image runs dotnet EntitlementGateway.dll");
        Assert.True(File.Exists(Path.Combine(build.App, "emulator", "EntitlementGateway.Emulator.dll")), "INCLUDE_EMULATOR=true publishes the emulator");
        Assert.True(Directory.Exists(Path.Combine(build.State, "emulator-certs")));
    }

    [Fact]
    public void The_published_runtime_config_keeps_idle_thread_pool_workers_from_spinning_and_keeps_the_heap_small()
    {
        using var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(build.App, "EntitlementGateway.runtimeconfig.json")));
        var properties = config.RootElement.GetProperty("runtimeOptions").GetProperty("configProperties");

        Assert.Equal(0, properties.GetProperty("System.Threading.ThreadPool.UnfairSemaphoreSpinLimit").GetInt32());
        Assert.Equal(16 * 1024 * 1024, properties.GetProperty("System.GC.Gen0MaxBudget").GetInt32());
        Assert.Equal(5, properties.GetProperty("System.GC.DTargetTCP").GetInt32());
        // The background GC stays: without it, a full collection of a large cache blocks every request (p99 30 ms
        // against 8-12 ms with 20,000 cached players).
        Assert.False(properties.TryGetProperty("System.GC.Concurrent", out _));
    }

    [Fact]
    public async Task In_production_live_mode_it_starts_and_answers_health_live()
    {
        var environment = ContainerEnvironment(out var address,
            ("Store__TenantId", "00000000-0000-0000-0000-0000000000aa"),
            ("Store__ClientId", "00000000-0000-0000-0000-0000000000bb"),
            ("Store__ClientSecret", "placeholder-not-a-secret"),
            // Player binding as deploy/ ships it, its placeholder replaced; the identity provider is only asked when a
            // player token arrives.
            ("PlayerAuth__Enabled", "true"),
            ("PlayerAuth__Authority", "https://login.studio-game.net/"),
            ("PlayerAuth__Audience", "entitlement-gateway"));
        Assert.Equal("Production", environment["ASPNETCORE_ENVIRONMENT"]);
        await using var gateway = AppProcess.Start(GatewayDll, environment);
        await gateway.WaitForOkAsync(_http, new Uri(address, "health/live"), StartTimeout);
        using var live = await _http.GetAsync(new Uri(address, "health/live"));
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
    }

    [Fact]
    public async Task Sigterm_lets_the_request_in_flight_finish_and_exits_zero()
    {
        // Emulator mode (Development) with a slow Store: one query takes about 4 s (inside an 8 s attempt timeout), so
        // SIGTERM 1.5 s after sending it finds it in flight even when a loaded machine is slow to deliver it.
        var environment = ContainerEnvironment(out var address,
            ("ASPNETCORE_ENVIRONMENT", "Development"), ("Store__Mode", "Emulator"), ("Emulator__LatencyMs", "4000"),
            ("Resilience__AttemptTimeoutSeconds", "8"));
        await using var gateway = AppProcess.Start(GatewayDll, environment);
        await gateway.WaitForOkAsync(_http, new Uri(address, "health/live"), StartTimeout);
        var ucid = await SeedPlayerAsync(address, address);

        var stopwatch = Stopwatch.StartNew();
        var query = QueryAsync(address, ucid);
        await Task.Delay(TimeSpan.FromMilliseconds(1500));
        Assert.False(query.IsCompleted, "the query should still be in flight");
        await gateway.TerminateAsync();

        using var response = await query;
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{response.StatusCode}: {await response.Content.ReadAsStringAsync()}\n{gateway.Output}");
        Assert.Equal(2, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("entitlements").GetArrayLength());
        Assert.True(stopwatch.Elapsed >= TimeSpan.FromSeconds(3.8), "the answer came after the Store's latency");
        Assert.Equal(0, await gateway.WaitForExitAsync(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task Sigterm_exits_within_the_drain_even_when_the_telemetry_collector_never_answers()
    {
        // A collector that accepts connections and never answers (or a network policy dropping its packets): the last
        // export must not hold the exit past the orchestrator's grace period.
        using var collector = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        collector.Start();
        var held = new List<System.Net.Sockets.Socket>();
        _ = Task.Run(async () =>
        {
            try { while (true) held.Add(await collector.AcceptSocketAsync()); }
            catch (Exception ex) when (ex is System.Net.Sockets.SocketException or ObjectDisposedException) { }
        });
        var environment = ContainerEnvironment(out var address,
            ("ASPNETCORE_ENVIRONMENT", "Development"), ("Store__Mode", "Emulator"), ("Hosting__ShutdownTimeoutSeconds", "3"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", $"http://127.0.0.1:{((System.Net.IPEndPoint)collector.LocalEndpoint).Port}"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"));
        await using var gateway = AppProcess.Start(GatewayDll, environment);
        await gateway.WaitForOkAsync(_http, new Uri(address, "health/live"), StartTimeout);
        var ucid = await SeedPlayerAsync(address, address);
        (await QueryAsync(address, ucid)).EnsureSuccessStatusCode(); // spans and metrics to export

        var stopwatch = Stopwatch.StartNew();
        await gateway.TerminateAsync();

        Assert.Equal(0, await gateway.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        // The drain (3 s, nothing in flight: at once) plus the telemetry's 2 s, with room for a slow machine; the SDK's
        // own waits took 13 s or more.
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(8), $"exited after {stopwatch.Elapsed}\n{gateway.Output}");
        foreach (var socket in held.ToArray()) socket.Dispose();
    }

    [Fact]
    public async Task The_compose_emulator_profile_wiring_works_the_README_session_through_a_live_gateway()
    {
        // docker-compose.yml's emulator service, on loopback ports instead of the service name "emulator".
        var certificate = Path.Combine(build.State, "emulator-certs", "emulator.pfx");
        int httpPort = AppProcess.FreePort(), httpsPort = AppProcess.FreePort();
        var emulatorEnvironment = new Dictionary<string, string>(build.RuntimeEnvironment)
        {
            ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{httpPort};https://127.0.0.1:{httpsPort}",
            ["Emulator__CertificatePath"] = certificate,
        };
        await using var emulator = AppProcess.Start(Path.Combine(build.App, "emulator", "EntitlementGateway.Emulator.dll"), emulatorEnvironment);
        var emulatorHttp = new Uri($"http://127.0.0.1:{httpPort}/");
        await emulator.WaitForOkAsync(_http, new Uri(emulatorHttp, "emulator/stats"), StartTimeout);
        var thumbprint = File.ReadAllText(EmulatorTls.ThumbprintPath(certificate)).Trim();
        Assert.Matches("^[0-9A-F]{40}$", thumbprint);

        // docker-compose.yml's gateway-live service.
        var defaults = new EmulatorOptions();
        var environment = ContainerEnvironment(out var address,
            ("ASPNETCORE_ENVIRONMENT", "Development"),
            ("Store__Mode", "Live"),
            ("Store__ClientId", defaults.ClientId),
            ("Store__ClientSecret", defaults.ClientSecret),
            ("Store__Authority", $"https://127.0.0.1:{httpsPort}/emulator"),
            ("Store__CollectionsBaseUrl", $"https://127.0.0.1:{httpsPort}/emulator/store"),
            ("Store__TrustedCertificateThumbprint", thumbprint));
        await using var gateway = AppProcess.Start(GatewayDll, environment);
        await gateway.WaitForOkAsync(_http, new Uri(address, "health/live"), StartTimeout);

        var ucid = await SeedPlayerAsync(emulatorHttp, emulatorHttp);
        using var response = await QueryAsync(address, ucid);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{response.StatusCode}: {body}\n--- gateway\n{gateway.Output}\n--- emulator\n{emulator.Output}");
        Assert.Equal(2, JsonDocument.Parse(body).RootElement.GetProperty("entitlements").GetArrayLength());
        Assert.Contains("\"upstream\";q=100;w=300", response.Headers.GetValues("RateLimit-Policy").Single(), StringComparison.Ordinal);
    }

    /// <summary>Steps 1 and 2 of the README's curl session.</summary>
    private async Task<string> SeedPlayerAsync(Uri mintAt, Uri seedAt)
    {
        using var minted = await _http.PostAsync(new Uri(mintAt, "emulator/users/player-1/collections-id"), null);
        minted.EnsureSuccessStatusCode();
        var ucid = (await minted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("userCollectionsId").GetString()!;
        const string items = """
            [{"productId":"9MXL21XPWWWK","skuId":"0010","productKind":"Game","status":"Active","acquisitionType":"Single",
              "startDate":"2024-01-01T00:00:00Z","endDate":"9999-12-31T23:59:59Z","quantity":1},
             {"productId":"9N30KZZF4BR9","skuId":"0010","productKind":"Durable","status":"Active","acquisitionType":"Single",
              "startDate":"2024-01-01T00:00:00Z","endDate":"9999-12-31T23:59:59Z","quantity":1},
             {"productId":"9N30KZZF4BR9","skuId":"0010","productKind":"Durable","status":"Revoked","acquisitionType":"Single",
              "startDate":"2024-01-01T00:00:00Z","endDate":"9999-12-31T23:59:59Z","quantity":1}]
            """;
        using var seeded = await _http.PutAsync(new Uri(seedAt, "emulator/users/player-1/entitlements"), new StringContent(items, Encoding.UTF8, "application/json"));
        seeded.EnsureSuccessStatusCode();
        return ucid;
    }

    /// <summary>Step 3 of the README's curl session.</summary>
    private Task<HttpResponseMessage> QueryAsync(Uri gateway, string ucid) =>
        _http.PostAsync(new Uri(gateway, "v1/entitlements/query"), JsonContent.Create(new
        {
            userCollectionsId = ucid,
            products = new object[] { new { productId = "9MXL21XPWWWK" }, new { productId = "9N30KZZF4BR9", skuId = "0010" } },
        }));
}
