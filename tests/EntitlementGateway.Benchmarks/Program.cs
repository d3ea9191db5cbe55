using EntitlementGateway.Benchmarks;

// dotnet run -c Release --project tests/EntitlementGateway.Benchmarks -- budget [--redis host:port] [--seconds 10] [--concurrency 32]
if (args.Length == 0 || args[0] != "budget")
{
    Console.Error.WriteLine("usage: budget [--redis host:port] [--password p] [--seconds 10] [--concurrency 32] [--users 100000] [--max-decisions 20000000]");
    return 2;
}

return await BudgetBenchmark.RunAsync(BenchmarkArguments.Parse(args.AsSpan(1)));
