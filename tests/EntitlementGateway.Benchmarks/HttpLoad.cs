using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;

namespace EntitlementGateway.Benchmarks;

/// <summary>What one load round drives: POSTs to <see cref="Url"/>, the bodies taken in turn, with these headers.</summary>
internal sealed record LoadTarget(string Name, Uri Url, IReadOnlyList<string> Bodies, IReadOnlyDictionary<string, string> Headers);

/// <summary>One round's figures. Errors: any answer that is not 2xx, and socket errors or timeouts.</summary>
internal sealed record LoadResult(long Requests, long Errors, double RequestsPerSecond, double P50Ms, double P99Ms)
{
    /// <summary>CPU time the server behind the target used per request in the round, in microseconds.</summary>
    public double CpuUsPerRequest { get; init; }

    /// <summary>CPU time the server's own upstream (the emulator behind a miss) used per request in the round.</summary>
    public double UpstreamCpuUsPerRequest { get; init; }

    /// <summary>Largest resident set of the server seen during the round (cache-hit rounds only).</summary>
    public long MaxRssBytes { get; init; }

    /// <summary>Median of the resident set sampled through the round (cache-hit rounds only): the steady size, where the
    /// maximum also catches the GC's high-water mark from the warm-up burst just before the round.</summary>
    public long MedianRssBytes { get; init; }

    /// <summary>The server's resident memory by part as the round's load ended (null when /proc cannot tell).</summary>
    public RssParts? Parts { get; init; }

    /// <summary>Store calls the server made during the round (cache-hit rounds only: 0 means every answer came from the cache).</summary>
    public long StoreCalls { get; init; }
}

/// <summary>
/// Closed-loop HTTP load for a fixed time on loopback: <c>wrk</c> (one thread, N connections) when it is installed,
/// else a C# loop of N concurrent requests over N pooled connections (it shares the machine's cores with the servers,
/// so it is the weaker yardstick: compare ratios from one run).
/// </summary>
internal static class HttpLoad
{
    public static bool WrkInstalled { get; } = FindOnPath("wrk") is not null;

    public static Task<LoadResult> RunAsync(LoadTarget target, TimeSpan duration, int connections, bool useWrk) =>
        useWrk ? WrkAsync(target, duration, connections) : LoopAsync(target, duration, connections);

    private static async Task<LoadResult> WrkAsync(LoadTarget target, TimeSpan duration, int connections)
    {
        var bodies = Path.GetTempFileName();
        var script = Path.ChangeExtension(Path.GetTempFileName(), ".lua");
        try
        {
            await File.WriteAllLinesAsync(bodies, target.Bodies);
            await File.WriteAllTextAsync(script, WrkScript(bodies, target.Headers));
            var info = new ProcessStartInfo("wrk", ["-t1", $"-c{connections}", $"-d{(int)duration.TotalSeconds}s", "--timeout", "10s",
                "-s", script, target.Url.ToString()])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            using var wrk = Process.Start(info) ?? throw new InvalidOperationException("wrk did not start");
            var output = wrk.StandardOutput.ReadToEndAsync();
            var error = wrk.StandardError.ReadToEndAsync();
            await wrk.WaitForExitAsync();
            var line = (await output).Split('\n').FirstOrDefault(l => l.StartsWith("EGBENCH ", StringComparison.Ordinal))
                ?? throw new InvalidOperationException($"wrk printed no result: {await output} {await error}");
            var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1)
                .Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray();
            // requests, status errors, socket errors, p50 us, p99 us, duration us
            return new LoadResult((long)f[0], (long)(f[1] + f[2]), f[0] / (f[5] / 1e6), f[3] / 1000, f[4] / 1000);
        }
        finally
        {
            File.Delete(bodies);
            File.Delete(script);
        }
    }

    private static string WrkScript(string bodiesFile, IReadOnlyDictionary<string, string> headers)
    {
        var lua = new StringBuilder();
        lua.Append("local bodies = {}\n");
        lua.Append(CultureInfo.InvariantCulture, $"for line in io.lines(\"{bodiesFile}\") do bodies[#bodies + 1] = line end\n");
        lua.Append("local headers = { [\"Content-Type\"] = \"application/json\"");
        foreach (var (name, value) in headers) lua.Append(CultureInfo.InvariantCulture, $", [\"{name}\"] = \"{value}\"");
        lua.Append(" }\n");
        lua.Append("local i = 0\n");
        lua.Append("request = function()\n  i = i % #bodies + 1\n  return wrk.format(\"POST\", nil, headers, bodies[i])\nend\n");
        lua.Append("done = function(summary, latency, requests)\n  local e = summary.errors\n");
        lua.Append("  io.write(string.format(\"EGBENCH %.0f %.0f %.0f %.0f %.0f %.0f\\n\", summary.requests, e.status, ");
        lua.Append("e.connect + e.read + e.write + e.timeout, latency:percentile(50), latency:percentile(99), summary.duration))\nend\n");
        return lua.ToString();
    }

    private static async Task<LoadResult> LoopAsync(LoadTarget target, TimeSpan duration, int connections)
    {
        var handler = new SocketsHttpHandler
        {
            MaxConnectionsPerServer = connections,
            // The emulator's self-signed certificate: loopback only, and this is a load generator, not a client of record.
            SslOptions = { RemoteCertificateValidationCallback = (_, _, _, _) => true },
        };
        using var client = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(10) };
        var bodies = target.Bodies.Select(b => Encoding.UTF8.GetBytes(b)).ToArray();
        var json = new MediaTypeHeaderValue("application/json");
        var next = -1;
        var stop = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, connections).Select(_ => Task.Run(async () =>
        {
            var latencies = new List<double>(1 << 16);
            long errors = 0;
            while (stop.Elapsed < duration)
            {
                var body = bodies[(int)((uint)Interlocked.Increment(ref next) % (uint)bodies.Length)];
                using var request = new HttpRequestMessage(HttpMethod.Post, target.Url) { Content = new ByteArrayContent(body) };
                request.Content.Headers.ContentType = json;
                foreach (var (name, value) in target.Headers) request.Headers.TryAddWithoutValidation(name, value);
                var sent = Stopwatch.GetTimestamp();
                try
                {
                    using var response = await client.SendAsync(request);
                    await response.Content.CopyToAsync(Stream.Null);
                    if (!response.IsSuccessStatusCode) errors++;
                }
                catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
                {
                    errors++;
                }
                latencies.Add(Stopwatch.GetElapsedTime(sent).TotalMilliseconds);
            }
            return (latencies, errors);
        })).ToArray();
        var results = await Task.WhenAll(workers);
        var elapsed = stop.Elapsed.TotalSeconds;
        var all = results.SelectMany(r => r.latencies).Order().ToArray();
        return new LoadResult(all.Length, results.Sum(r => r.errors), all.Length / elapsed, Percentile(all, 0.50), Percentile(all, 0.99));
    }

    public static double Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? 0 : sorted[Math.Min(sorted.Length - 1, (int)(p * sorted.Length))];

    private static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, name)).FirstOrDefault(File.Exists);
}
