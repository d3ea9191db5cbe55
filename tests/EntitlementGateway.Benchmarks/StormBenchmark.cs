using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using EntitlementGateway.Emulator;

namespace EntitlementGateway.Benchmarks;

/// <summary>
/// A scripted launch storm against the gateway and the Store emulator, both on loopback: N players each send Q identical
/// queries (products in a random order) at random instants within a window, while the Store fails a share of calls with
/// 500. Run once without and once with the result cache; print upstream calls and what clients saw. Asserts nothing.
/// </summary>
internal static class StormBenchmark
{
    private static readonly string[] Products = ["9N30KZZF4BR9", "9MXL21XPWWWK", "9PDLC0000001"];

    public static async Task<int> RunAsync(StormArguments a)
    {
        Console.WriteLine($"storm            {a.Players} players x {a.QueriesPerPlayer} queries within {a.Seconds} s; Store fails {a.FailureRate:P0} of calls with 500, answers in {a.StoreLatencyMs} ms");
        Console.WriteLine($"gateway          Resilience defaults (3 s per attempt, 10 s total, circuit at 50 % of >= 20 calls in 30 s); budget 100 / 300 s per player");
        Console.WriteLine();
        Console.WriteLine("run                     requests  upstream-calls  per-player  200-upstream  200-cache  200-stale  errors  (by code)                  max-calls-in-window  store-429s  p50 ms  p99 ms");
        // The gateway before this change (no retries, no cache), with retries only, and with retries and the cache.
        foreach (var (name, cache, retries) in new[] { ("no cache, no retries", false, 0), ("no cache, retries", false, 2), ("cache and retries", true, 2) })
        {
            var r = await RunOnceAsync(a, cache, retries);
            Console.WriteLine($"{name,-22} {r.Requests,8}  {r.UpstreamCalls,14}  {r.UpstreamCalls / (double)a.Players,10:F2}  {r.Upstream,12}  {r.Cache,9}  {r.Stale,9}  {r.Errors,6}  {r.ErrorCodes,-25} {r.MaxInWindow,19}  {r.StoreRateLimited,10}  {r.P50,6:F0}  {r.P99,6:F0}");
        }
        return 0;
    }

    private sealed record Result(int Requests, long UpstreamCalls, int Upstream, int Cache, int Stale, int Errors, string ErrorCodes,
        int MaxInWindow, long StoreRateLimited, double P50, double P99);

    private static async Task<Result> RunOnceAsync(StormArguments a, bool cache, int retries)
    {
        await using var emulator = await EmulatorServer.StartAsync(new EmulatorOptions { LatencyMs = a.StoreLatencyMs });
        await using var gateway = await StartGatewayAsync(emulator, cache, retries);
        using var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = a.Concurrency })
        {
            BaseAddress = gateway.Address,
            Timeout = TimeSpan.FromSeconds(30),
        };

        var players = Enumerable.Range(0, a.Players).Select(i => $"storm-{i}").ToArray();
        var ucids = new Dictionary<string, string>();
        foreach (var player in players)
        {
            emulator.State.SeedEntitlements(player, [Item(Products[0]), Item(Products[1])]);
            ucids[player] = emulator.State.MintUserCollectionsId(player);
        }
        emulator.State.Faults = new FaultSettings { FailureRate = a.FailureRate, FailureStatus = 500 };

        // The script: every (player, query) at a random instant inside the window; fixed seed so runs compare.
        var random = new Random(2026);
        var schedule = players.SelectMany(p => Enumerable.Range(0, a.QueriesPerPlayer)
                .Select(_ => (Player: p, At: TimeSpan.FromMilliseconds(random.NextDouble() * a.Seconds * 1000), Order: random.Next())))
            .OrderBy(s => s.At).ToArray();

        using var gate = new SemaphoreSlim(a.Concurrency);
        var started = Stopwatch.StartNew();
        var outcomes = await Task.WhenAll(schedule.Select(async s =>
        {
            var wait = s.At - started.Elapsed;
            if (wait > TimeSpan.Zero) await Task.Delay(wait);
            await gate.WaitAsync();
            try
            {
                var products = Products.OrderBy(p => HashCode.Combine(p, s.Order)).Select(p => new { productId = p }).ToArray();
                var sent = Stopwatch.GetTimestamp();
                using var response = await client.PostAsJsonAsync("/v1/entitlements/query", new { userCollectionsId = ucids[s.Player], products });
                var body = await response.Content.ReadFromJsonAsync<JsonObject>();
                var what = response.IsSuccessStatusCode ? body?["servedFrom"]?.GetValue<string>() ?? "?" : "error:" + body?["code"]?.GetValue<string>();
                return (What: what, Ms: Stopwatch.GetElapsedTime(sent).TotalMilliseconds);
            }
            finally
            {
                gate.Release();
            }
        }));

        var latencies = outcomes.Select(o => o.Ms).Order().ToArray();
        var errors = outcomes.Where(o => o.What.StartsWith("error:", StringComparison.Ordinal)).ToArray();
        return new Result(
            outcomes.Length,
            emulator.State.FaultsInjected + emulator.State.QueriesByUser.Values.Sum(),
            outcomes.Count(o => o.What == "upstream"),
            outcomes.Count(o => o.What == "cache"),
            outcomes.Count(o => o.What == "stale"),
            errors.Length,
            string.Join(",", errors.GroupBy(e => e.What[6..]).Select(g => $"{g.Key}={g.Count()}")),
            players.Max(p => emulator.State.MaxCallsInAnyWindow(p)),
            emulator.State.RateLimitedCount,
            Percentile(latencies, 0.50),
            Percentile(latencies, 0.99));
    }

    private static double Percentile(double[] sorted, double p) => sorted.Length == 0 ? 0 : sorted[Math.Min(sorted.Length - 1, (int)(p * sorted.Length))];

    private static JsonObject Item(string productId) => new()
    {
        ["productId"] = productId, ["skuId"] = "0010", ["productKind"] = "Durable", ["status"] = "Active",
        ["acquisitionType"] = "Single", ["quantity"] = 1,
        ["startDate"] = "2024-01-01T00:00:00Z", ["endDate"] = "9999-12-31T23:59:59Z",
    };

    /// <summary>The gateway composed as Program.cs composes it, on a loopback port, in Live mode against the emulator.</summary>
    /// <summary>The built gateway as its own process (exactly what <c>dotnet run</c> or the image starts), Live against the emulator.</summary>
    private static async Task<RunningGateway> StartGatewayAsync(EmulatorServer emulator, bool cache, int retries)
    {
        var dll = typeof(EntitlementGateway.Hosting.GatewayServices).Assembly.Location;
        var info = new ProcessStartInfo("dotnet", [dll, "--urls", "http://127.0.0.1:0"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(dll)!,
        };
        foreach (var (key, value) in new Dictionary<string, string>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Development",
            ["Store__Mode"] = "Live",
            ["Store__ClientId"] = emulator.Options.ClientId,
            ["Store__ClientSecret"] = emulator.Options.ClientSecret,
            ["Store__Authority"] = emulator.Authority,
            ["Store__CollectionsBaseUrl"] = emulator.CollectionsBaseUrl.ToString(),
            ["Store__TrustedCertificateThumbprint"] = emulator.Certificate.Thumbprint,
            ["ClientLimits__PermitLimit"] = "0",
            ["Cache__Enabled"] = cache ? "true" : "false",
            ["Resilience__MaxRetries"] = retries.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Serilog__MinimumLevel__Default"] = "Warning",
            ["Serilog__MinimumLevel__Override__Microsoft.Hosting.Lifetime"] = "Information",
        })
        {
            info.Environment[key] = value;
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException("the gateway did not start");
        var listening = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null && ListeningLine.Match(e.Data) is { Success: true } match)
                listening.TrySetResult(new Uri(match.Groups[1].Value));
        };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return new RunningGateway(process, await listening.Task.WaitAsync(TimeSpan.FromSeconds(60)));
    }

    private static readonly System.Text.RegularExpressions.Regex ListeningLine = new("Now listening on: \\\\?\"?(http://[^\"\\\\]+)");

    private sealed record RunningGateway(Process Process, Uri Address) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            if (!Process.HasExited)
            {
                Process.Kill(entireProcessTree: true);
                await Process.WaitForExitAsync();
            }
            Process.Dispose();
        }
    }
}
