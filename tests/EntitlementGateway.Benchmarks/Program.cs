using EntitlementGateway.Benchmarks;

// dotnet run -c Release --project tests/EntitlementGateway.Benchmarks -- budget [--redis host:port] [--seconds 10] [--concurrency 32]
// dotnet run -c Release --project tests/EntitlementGateway.Benchmarks -- storm [--players 200] [--queries 10] [--seconds 60] [--failure-rate 0.1]
// dotnet run -c Release --project tests/EntitlementGateway.Benchmarks -- http [--seconds 10] [--rounds 3] [--connections 32] [--load auto|wrk|loop] [--compare DLL]
switch (args.Length == 0 ? "" : args[0])
{
    case "budget":
        return await BudgetBenchmark.RunAsync(BenchmarkArguments.Parse(args.AsSpan(1)));
    case "storm":
        return await StormBenchmark.RunAsync(StormArguments.Parse(args.AsSpan(1)));
    case "http":
        return await HttpBenchmark.RunAsync(HttpArguments.Parse(args.AsSpan(1)));
    case "http-baseline-server":
        return await BaselineServer.RunAsync(args.AsSpan(1));
    default:
        Console.Error.WriteLine("usage: budget [--redis host:port] [--password p] [--seconds 10] [--concurrency 32] [--users 100000] [--max-decisions 20000000]");
        Console.Error.WriteLine("       storm [--players 200] [--queries 10] [--seconds 60] [--failure-rate 0.1] [--store-latency-ms 20] [--concurrency 256]");
        Console.Error.WriteLine("       http [--seconds 10] [--rounds 3] [--connections 32] [--players 5000] [--warmup 3] [--startups 3] [--load auto|wrk|loop] [--compare other/EntitlementGateway.dll]");
        return 2;
}
