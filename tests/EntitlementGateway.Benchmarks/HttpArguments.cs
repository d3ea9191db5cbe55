using System.Globalization;

namespace EntitlementGateway.Benchmarks;

/// <summary>The <c>http</c> benchmark's shape; every value is clamped so a run stays bounded in time and count.</summary>
/// <param name="Seconds">Length of one measured round of one target (at most 45 s: a cached answer stays fresh for 60 s).</param>
/// <param name="Rounds">Rounds; each drives every target once, in turn.</param>
/// <param name="Connections">Concurrent connections (closed loop: one request in flight on each).</param>
/// <param name="Players">Players (UCIDs) whose queries the load takes in turn.</param>
/// <param name="WarmupSeconds">Unmeasured load per target before the first round (tiered JIT, pools); 15 s by default.</param>
/// <param name="Startups">Times the gateway is started on its defaults to time start-up to ready.</param>
/// <param name="Load">wrk, loop (the C# load loop), or auto (wrk when installed).</param>
/// <param name="Compare">Another build's EntitlementGateway.dll, driven as two more targets in the same rounds.</param>
internal sealed record HttpArguments(int Seconds, int Rounds, int Connections, int Players, int WarmupSeconds, int Startups, string Load, string? Compare)
{
    public static HttpArguments Parse(ReadOnlySpan<string> args)
    {
        // 15 s of warm-up: with 3, the miss gateway was still tiering its JIT through round 1 in every run (twice its later
        // CPU per miss), so round 1 measured the JIT rather than the path.
        var result = new HttpArguments(10, 3, 32, 5_000, 15, 3, "auto", null);
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            var value = args[i + 1];
            result = args[i] switch
            {
                "--seconds" => result with { Seconds = Math.Clamp(Int(value), 1, 45) },
                // Each round's warm-up spends one budget unit per hit player (100 per 5 minutes).
                "--rounds" => result with { Rounds = Math.Clamp(Int(value), 1, 10) },
                "--connections" => result with { Connections = Math.Clamp(Int(value), 1, 512) },
                "--players" => result with { Players = Math.Clamp(Int(value), 1, 20_000) },
                "--warmup" => result with { WarmupSeconds = Math.Clamp(Int(value), 0, 30) },
                "--startups" => result with { Startups = Math.Clamp(Int(value), 1, 10) },
                "--load" => value is "auto" or "wrk" or "loop" ? result with { Load = value } : throw new ArgumentException("--load is auto, wrk or loop"),
                "--compare" => File.Exists(value) ? result with { Compare = Path.GetFullPath(value) } : throw new ArgumentException($"--compare: no file {value}"),
                _ => throw new ArgumentException($"unknown option {args[i]}"),
            };
        }
        return result;
    }

    private static int Int(string value) => int.Parse(value, CultureInfo.InvariantCulture);
}
