using System.Globalization;

namespace EntitlementGateway.Benchmarks;

internal sealed record BenchmarkArguments(string? Redis, string? Password, int Seconds, int Concurrency, int Users, long MaxDecisions)
{
    public static BenchmarkArguments Parse(ReadOnlySpan<string> args)
    {
        var result = new BenchmarkArguments(null, null, 10, 32, 100_000, 20_000_000);
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            var value = args[i + 1];
            result = args[i] switch
            {
                "--redis" => result with { Redis = value },
                "--password" => result with { Password = value },
                "--seconds" => result with { Seconds = Math.Clamp(int.Parse(value, CultureInfo.InvariantCulture), 1, 300) },
                "--concurrency" => result with { Concurrency = Math.Clamp(int.Parse(value, CultureInfo.InvariantCulture), 1, 1024) },
                "--users" => result with { Users = Math.Max(1, int.Parse(value, CultureInfo.InvariantCulture)) },
                "--max-decisions" => result with { MaxDecisions = Math.Max(1, long.Parse(value, CultureInfo.InvariantCulture)) },
                _ => throw new ArgumentException($"unknown option {args[i]}"),
            };
        }

        return result;
    }
}
