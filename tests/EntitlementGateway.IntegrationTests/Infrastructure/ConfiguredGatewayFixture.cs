using EntitlementGateway.Emulator;

namespace EntitlementGateway.IntegrationTests.Infrastructure;

/// <summary>A gateway and its own emulator (faults are global to an emulator), configured per test class.</summary>
public abstract class ConfiguredGatewayFixture : LiveGatewayFixture
{
    protected override EmulatorOptions EmulatorOptions => new();
}
