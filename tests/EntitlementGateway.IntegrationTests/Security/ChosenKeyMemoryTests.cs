using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using EntitlementGateway.Emulator;
using EntitlementGateway.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace EntitlementGateway.IntegrationTests.Security;

/// <summary>
/// Keys chosen by clients must not grow the gateway's memory: 50,000 forged UCIDs, each with its own long userId, go
/// through the real pipeline to the Store (which refuses them), and the managed heap after a full GC stays put.
/// </summary>
[Collection(IsolatedCollection.Name)]
public sealed class ChosenKeyMemoryTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int Ucids = 50_000;
    // The longest userId that keeps the UCID under its 8 KiB cap: 5,600 characters, 11.2 KB as a .NET string.
    private const int UserIdLength = 5_600;
    private const long BoundBytes = 16L * 1024 * 1024;
    private EmulatorServer _emulator = null!;

    public async Task InitializeAsync() => _emulator = await EmulatorServer.StartAsync(new EmulatorOptions());

    public async Task DisposeAsync() => await _emulator.DisposeAsync();

    [Fact]
    public async Task FiftyThousandForgedUcidsWithDistinctLongUserIds_GrowManagedMemoryByLessThan16MiB()
    {
        var gateway = GatewayApplication.Live(_emulator, new Dictionary<string, string?>
        {
            ["ClientLimits:PermitLimit"] = "0", // one test client sends all of them; the limiter has its own memory test
            ["Resilience:MaxRetries"] = "0",
            ["Logging:LogLevel:Default"] = "Error",
        });
        await using var _ = gateway;
        using var client = gateway.CreateClient();
        var clientId = _emulator.Options.ClientId;
        async Task SendAsync(int i)
        {
            var userId = Math.Abs(i).ToString("D8", System.Globalization.CultureInfo.InvariantCulture) + new string((char)('a' + Math.Abs(i) % 26), UserIdLength - 8);
            var body = new JsonObject
            {
                ["userCollectionsId"] = ForgedUcid.For(userId, clientId),
                ["products"] = new JsonArray(new JsonObject { ["productId"] = "9N30KZZF4BR9" }),
            };
            using var response = await client.PostAsync("/v1/entitlements/query", new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"));
            // Refused by the Store, not by the gateway's pre-checks: each one went the whole way. So many different players
            // refused at once also make the gateway suspect its own credentials, which answers such refusals as an outage.
            var text = await response.Content.ReadAsStringAsync();
            Assert.True((response.StatusCode == HttpStatusCode.BadRequest && text.Contains("The Store refused", StringComparison.Ordinal)) ||
                        (response.StatusCode == HttpStatusCode.ServiceUnavailable && text.Contains("refusing many players", StringComparison.Ordinal)),
                $"{response.StatusCode}: {text}");
        }

        for (var i = 0; i < 500; i++) await SendAsync(-1_000_000 - i); // warm up: JIT, connections, token, pools
        var before = ManagedBytesAfterGc();
        var stopwatch = Stopwatch.StartNew();
        await Parallel.ForAsync(0, Ucids, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, _) => await SendAsync(i));
        var elapsed = stopwatch.Elapsed;
        var after = ManagedBytesAfterGc();

        output.WriteLine($"{Ucids} forged UCIDs with {UserIdLength}-character userIds in {elapsed.TotalSeconds:0.0} s: " +
                         $"managed memory {before / 1048576.0:0.0} MiB before, {after / 1048576.0:0.0} MiB after, growth {(after - before) / 1048576.0:0.00} MiB");
        Assert.True(after - before < BoundBytes, $"managed memory grew by {(after - before) / 1048576.0:0.0} MiB");
    }

    private static long ManagedBytesAfterGc()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        return GC.GetTotalMemory(forceFullCollection: true);
    }
}
