using System.Net;
using System.Net.Sockets;

namespace EntitlementGateway.IntegrationTests.Infrastructure;

public static class LoopbackPort
{
    /// <summary>A loopback port nothing listens on right now: for a server the test starts, or for one that is not there.</summary>
    public static int Free()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
