using System.Net;
using System.Net.Sockets;

namespace EntitlementGateway.IntegrationTests.Infrastructure;

/// <summary>A loopback listener that only counts the connections made to it.</summary>
internal sealed class ConnectionCounter : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private int _connections;

    public ConnectionCounter()
    {
        _listener.Start();
        _ = Task.Run(async () =>
        {
            while (true)
            {
                try { using var socket = await _listener.AcceptSocketAsync(); Interlocked.Increment(ref _connections); }
                catch (Exception) { return; }
            }
        });
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public int Connections => Volatile.Read(ref _connections);

    public void Dispose() => _listener.Stop();
}
