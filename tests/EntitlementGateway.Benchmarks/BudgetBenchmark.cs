using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using EntitlementGateway.Budget;
using EntitlementGateway.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using StackExchange.Redis;
using EntitlementGateway.Infrastructure.Redis;

namespace EntitlementGateway.Benchmarks;

/// <summary>
/// Decisions per second of <see cref="RedisUserBudget"/> against a loopback redis-server, next to redis-benchmark's INCR
/// on the same server, plus Redis commands per decision from INFO commandstats. Bounded by time and by count.
/// </summary>
internal static partial class BudgetBenchmark
{
    // Commands the acquire script runs inside one EVALSHA; anything else would be an extra round trip.
    private static readonly HashSet<string> InsideScript = ["time", "zremrangebyscore", "zcard", "zrange", "get", "zadd", "pexpire"];

    public static async Task<int> RunAsync(BenchmarkArguments arguments)
    {
        await using var ownServer = arguments.Redis is null ? await RedisProcess.StartAsync() : null;
        var endpoint = arguments.Redis ?? $"127.0.0.1:{ownServer!.Port}";
        var connectionString = endpoint + (arguments.Password is null ? string.Empty : $",password={arguments.Password}");
        var (host, port) = SplitEndpoint(endpoint);
        if (!IsLoopback(host))
        {
            Console.Error.WriteLine($"refusing non-loopback Redis {host}: this benchmark only runs against a local server.");
            return 2;
        }

        Console.WriteLine($"redis            {endpoint} ({(ownServer is null ? "given" : "started for this run")})");
        Console.WriteLine($"budget           limit 100 / 300 s, {arguments.Users:N0} user keys, {arguments.Concurrency} concurrent loops, {arguments.Seconds} s");

        var incr = await RunRedisBenchmarkAsync(host, port, arguments.Password, pipeline: 1);

        // StackExchange.Redis pipelines every caller's command over one socket; redis-benchmark's plain run does not, so
        // a pipelined INCR run is the fairer ceiling.
        var incrPipelined = await RunRedisBenchmarkAsync(host, port, arguments.Password, pipeline: 16);

        var redis = new RedisOptions { ConnectionString = connectionString, OperationTimeoutMs = 2_000 };
        await using var connection = new RedisConnection(Options.Create(redis));
        var budget = new RedisUserBudget(
            connection, Options.Create(new BudgetOptions()), Options.Create(redis), TimeProvider.System, NullLogger<RedisUserBudget>.Instance);
        await budget.WarmUpAsync();
        using var admin = await ConnectionMultiplexer.ConnectAsync(connectionString + ",allowAdmin=true");
        var server = admin.GetServer(admin.GetEndPoints()[0]);

        var before = await CommandCallsAsync(server);
        var result = await RunLoopsAsync(budget, arguments);
        var delta = Delta(before, await CommandCallsAsync(server));

        var decisions = result.Allowed + result.Denied;
        var perSecond = decisions / result.Elapsed.TotalSeconds;
        var topLevel = delta.Where(p => !InsideScript.Contains(p.Key) && p.Key != "info").Sum(p => p.Value);
        var all = delta.Where(p => p.Key != "info").Sum(p => p.Value);
        Console.WriteLine($"decisions        {decisions:N0} in {result.Elapsed.TotalSeconds:F1} s ({result.Allowed:N0} allowed, {result.Denied:N0} denied, {result.Errors:N0} errors)");
        Console.WriteLine($"decisions/s      {perSecond:N0}");
        Console.WriteLine($"latency          p50 {result.P50.TotalMilliseconds:F3} ms, p99 {result.P99.TotalMilliseconds:F3} ms, max {result.Max.TotalMilliseconds:F3} ms");
        Console.WriteLine($"INCR baseline    {(incr is null ? "n/a" : incr.Value.ToString("N0", CultureInfo.InvariantCulture))} req/s (redis-benchmark -t incr -n 200000 -q, its default 50 clients)");
        Console.WriteLine($"INCR pipelined   {(incrPipelined is null ? "n/a" : incrPipelined.Value.ToString("N0", CultureInfo.InvariantCulture))} req/s (same, -P 16)");
        if (incr is { } baseline)
        {
            Console.WriteLine($"ratio            {perSecond / baseline:P1} of INCR" +
                              (incrPipelined is { } p ? $", {perSecond / p:P1} of pipelined INCR" : string.Empty));
        }

        Console.WriteLine($"commands/dec.    {topLevel / (double)decisions:F3} sent by the client (evalsha {delta.GetValueOrDefault("evalsha"):N0}), " +
                          $"{all / (double)decisions:F2} executed by Redis incl. inside the script");
        // Connection upkeep (heartbeat PING, ECHO, SUBSCRIBE, the tie-breaker GET) also shows here; it is not per decision.
        Console.WriteLine("commandstats Δ   " + string.Join(", ", delta.OrderByDescending(p => p.Value).Select(p => $"{p.Key}={p.Value:N0}")));
        return 0;
    }

    private sealed record LoopResult(long Allowed, long Denied, long Errors, TimeSpan Elapsed, TimeSpan P50, TimeSpan P99, TimeSpan Max);

    private static async Task<LoopResult> RunLoopsAsync(RedisUserBudget budget, BenchmarkArguments arguments)
    {
        var deadline = TimeSpan.FromSeconds(arguments.Seconds);
        var perLoopCap = Math.Max(1, arguments.MaxDecisions / arguments.Concurrency);
        long allowed = 0, denied = 0, errors = 0;
        var clock = Stopwatch.StartNew();
        var loops = Enumerable.Range(0, arguments.Concurrency).Select(loop => Task.Run(async () =>
        {
            var latencies = new List<long>(1 << 16);
            var random = new Random(loop);
            while (clock.Elapsed < deadline && latencies.Count < perLoopCap)
            {
                var user = "bench-" + random.Next(arguments.Users).ToString(CultureInfo.InvariantCulture);
                var started = Stopwatch.GetTimestamp();
                try
                {
                    var decision = await budget.TryAcquireAsync(user);
                    Interlocked.Increment(ref decision.Allowed ? ref allowed : ref denied);
                }
                catch (BudgetUnavailableException)
                {
                    Interlocked.Increment(ref errors);
                }

                latencies.Add(Stopwatch.GetTimestamp() - started);
            }

            return latencies;
        })).ToArray();

        var all = (await Task.WhenAll(loops)).SelectMany(l => l).ToArray();
        var elapsed = clock.Elapsed;
        Array.Sort(all);
        TimeSpan At(double q) => all.Length == 0 ? TimeSpan.Zero : Stopwatch.GetElapsedTime(0, all[(int)Math.Min(all.Length - 1, q * all.Length)]);
        return new LoopResult(allowed, denied, errors, elapsed, At(0.50), At(0.99), At(1));
    }

    private static async Task<double?> RunRedisBenchmarkAsync(string host, int port, string? password, int pipeline)
    {
        var start = new ProcessStartInfo("redis-benchmark") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        var argumentList = new List<string> { "-h", host, "-p", port.ToString(CultureInfo.InvariantCulture), "-t", "incr", "-n", "200000", "-q" };
        if (pipeline > 1)
        {
            argumentList.AddRange(["-P", pipeline.ToString(CultureInfo.InvariantCulture)]);
        }

        if (password is not null)
        {
            argumentList.AddRange(["-a", password]);
        }

        argumentList.ForEach(start.ArgumentList.Add);
        try
        {
            using var process = Process.Start(start)!;
            var output = await process.StandardOutput.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
            await process.WaitForExitAsync(timeout.Token);
            var match = RequestsPerSecond().Matches(output).LastOrDefault();
            return match is null ? null : double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
        }
        catch (System.ComponentModel.Win32Exception)
        {
            Console.Error.WriteLine("redis-benchmark not found (Debian package redis-tools): no baseline.");
            return null;
        }
    }

    [GeneratedRegex(@"INCR: ([0-9.]+) requests per second")]
    private static partial Regex RequestsPerSecond();

    private static async Task<Dictionary<string, long>> CommandCallsAsync(IServer server)
    {
        var calls = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var pair in (await server.InfoAsync("commandstats")).SelectMany(g => g))
        {
            if (pair.Key.StartsWith("cmdstat_", StringComparison.Ordinal))
            {
                var field = pair.Value.Split(',').First(p => p.StartsWith("calls=", StringComparison.Ordinal));
                calls[pair.Key["cmdstat_".Length..]] = long.Parse(field["calls=".Length..], CultureInfo.InvariantCulture);
            }
        }

        return calls;
    }

    private static Dictionary<string, long> Delta(Dictionary<string, long> before, Dictionary<string, long> after) =>
        after.Select(p => (p.Key, Calls: p.Value - before.GetValueOrDefault(p.Key)))
            .Where(p => p.Calls != 0)
            .ToDictionary(p => p.Key, p => p.Calls, StringComparer.Ordinal);

    private static (string Host, int Port) SplitEndpoint(string endpoint)
    {
        var colon = endpoint.LastIndexOf(':');
        return colon < 0 ? (endpoint, 6379) : (endpoint[..colon], int.Parse(endpoint[(colon + 1)..], CultureInfo.InvariantCulture));
    }

    private static bool IsLoopback(string host) =>
        host is "localhost" || (System.Net.IPAddress.TryParse(host, out var ip) && System.Net.IPAddress.IsLoopback(ip));
}
