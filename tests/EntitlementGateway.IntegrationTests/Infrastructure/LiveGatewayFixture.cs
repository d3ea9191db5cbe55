using EntitlementGateway.Emulator;

namespace EntitlementGateway.IntegrationTests.Infrastructure;

/// <summary>One emulator (small pages, so queries span several) and one Live-mode gateway, shared by a test class.</summary>
public class LiveGatewayFixture : IAsyncLifetime
{
    public EmulatorServer Emulator { get; private set; } = null!;
    public GatewayApplication Gateway { get; private set; } = null!;
    public StoreWorld Store { get; private set; } = null!;
    public HttpClient Client { get; private set; } = null!;

    protected virtual IReadOnlyDictionary<string, string?> Overrides => new Dictionary<string, string?>();
    protected virtual EmulatorOptions EmulatorOptions => new() { PageSizeLimit = 3 };

    public async Task InitializeAsync()
    {
        Emulator = await EmulatorServer.StartAsync(EmulatorOptions);
        Store = new StoreWorld(Emulator);
        Gateway = GatewayApplication.Live(Emulator, Overrides);
        Client = Gateway.CreateClient();
    }

    public async Task DisposeAsync()
    {
        Client.Dispose();
        await Gateway.DisposeAsync();
        Store.Dispose();
        await Emulator.DisposeAsync();
    }
}
