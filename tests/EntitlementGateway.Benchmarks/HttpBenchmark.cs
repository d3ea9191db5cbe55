using System.Globalization;
using System.Net.Http.Json;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using EntitlementGateway.Emulator;
using EntitlementGateway.Hosting;

namespace EntitlementGateway.Benchmarks;

/// <summary>
/// The gateway's throughput against what the machine can do: a bare minimal API (the baseline), the gateway answering
/// from its cache (on its embedded defaults, and as deployed: Live against the standalone emulator), the gateway's miss
/// path (Live, cache off), and the emulator called directly. Every server is its own process on loopback; rounds
/// alternate between them so a busy machine slows all alike, and the ratios come from the same run. Prints figures;
/// asserts nothing.
/// </summary>
internal static class HttpBenchmark
{
    private const string QueryPath = "/v1/entitlements/query";

    public static async Task<int> RunAsync(HttpArguments a)
    {
        var useWrk = a.Load switch { "wrk" => true, "loop" => false, _ => HttpLoad.WrkInstalled };
        Console.WriteLine($"http             {a.Rounds} rounds x {(a.Compare is null ? 5 : 8)} targets x {a.Seconds} s, {a.Connections} connections, closed loop, " +
            $"{(useWrk ? "wrk -t1" : "C# load loop (wrk not installed)")}; {a.Players} players per gateway; loopback; {Environment.ProcessorCount} cores");
        var work = Directory.CreateTempSubdirectory("eg-bench-http-");
        try
        {
            return await RunCoreAsync(a, useWrk, work.FullName);
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }

    private static async Task<int> RunCoreAsync(HttpArguments a, bool useWrk, string work)
    {
        var gatewayDll = typeof(GatewayServices).Assembly.Location;
        // Start-up to ready, on the embedded defaults: the last start serves the cache-hit rounds.
        var startups = new List<TimeSpan>();
        ServerProcess? hitGateway = null;
        for (var i = 0; i < a.Startups; i++)
        {
            if (hitGateway is not null) await hitGateway.DisposeAsync();
            hitGateway = await GatewayAsync("gateway-hit", gatewayDll, new Dictionary<string, string>());
            startups.Add(hitGateway.Startup);
        }
        await using var hit = hitGateway!;
        await using var baseline = await StartBaselineAsync();
        await using var emulator = await StartEmulatorAsync(work, out var httpsPort);
        var emulatorHttps = new Uri($"https://127.0.0.1:{httpsPort}/");
        var live = LiveSettings(emulatorHttps, (await File.ReadAllTextAsync(Path.Combine(work, "emulator.pfx.thumbprint"))).Trim());
        await using var miss = await GatewayAsync("gateway-miss", gatewayDll, live);
        // The gateway as a replica is deployed: Live, the Store in another process, the cache on.
        var liveCached = new Dictionary<string, string>(live);
        liveCached.Remove("Cache__Enabled");
        await using var hitLive = await GatewayAsync("gateway-hit-live", gatewayDll, liveCached);
        // Another build of the gateway (--compare), driven in the same rounds: before and after a change, on one machine.
        await using var otherHit = a.Compare is { } other ? await GatewayAsync("gateway-hit-compare", other, new Dictionary<string, string>()) : null;
        await using var otherMiss = a.Compare is { } other2 ? await GatewayAsync("gateway-miss-compare", other2, live) : null;
        await using var otherHitLive = a.Compare is { } other3 ? await GatewayAsync("gateway-hit-live-compare", other3, liveCached) : null;

        using var emulatorAdmin = new HttpClient { BaseAddress = emulator.Address };
        var missUcids = await HttpWorld.SeedPlayersAsync(emulatorAdmin, "miss", a.Players);
        var missBodies = missUcids.Select(HttpWorld.GatewayBody).ToArray();
        using var certificate = X509CertificateLoader.LoadPkcs12FromFile(Path.Combine(work, "emulator.pfx"), null);
        var token = await HttpWorld.ServiceTokenAsync(emulatorHttps, certificate, new EmulatorOptions());
        var none = new Dictionary<string, string>();
        var hitTarget = await HitAsync(HitName, hit, a.Players);
        var driven = new List<Driven>
        {
            new(new LoadTarget(BaselineName, new Uri(baseline.Address, QueryPath), hitTarget.Target.Bodies, none), baseline, null),
            hitTarget,
            await HitAsync(HitLiveName, hitLive, a.Players, emulatorAdmin),
            new(new LoadTarget(MissName, new Uri(miss.Address, QueryPath), missBodies, none), miss, null, emulator),
            new(new LoadTarget(EmulatorName, new Uri(emulatorHttps, "emulator/store/v8.0/collections/b2bLicensePreview"),
                missUcids.Select(HttpWorld.StoreBody).ToArray(), new Dictionary<string, string>
                {
                    ["Authorization"] = "Bearer " + token,
                    ["MS-CV"] = "benchmarkbenchmarkbench.1",
                    ["MS-CorrelationId"] = Guid.NewGuid().ToString(),
                }), emulator, null),
        };
        if (otherHit is not null && otherMiss is not null && otherHitLive is not null)
        {
            driven.Add(await HitAsync(HitName + " (compare)", otherHit, a.Players));
            driven.Add(await HitAsync(HitLiveName + " (compare)", otherHitLive, a.Players, emulatorAdmin, "hit-live-compare"));
            driven.Add(new(new LoadTarget(MissName + " (compare)", new Uri(otherMiss.Address, QueryPath), missBodies, none), otherMiss, null, emulator));
        }
        using var _ = new DisposeAll(driven.Select(d => d.HitAdmin));

        await ShowAnswersAsync(driven.Select(d => d.Target), certificate);
        if (a.WarmupSeconds > 0)
            foreach (var d in driven)
            {
                if (d.HitAdmin is not null) await WarmHitsAsync(d.HitAdmin, d.Target.Bodies);
                await HttpLoad.RunAsync(d.Target, TimeSpan.FromSeconds(a.WarmupSeconds), a.Connections, useWrk);
            }

        Console.WriteLine();
        Console.WriteLine("round  target                       requests/s   p50 ms   p99 ms   requests   errors   server CPU us/request   (+ emulator's, for a miss)");
        var results = driven.ToDictionary(d => d.Target.Name, _ => new List<LoadResult>());
        for (var round = 1; round <= a.Rounds; round++)
        {
            foreach (var d in driven)
            {
                var result = await RoundAsync(d, TimeSpan.FromSeconds(a.Seconds), a.Connections, useWrk);
                results[d.Target.Name].Add(result);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{round,5}  {d.Target.Name,-26} {result.RequestsPerSecond,12:F0} {result.P50Ms,8:F2} {result.P99Ms,8:F2} {result.Requests,10} {result.Errors,8} {result.CpuUsPerRequest,12:F1}{(d.Upstream is null ? "" : $" {result.UpstreamCpuUsPerRequest,22:F1}")}"));
            }
        }

        HttpReport.Print(results, startups);
        return 0;
    }

    internal const string BaselineName = "baseline";
    internal const string HitName = "cache hit";
    internal const string HitLiveName = "cache hit, Live";
    internal const string MissName = "miss via emulator";
    internal const string EmulatorName = "emulator alone";

    /// <summary>A target and the server behind it; for a cache-hit target, the client that warms its players and the
    /// emulator admin that counts Store calls; for a miss target, the emulator it calls (its CPU per request counts
    /// against the machine too).</summary>
    private sealed record Driven(LoadTarget Target, ServerProcess Server, HttpClient? HitAdmin, ServerProcess? Upstream = null, HttpClient? StoreAdmin = null);

    private sealed class DisposeAll(IEnumerable<IDisposable?> items) : IDisposable
    {
        public void Dispose()
        {
            foreach (var item in items) item?.Dispose();
        }
    }

    /// <summary>A cache-hit target: players seeded in the emulator at <paramref name="store"/> (by default the gateway's
    /// embedded one), each answer cached before a round.</summary>
    private static async Task<Driven> HitAsync(string name, ServerProcess gateway, int players, HttpClient? store = null, string? prefix = null)
    {
        var admin = new HttpClient { BaseAddress = gateway.Address };
        var bodies = (await HttpWorld.SeedPlayersAsync(store ?? admin, prefix ?? (store is null ? "hit" : "hit-live"), players)).Select(HttpWorld.GatewayBody).ToArray();
        await WarmHitsAsync(admin, bodies);
        return new Driven(new LoadTarget(name, new Uri(gateway.Address, QueryPath), bodies, new Dictionary<string, string>()), gateway, admin, null, store ?? admin);
    }

    /// <summary>One measured round: the server's CPU per request and RSS, and for a cache hit the Store calls it made.</summary>
    private static async Task<LoadResult> RoundAsync(Driven d, TimeSpan duration, int connections, bool useWrk)
    {
        if (d.HitAdmin is not { } admin)
        {
            var cpu = d.Server.CpuTime();
            var upstreamCpu = d.Upstream?.CpuTime() ?? TimeSpan.Zero;
            using var stopSampling = new CancellationTokenSource();
            var sampled = SampleRssAsync(d.Server, stopSampling.Token);
            var plain = await HttpLoad.RunAsync(d.Target, duration, connections, useWrk);
            var parts = RssParts.Read(d.Server.Id);
            var requests = Math.Max(1, plain.Requests);
            await stopSampling.CancelAsync();
            var (max, median) = await sampled;
            return plain with
            {
                CpuUsPerRequest = (d.Server.CpuTime() - cpu).TotalMicroseconds / requests,
                UpstreamCpuUsPerRequest = d.Upstream is null ? 0 : (d.Upstream.CpuTime() - upstreamCpu).TotalMicroseconds / requests,
                MaxRssBytes = max,
                MedianRssBytes = median,
                Parts = parts,
            };
        }
        await WarmHitsAsync(admin, d.Target.Bodies);
        var store = d.StoreAdmin ?? admin;
        var callsBefore = await StoreCallsAsync(store);
        var cpuBefore = d.Server.CpuTime();
        using var sampling = new CancellationTokenSource();
        var rss = SampleRssAsync(d.Server, sampling.Token);
        var result = await HttpLoad.RunAsync(d.Target, duration, connections, useWrk);
        var rssParts = RssParts.Read(d.Server.Id);
        var cpuUs = (d.Server.CpuTime() - cpuBefore).TotalMicroseconds / Math.Max(1, result.Requests);
        await sampling.CancelAsync();
        var (maxRss, medianRss) = await rss;
        return result with { CpuUsPerRequest = cpuUs, MaxRssBytes = maxRss, MedianRssBytes = medianRss, Parts = rssParts, StoreCalls = await StoreCallsAsync(store) - callsBefore };
    }

    /// <summary>Live mode against the standalone emulator over HTTPS, with the cache off: every query is a Store call.</summary>
    private static Dictionary<string, string> LiveSettings(Uri emulatorHttps, string thumbprint)
    {
        var emulator = new EmulatorOptions();
        return new Dictionary<string, string>
        {
            ["Store__Mode"] = "Live",
            ["Store__ClientId"] = emulator.ClientId,
            ["Store__ClientSecret"] = emulator.ClientSecret,
            ["Store__Authority"] = new Uri(emulatorHttps, "emulator").ToString(),
            ["Store__CollectionsBaseUrl"] = new Uri(emulatorHttps, "emulator/store").ToString(),
            ["Store__TrustedCertificateThumbprint"] = thumbprint,
            ["Cache__Enabled"] = "false",
        };
    }

    private static Task<ServerProcess> GatewayAsync(string name, string dll, IReadOnlyDictionary<string, string> settings)
    {
        var port = ServerProcess.FreePort();
        // The gateway as shipped, configured as an operator would: Development (the embedded emulator is refused in
        // Production), and the per-client-IP limit off, since all load comes from one address.
        var environment = new Dictionary<string, string>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Development",
            ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}",
            ["ClientLimits__PermitLimit"] = "0",
        };
        foreach (var (key, value) in settings) environment[key] = value;
        return ServerProcess.StartAsync(name, dll, [], environment,
            new Uri($"http://127.0.0.1:{port}/"), "/health/ready");
    }

    private static Task<ServerProcess> StartBaselineAsync()
    {
        var port = ServerProcess.FreePort();
        // Server GC, as a web project (and the gateway) gets by default: this console assembly would otherwise run the
        // yardstick on Workstation GC, whose young generation here is sized from the 300 MB the VM reports as L3 cache.
        return ServerProcess.StartAsync("baseline", typeof(HttpBenchmark).Assembly.Location,
            ["http-baseline-server", "--port", port.ToString(CultureInfo.InvariantCulture)], new Dictionary<string, string> { ["DOTNET_gcServer"] = "1" },
            new Uri($"http://127.0.0.1:{port}/"), BaselineServer.ReadyPath);
    }

    private static Task<ServerProcess> StartEmulatorAsync(string work, out int httpsPort)
    {
        httpsPort = ServerProcess.FreePort();
        var httpPort = ServerProcess.FreePort();
        // No per-user limit (the yardstick must not refuse), its certificate in a file so the gateway can pin it, and
        // ASP.NET's per-request information logs off: the real Store's logging does not run on this machine's cores.
        return ServerProcess.StartAsync("emulator", typeof(EmulatorServer).Assembly.Location,
            ["--urls", $"https://127.0.0.1:{httpsPort};http://127.0.0.1:{httpPort}"], new Dictionary<string, string>
            {
                ["Emulator__RateLimit"] = "1000000",
                ["Emulator__CertificatePath"] = Path.Combine(work, "emulator.pfx"),
                ["Logging__LogLevel__Default"] = "Warning",
            }, new Uri($"http://127.0.0.1:{httpPort}/"), "/emulator/stats");
    }

    /// <summary>
    /// One fresh query per hit player (Cache-Control: no-cache, one budget unit each), so every answer is cached anew and
    /// stays fresh (Cache:Ttl, 60 s) through the round that follows: no answer expires mid-round and turns into a Store call.
    /// </summary>
    private static async Task WarmHitsAsync(HttpClient gateway, IReadOnlyList<string> bodies) =>
        await Parallel.ForEachAsync(bodies, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (body, ct) =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, QueryPath)
            {
                Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json"),
            };
            request.Headers.CacheControl = new System.Net.Http.Headers.CacheControlHeaderValue { NoCache = true };
            using var response = await gateway.SendAsync(request, ct);
            response.EnsureSuccessStatusCode();
        });

    /// <summary>Store calls the emulator (the gateway's embedded one, or the standalone one) has answered so far.</summary>
    private static async Task<long> StoreCallsAsync(HttpClient emulator)
    {
        var stats = await emulator.GetFromJsonAsync<JsonObject>("/emulator/stats");
        return stats!["queries"]!.AsObject().Sum(q => q.Value!.GetValue<long>());
    }

    /// <summary>The resident set every 100 ms until <paramref name="stop"/>: its maximum and its median.</summary>
    private static async Task<(long Max, long Median)> SampleRssAsync(ServerProcess process, CancellationToken stop)
    {
        var samples = new List<long>();
        while (!stop.IsCancellationRequested)
        {
            samples.Add(process.RssBytes());
            try { await Task.Delay(100, stop); }
            catch (OperationCanceledException) { break; }
        }
        samples.Add(process.RssBytes());
        samples.Sort();
        return (samples[^1], samples[samples.Count / 2]);
    }

    /// <summary>One request to each target before any load: its status, where the answer came from, and its size.</summary>
    private static async Task ShowAnswersAsync(IEnumerable<LoadTarget> targets, X509Certificate2 certificate)
    {
        using var client = new HttpClient(EmulatorTls.CreateTrustingHandler(certificate));
        foreach (var target in targets)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, target.Url)
            {
                Content = new StringContent(target.Bodies[0], System.Text.Encoding.UTF8, "application/json"),
            };
            foreach (var (name, value) in target.Headers) request.Headers.TryAddWithoutValidation(name, value);
            using var response = await client.SendAsync(request);
            var body = await response.Content.ReadAsStringAsync();
            var servedFrom = response.IsSuccessStatusCode && JsonNode.Parse(body) is JsonObject o && o["servedFrom"] is { } s ? s.GetValue<string>() : "-";
            Console.WriteLine($"  {target.Name,-18} answers {(int)response.StatusCode}, servedFrom {servedFrom}, {body.Length} bytes of JSON");
            if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"{target.Name} answered {(int)response.StatusCode}: {body}");
        }
    }
}
