namespace EntitlementGateway.Emulator;

/// <summary>Runs the Store emulator on its own.</summary>
public static class EmulatorProgram
{
    public static Task Main(string[] args) => Task.CompletedTask;
}
