using System.Globalization;
using System.Net.Http.Json;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using EntitlementGateway.Emulator;
using EntitlementGateway.Hosting;

namespace EntitlementGateway.Benchmarks;

/// <summary>
/// The gateway's throughput against what the machine can do: a bare minimal API (the baseline), the gateway answering
/// from its cache (on its embedded defaults), the gateway's miss path (Live against the standalone emulator over HTTPS,
/// cache off), and the emulator called directly. Every server is its own process on loopback; rounds alternate between
/// them so a busy machine slows all alike, and the ratios come from the same run. Prints figures; asserts nothing.
/// </summary>
internal static class HttpBenchmark
{
    private const string QueryPath = "/v1/entitlements/query";

    public static async Task<int> RunAsync(HttpArguments a)
    {
        var useWrk = a.Load switch { "wrk" => true, "loop" => false, _ => HttpLoad.WrkInstalled };
        Console.WriteLine($"http             {a.Rounds} rounds x 4 targets x {a.Seconds} s, {a.Connections} connections, closed loop, " +
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
        var emulatorOptions = new EmulatorOptions();
        // Start-up to ready, on the embedded defaults: the last start serves the cache-hit rounds.
        var startups = new List<TimeSpan>();
        ServerProcess? hitGateway = null;
        for (var i = 0; i < a.Startups; i++)
        {
            if (hitGateway is not null) await hitGateway.DisposeAsync();
            hitGateway = await GatewayAsync("gateway-hit", new Dictionary<string, string>());
            startups.Add(hitGateway.Startup);
        }
        await using var hit = hitGateway!;
        await using var baseline = await StartBaselineAsync();
        await using var emulator = await StartEmulatorAsync(work, out var httpsPort);
        var emulatorHttps = new Uri($"https://127.0.0.1:{httpsPort}/");
        var thumbprint = (await File.ReadAllTextAsync(Path.Combine(work, "emulator.pfx.thumbprint"))).Trim();
        await using var miss = await GatewayAsync("gateway-miss", new Dictionary<string, string>
        {
            ["Store__Mode"] = "Live",
            ["Store__ClientId"] = emulatorOptions.ClientId,
            ["Store__ClientSecret"] = emulatorOptions.ClientSecret,
            ["Store__Authority"] = new Uri(emulatorHttps, "emulator").ToString(),
            ["Store__CollectionsBaseUrl"] = new Uri(emulatorHttps, "emulator/store").ToString(),
            ["Store__TrustedCertificateThumbprint"] = thumbprint,
            ["Cache__Enabled"] = "false",
        });

        using var hitAdmin = new HttpClient { BaseAddress = hit.Address };
        using var emulatorAdmin = new HttpClient { BaseAddress = emulator.Address };
        var hitUcids = await HttpWorld.SeedPlayersAsync(hitAdmin, "hit", a.Players);
        var missUcids = await HttpWorld.SeedPlayersAsync(emulatorAdmin, "miss", a.Players);
        using var certificate = X509CertificateLoader.LoadPkcs12FromFile(Path.Combine(work, "emulator.pfx"), null);
        var token = await HttpWorld.ServiceTokenAsync(emulatorHttps, certificate, emulatorOptions);
        var none = new Dictionary<string, string>();
        var targets = new[]
        {
            new LoadTarget("baseline", new Uri(baseline.Address, QueryPath), hitUcids.Select(HttpWorld.GatewayBody).ToArray(), none),
            new LoadTarget("cache hit", new Uri(hit.Address, QueryPath), hitUcids.Select(HttpWorld.GatewayBody).ToArray(), none),
            new LoadTarget("miss via emulator", new Uri(miss.Address, QueryPath), missUcids.Select(HttpWorld.GatewayBody).ToArray(), none),
            new LoadTarget("emulator alone", new Uri(emulatorHttps, "emulator/store/v8.0/collections/b2bLicensePreview"),
                missUcids.Select(HttpWorld.StoreBody).ToArray(), new Dictionary<string, string>
                {
                    ["Authorization"] = "Bearer " + token,
                    ["MS-CV"] = "benchmarkbenchmarkbench.1",
                    ["MS-CorrelationId"] = Guid.NewGuid().ToString(),
                }),
        };

        await WarmHitsAsync(hitAdmin, targets[1].Bodies);
        await ShowAnswersAsync(targets, certificate);
        if (a.WarmupSeconds > 0)
            foreach (var target in targets)
            {
                if (target.Name == "cache hit") await WarmHitsAsync(hitAdmin, target.Bodies);
                await HttpLoad.RunAsync(target, TimeSpan.FromSeconds(a.WarmupSeconds), a.Connections, useWrk);
            }

        Console.WriteLine();
        Console.WriteLine("round  target               requests/s   p50 ms   p99 ms   requests   errors   server CPU us/request");
        var results = targets.ToDictionary(t => t.Name, _ => new List<LoadResult>());
        var servers = new Dictionary<string, ServerProcess>
        {
            ["baseline"] = baseline, ["cache hit"] = hit, ["miss via emulator"] = miss, ["emulator alone"] = emulator,
        };
        long maxRss = 0, storeCallsDuringHits = 0;
        for (var round = 1; round <= a.Rounds; round++)
        {
            foreach (var target in targets)
            {
                LoadResult result;
                var cpuBefore = servers[target.Name].CpuTime();
                if (target.Name == "cache hit")
                {
                    await WarmHitsAsync(hitAdmin, target.Bodies);
                    var callsBefore = await StoreCallsAsync(hitAdmin);
                    using var sampling = new CancellationTokenSource();
                    var rss = SampleMaxRssAsync(hit, sampling.Token);
                    result = await HttpLoad.RunAsync(target, TimeSpan.FromSeconds(a.Seconds), a.Connections, useWrk);
                    await sampling.CancelAsync();
                    maxRss = Math.Max(maxRss, await rss);
                    storeCallsDuringHits += await StoreCallsAsync(hitAdmin) - callsBefore;
                }
                else
                {
                    result = await HttpLoad.RunAsync(target, TimeSpan.FromSeconds(a.Seconds), a.Connections, useWrk);
                }
                result = result with { CpuUsPerRequest = (servers[target.Name].CpuTime() - cpuBefore).TotalMicroseconds / Math.Max(1, result.Requests) };
                results[target.Name].Add(result);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{round,5}  {target.Name,-18} {result.RequestsPerSecond,12:F0} {result.P50Ms,8:F2} {result.P99Ms,8:F2} {result.Requests,10} {result.Errors,8} {result.CpuUsPerRequest,12:F1}"));
            }
        }

        HttpReport.Print(results, maxRss, storeCallsDuringHits, startups);
        return 0;
    }

    private static Task<ServerProcess> GatewayAsync(string name, IReadOnlyDictionary<string, string> settings)
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
        return ServerProcess.StartAsync(name, typeof(GatewayServices).Assembly.Location, [], environment,
            new Uri($"http://127.0.0.1:{port}/"), "/health/ready");
    }

    private static Task<ServerProcess> StartBaselineAsync()
    {
        var port = ServerProcess.FreePort();
        return ServerProcess.StartAsync("baseline", typeof(HttpBenchmark).Assembly.Location,
            ["http-baseline-server", "--port", port.ToString(CultureInfo.InvariantCulture)], new Dictionary<string, string>(),
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

    /// <summary>One query per hit player, so the rounds that follow find every answer cached and fresh.</summary>
    private static async Task WarmHitsAsync(HttpClient gateway, IReadOnlyList<string> bodies) =>
        await Parallel.ForEachAsync(bodies, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (body, ct) =>
        {
            using var response = await gateway.PostAsync(QueryPath, new StringContent(body, System.Text.Encoding.UTF8, "application/json"), ct);
            response.EnsureSuccessStatusCode();
        });

    /// <summary>Store calls the gateway's embedded emulator has answered so far.</summary>
    private static async Task<long> StoreCallsAsync(HttpClient gateway)
    {
        var stats = await gateway.GetFromJsonAsync<JsonObject>("/emulator/stats");
        return stats!["queries"]!.AsObject().Sum(q => q.Value!.GetValue<long>());
    }

    private static async Task<long> SampleMaxRssAsync(ServerProcess process, CancellationToken stop)
    {
        long max = 0;
        while (!stop.IsCancellationRequested)
        {
            max = Math.Max(max, process.RssBytes());
            try { await Task.Delay(100, stop); }
            catch (OperationCanceledException) { break; }
        }
        return Math.Max(max, process.RssBytes());
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
