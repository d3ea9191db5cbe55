using System.Net;
using EntitlementGateway.Emulator;
using EntitlementGateway.IntegrationTests.Infrastructure;
using EntitlementGateway.Security;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Xunit.Abstractions;

namespace EntitlementGateway.IntegrationTests.Security;

/// <summary>
/// The per-IP limit behind a load balancer. Requests go through the real pipeline with the TCP peer address a test
/// chooses (TestServer sets the connection's remote address), so proxies and clients can be played without a network.
/// </summary>
[Collection(IsolatedCollection.Name)]
public sealed class ClientLimitTests(ITestOutputHelper output) : IAsyncLifetime
{
    private EmulatorServer _emulator = null!;

    public async Task InitializeAsync() => _emulator = await EmulatorServer.StartAsync(new EmulatorOptions());

    public async Task DisposeAsync() => await _emulator.DisposeAsync();

    private GatewayApplication Gateway(Dictionary<string, string?> settings)
    {
        // Many buckets, so two addresses of a test never share one by chance.
        settings.TryAdd("ClientLimits:MaxPartitions", "1000000");
        settings["Logging:LogLevel:Default"] = "Warning";
        return GatewayApplication.Live(_emulator, settings);
    }

    /// <summary>A cheap request from <paramref name="peer"/>: refused for its body (400) unless the limiter refuses it first (429).</summary>
    private static async Task<int> PostAsync(TestServer server, IPAddress peer, string? forwardedFor = null)
    {
        var context = await server.SendAsync(c =>
        {
            c.Request.Method = "POST";
            c.Request.Path = "/v1/entitlements/query";
            c.Request.ContentType = "application/json";
            c.Request.Body = new MemoryStream("{}"u8.ToArray());
            c.Connection.RemoteIpAddress = peer;
            if (forwardedFor is not null) c.Request.Headers["X-Forwarded-For"] = forwardedFor;
        });
        return context.Response.StatusCode;
    }

    [Fact]
    public async Task AForgedForwardedFor_FromAnUntrustedAddress_DoesNotChangeThePartition()
    {
        await using var gateway = Gateway(new() { ["ClientLimits:PermitLimit"] = "3", ["ForwardedHeaders:KnownProxies"] = "10.0.0.1" });
        var attacker = IPAddress.Parse("203.0.113.7");

        var statuses = new List<int>();
        for (var i = 1; i <= 5; i++) statuses.Add(await PostAsync(gateway.Server, attacker, forwardedFor: $"198.51.100.{i}"));

        Assert.Equal([400, 400, 400, 429, 429], statuses);
    }

    [Fact]
    public async Task TwoClientsBehindATrustedProxy_GetSeparateLimits_AndTheProxyItselfIsNotTheClient()
    {
        await using var gateway = Gateway(new() { ["ClientLimits:PermitLimit"] = "3", ["ForwardedHeaders:KnownNetworks"] = "10.0.0.0/8" });
        var balancer = IPAddress.Parse("10.1.2.3");

        for (var i = 0; i < 3; i++) Assert.Equal(400, await PostAsync(gateway.Server, balancer, "198.51.100.1"));
        Assert.Equal(429, await PostAsync(gateway.Server, balancer, "198.51.100.1"));
        // Another player behind the same balancer has a limit of their own.
        Assert.Equal(400, await PostAsync(gateway.Server, balancer, "198.51.100.2"));
        // Only the entry the balancer appended counts: a client cannot prepend its way into a fresh partition.
        Assert.Equal(429, await PostAsync(gateway.Server, balancer, "192.0.2.99, 198.51.100.1"));
    }

    [Fact]
    public async Task IPv6Clients_ArePartitionedByTheir64()
    {
        await using var gateway = Gateway(new() { ["ClientLimits:PermitLimit"] = "3" });

        for (var i = 1; i <= 3; i++) Assert.Equal(400, await PostAsync(gateway.Server, IPAddress.Parse($"2001:db8:1:2::{i:x}")));
        Assert.Equal(429, await PostAsync(gateway.Server, IPAddress.Parse("2001:db8:1:2:ffff:ffff:ffff:ffff")));
        Assert.Equal(400, await PostAsync(gateway.Server, IPAddress.Parse("2001:db8:1:3::1")));
        // An IPv4 client seen as IPv4-mapped IPv6 is the same client.
        for (var i = 0; i < 3; i++) Assert.Equal(400, await PostAsync(gateway.Server, IPAddress.Parse("192.0.2.10")));
        Assert.Equal(429, await PostAsync(gateway.Server, IPAddress.Parse("::ffff:192.0.2.10")));
    }

    [Fact]
    public async Task AHundredThousandClientAddresses_KeepTheLimiterWithinItsPartitions_AndMemoryBounded()
    {
        const int clients = 100_000;
        await using var gateway = GatewayApplication.Live(_emulator, new Dictionary<string, string?> { ["Logging:LogLevel:Default"] = "Warning" });
        var buckets = gateway.Services.GetRequiredService<IOptions<ClientLimitsOptions>>().Value.MaxPartitions;
        for (var i = 0; i < 200; i++) await PostAsync(gateway.Server, IPAddress.Parse("192.0.2.1")); // warm up
        var before = ManagedBytesAfterGc();

        var limited = 0;
        await Parallel.ForAsync(0, clients, new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (i, _) =>
        {
            var peer = i % 2 == 0
                ? new IPAddress(BitConverter.GetBytes(0x0A000000u + (uint)i).Reverse().ToArray())
                : IPAddress.Parse($"2001:db8:{i >> 16:x}:{i & 0xffff:x}::1");
            if (await PostAsync(gateway.Server, peer) == 429) Interlocked.Increment(ref limited);
        });
        var growth = ManagedBytesAfterGc() - before;

        output.WriteLine($"{clients} client addresses, {buckets} partitions: managed memory grew by {growth / 1024.0 / 1024.0:0.0} MiB");
        Assert.Equal(0, limited);
        Assert.True(growth < 24L * 1024 * 1024, $"managed memory grew by {growth / 1024 / 1024} MiB for {clients} addresses");
    }

    private static long ManagedBytesAfterGc()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        return GC.GetTotalMemory(forceFullCollection: true);
    }
}
