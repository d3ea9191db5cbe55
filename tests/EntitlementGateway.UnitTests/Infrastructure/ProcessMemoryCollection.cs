namespace EntitlementGateway.UnitTests.Infrastructure;

/// <summary>
/// Tests that measure the process's managed memory, or hold tens of megabytes while they run: run alone, after the
/// parallel ones, so one does not count what another allocates.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessMemoryCollection
{
    public const string Name = "Process memory";
}
