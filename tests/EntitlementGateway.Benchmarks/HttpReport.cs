using System.Globalization;

namespace EntitlementGateway.Benchmarks;

/// <summary>The <c>http</c> benchmark's summary: medians over rounds, the ratios of each round, and the goals.</summary>
internal static class HttpReport
{
    public const double HitRatioGoal = 0.75;
    public const double HitP99GoalMs = 3;
    public const double MissRatioGoal = 0.6;
    public const long RssGoalBytes = 150L * 1024 * 1024;
    public static readonly TimeSpan StartupGoal = TimeSpan.FromSeconds(1.5);

    public static void Print(IReadOnlyDictionary<string, List<LoadResult>> results, long maxRss, long storeCallsDuringHits, IReadOnlyList<TimeSpan> startups)
    {
        Console.WriteLine();
        Console.WriteLine("median of rounds     requests/s   p50 ms   p99 ms   errors   server CPU us/request");
        foreach (var (name, rounds) in results)
            Console.WriteLine(Invariant($"{name,-18} {Median(rounds, r => r.RequestsPerSecond),12:F0} {Median(rounds, r => r.P50Ms),8:F2} {Median(rounds, r => r.P99Ms),8:F2} {rounds.Sum(r => r.Errors),8} {Median(rounds, r => r.CpuUsPerRequest),12:F1}"));

        var hitRatios = Ratios(results["cache hit"], results["baseline"]);
        var missRatios = Ratios(results["miss via emulator"], results["emulator alone"]);
        var hitP99 = Median(results["cache hit"], r => r.P99Ms);
        var startup = startups.Order().ElementAt(startups.Count / 2);
        // When the load generator and other work share the cores, CPU per request moves less than requests/s does.
        var cpuRatio = Median(results["baseline"], r => r.CpuUsPerRequest) / Math.Max(0.001, Median(results["cache hit"], r => r.CpuUsPerRequest));
        Console.WriteLine(Invariant($"server CPU per request, baseline / cache hit: {cpuRatio:F2} (the hit ratio a CPU-bound machine would show)"));
        Console.WriteLine(Invariant($"Store calls during the cache-hit rounds: {storeCallsDuringHits} (0: every measured answer came from the cache)"));
        Console.WriteLine();
        Console.WriteLine("goal                                   measured                                  target     met");
        Goal("cache hit / baseline requests/s", Invariant($"{hitRatios.Median:F2} (rounds {hitRatios.Each})"), Invariant($">= {HitRatioGoal:F2}"), hitRatios.Median >= HitRatioGoal);
        Goal("cache hit p99", Invariant($"{hitP99:F2} ms"), Invariant($"<= {HitP99GoalMs} ms"), hitP99 <= HitP99GoalMs);
        Goal("miss / emulator alone requests/s", Invariant($"{missRatios.Median:F2} (rounds {missRatios.Each})"), Invariant($">= {MissRatioGoal:F2}"), missRatios.Median >= MissRatioGoal);
        Goal("gateway RSS under hit load", Invariant($"{maxRss / 1024.0 / 1024:F0} MB (max)"), "<= 150 MB", maxRss <= RssGoalBytes);
        Goal("start-up to ready (embedded defaults)", Invariant($"{startup.TotalSeconds:F2} s (median of {string.Join(", ", startups.Select(s => s.TotalSeconds.ToString("F2", CultureInfo.InvariantCulture)))})"),
            "<= 1.5 s", startup <= StartupGoal);
        var errors = results.Values.Sum(r => r.Sum(x => x.Errors));
        if (errors > 0) Console.WriteLine($"WARNING: {errors} requests failed; their rounds do not measure what they name.");
    }

    private static void Goal(string name, string measured, string target, bool met) =>
        Console.WriteLine($"{name,-38} {measured,-41} {target,-10} {(met ? "yes" : "NO")}");

    private static (double Median, string Each) Ratios(List<LoadResult> over, List<LoadResult> under)
    {
        var each = over.Zip(under, (o, u) => u.RequestsPerSecond == 0 ? 0 : o.RequestsPerSecond / u.RequestsPerSecond).ToList();
        return (Median(each, r => r), string.Join(" ", each.Select(r => r.ToString("F2", CultureInfo.InvariantCulture))));
    }

    private static double Median<T>(IEnumerable<T> values, Func<T, double> of)
    {
        var sorted = values.Select(of).Order().ToArray();
        return sorted.Length == 0 ? 0 : sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
