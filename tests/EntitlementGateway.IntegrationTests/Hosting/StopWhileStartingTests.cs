using System.Net;
using System.Net.Sockets;
using EntitlementGateway.IntegrationTests.Infrastructure;

namespace EntitlementGateway.IntegrationTests.Hosting;

/// <summary>
/// SIGTERM while the gateway is still starting (a rollout replacing a pod that is not ready yet) is a stop: exit 0 and
/// one Information line, not a crash's Fatal line and stack trace that alerting would count.
/// </summary>
public sealed class StopWhileStartingTests
{
    [Fact]
    public async Task SigtermWhileStarting_ExitsZero_WithOneLineAndNoFailure()
    {
        // A "Redis" that takes the connection and never answers holds the start in the budget's warm-up.
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        var port = ((IPEndPoint)silent.LocalEndpoint).Port;
        await using var gateway = GatewayProcess.Start(new Dictionary<string, string?>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Staging",
            ["Store__Mode"] = "Emulator",
            ["Redis__ConnectionString"] = $"127.0.0.1:{port},ssl=true,connectTimeout=20000",
        });
        using var accepted = await silent.AcceptTcpClientAsync().WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Null(gateway.BaseAddress);

        gateway.Terminate();

        Assert.Equal(0, await gateway.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        var output = gateway.Output;
        Assert.Contains("asked to stop before it finished starting", output, StringComparison.Ordinal);
        Assert.DoesNotContain("\"Level\":\"Fatal\"", output, StringComparison.Ordinal);
        Assert.DoesNotContain("\"Level\":\"Error\"", output, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", output, StringComparison.Ordinal);
    }
}
