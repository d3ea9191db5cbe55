using System.Net.Sockets;

namespace EntitlementGateway.IntegrationTests.Infrastructure;

/// <summary>A loopback listener that only counts the connections made to it.</summary>
internal sealed class ConnectionCounter : LoopbackListener
{
    public ConnectionCounter() => Start();

    protected override Task ServeAsync(TcpClient client, int index)
    {
        client.Dispose();
        return Task.CompletedTask;
    }
}
