using System.Globalization;

namespace EntitlementGateway.Benchmarks;

/// <summary>The launch storm's shape; every value is clamped so a run stays bounded in time and count.</summary>
internal sealed record StormArguments(int Players, int QueriesPerPlayer, int Seconds, double FailureRate, int StoreLatencyMs, int Concurrency)
{
    public static StormArguments Parse(ReadOnlySpan<string> args)
    {
        var result = new StormArguments(200, 10, 60, 0.10, 20, 256);
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            var value = args[i + 1];
            result = args[i] switch
            {
                "--players" => result with { Players = Math.Clamp(Int(value), 1, 2_000) },
                "--queries" => result with { QueriesPerPlayer = Math.Clamp(Int(value), 1, 50) },
                "--seconds" => result with { Seconds = Math.Clamp(Int(value), 1, 120) },
                "--failure-rate" => result with { FailureRate = Math.Clamp(double.Parse(value, CultureInfo.InvariantCulture), 0, 1) },
                "--store-latency-ms" => result with { StoreLatencyMs = Math.Clamp(Int(value), 0, 2_000) },
                "--concurrency" => result with { Concurrency = Math.Clamp(Int(value), 1, 1_024) },
                _ => throw new ArgumentException($"unknown option {args[i]}"),
            };
        }
        return result;
    }

    private static int Int(string value) => int.Parse(value, CultureInfo.InvariantCulture);
}
