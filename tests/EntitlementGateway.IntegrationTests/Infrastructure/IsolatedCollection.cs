namespace EntitlementGateway.IntegrationTests.Infrastructure;

/// <summary>
/// Tests that measure the whole process (managed heap after a GC) or must finish in a time budget: run alone, after
/// the parallel tests, so other tests' allocations and CPU do not leak into their figures.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class IsolatedCollection
{
    public const string Name = "isolated";
}
