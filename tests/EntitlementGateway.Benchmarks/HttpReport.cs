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

    public static void Print(IReadOnlyDictionary<string, List<LoadResult>> results, IReadOnlyList<TimeSpan> startups)
    {
        Console.WriteLine();
        Console.WriteLine("median of rounds             requests/s   p50 ms   p99 ms   errors   server CPU us/request   RSS MB max / median   Store calls");
        foreach (var (name, rounds) in results)
            Console.WriteLine(Invariant($"{name,-26} {Median(rounds, r => r.RequestsPerSecond),12:F0} {Median(rounds, r => r.P50Ms),8:F2} {Median(rounds, r => r.P99Ms),8:F2} {rounds.Sum(r => r.Errors),8} {Median(rounds, r => r.CpuUsPerRequest),12:F1} {rounds.Max(r => r.MaxRssBytes) / 1048576.0,22:F0} / {Median(rounds, r => r.MedianRssBytes) / 1048576.0,6:F0} {rounds.Sum(r => r.StoreCalls),13}"));
        Console.WriteLine("(Store calls: made during the cache-hit rounds; 0 means every measured answer came from the cache)");

        var baseline = results[HttpBenchmark.BaselineName];
        var emulator = results[HttpBenchmark.EmulatorName];
        var hit = results[HttpBenchmark.HitName];
        var hitRatios = Ratios(hit, baseline);
        var missRatios = Ratios(results[HttpBenchmark.MissName], emulator);
        var hitP99 = Median(hit, r => r.P99Ms);
        var maxRss = hit.Max(r => r.MaxRssBytes);
        var hitLive = results[HttpBenchmark.HitLiveName];
        var maxRssLive = hitLive.Max(r => r.MaxRssBytes);
        var steady = Median(hit, r => r.MedianRssBytes) / 1048576.0;
        var steadyLive = Median(hitLive, r => r.MedianRssBytes) / 1048576.0;
        var startup = startups.Order().ElementAt(startups.Count / 2);
        Console.WriteLine();
        Console.WriteLine("goal                                   measured                                  target     met");
        Goal("cache hit / baseline requests/s", Invariant($"{hitRatios.Median:F2} (rounds {hitRatios.Each})"), Invariant($">= {HitRatioGoal:F2}"), hitRatios.Median >= HitRatioGoal);
        Goal("cache hit p99", Invariant($"{hitP99:F2} ms"), Invariant($"<= {HitP99GoalMs} ms"), hitP99 <= HitP99GoalMs);
        Goal("miss / emulator alone requests/s", Invariant($"{missRatios.Median:F2} (rounds {missRatios.Each})"), Invariant($">= {MissRatioGoal:F2}"), missRatios.Median >= MissRatioGoal);
        Goal("gateway RSS under hit load", Invariant($"{maxRss / 1048576.0:F0} MB max, {steady:F0} median (embedded)"), "<= 150 MB", maxRss <= RssGoalBytes);
        // The replica as deployed: the Store in another process, so the emulator's players are not in the gateway's heap.
        Goal("  the same, Live (as deployed)", Invariant($"{maxRssLive / 1048576.0:F0} MB max, {steadyLive:F0} median"), "<= 150 MB", maxRssLive <= RssGoalBytes);
        // What the runtime alone holds under the same load: the bare minimal API, Server GC, nothing of the gateway's.
        Console.WriteLine(Invariant($"  the bare baseline, for scale: {baseline.Max(r => r.MaxRssBytes) / 1048576.0:F0} MB max, {Median(baseline, r => r.MedianRssBytes) / 1048576.0:F0} median"));
        // Where the resident memory is, as the last round's load ended: what a smaller RSS would have to come from.
        foreach (var (label, rounds) in new[] { ("baseline", baseline), ("cache hit", hit), ("cache hit, Live", hitLive) })
            if (rounds.LastOrDefault()?.Parts is { } parts) Console.WriteLine($"  {label + ",",-17} by part: {parts.Describe()}");
        Goal("start-up to ready (embedded defaults)", Invariant($"{startup.TotalSeconds:F2} s (median of {string.Join(", ", startups.Select(s => s.TotalSeconds.ToString("F2", CultureInfo.InvariantCulture)))})"),
            "<= 1.5 s", startup <= StartupGoal);
        // When the load generator and other work share the cores, CPU per request moves less than requests/s does.
        Console.WriteLine(Invariant($"server CPU per request, baseline / cache hit: {CpuRatio(baseline, hit):F2} (the hit ratio a CPU-bound machine would show)"));
        var liveRatios = Ratios(hitLive, baseline);
        Console.WriteLine(Invariant($"cache hit, Live / baseline requests/s: {liveRatios.Median:F2} (rounds {liveRatios.Each}), p99 {Median(hitLive, r => r.P99Ms):F2} ms"));

        if (results.TryGetValue(HttpBenchmark.HitName + " (compare)", out var otherHit) && results.TryGetValue(HttpBenchmark.MissName + " (compare)", out var otherMiss))
        {
            var other = Ratios(otherHit, baseline);
            var otherMissRatios = Ratios(otherMiss, emulator);
            Console.WriteLine();
            Console.WriteLine(Invariant($"compare build: cache hit / baseline {other.Median:F2} (rounds {other.Each}), CPU ratio {CpuRatio(baseline, otherHit):F2}, p99 {Median(otherHit, r => r.P99Ms):F2} ms, RSS {Rss(otherHit)}"));
            Console.WriteLine(Invariant($"               miss / emulator alone {otherMissRatios.Median:F2} (rounds {otherMissRatios.Each})"));
            if (results.TryGetValue(HttpBenchmark.HitLiveName + " (compare)", out var otherLive))
            {
                Console.WriteLine(Invariant($"               cache hit, Live: RSS {Rss(otherLive)}, / baseline {Ratios(otherLive, baseline).Median:F2}"));
                if (otherLive.LastOrDefault()?.Parts is { } parts) Console.WriteLine($"               cache hit, Live, by part: {parts.Describe()}");
            }
        }
        var errors = results.Values.Sum(r => r.Sum(x => x.Errors));
        if (errors > 0) Console.WriteLine($"WARNING: {errors} requests failed; their rounds do not measure what they name.");
    }

    private static string Rss(List<LoadResult> rounds) =>
        Invariant($"{rounds.Max(r => r.MaxRssBytes) / 1048576.0:F0} MB max, {Median(rounds, r => r.MedianRssBytes) / 1048576.0:F0} median");

    private static double CpuRatio(List<LoadResult> baseline, List<LoadResult> other) =>
        Median(baseline, r => r.CpuUsPerRequest) / Math.Max(0.001, Median(other, r => r.CpuUsPerRequest));

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
