using System.Net;
using System.Net.Sockets;

namespace EntitlementGateway.IntegrationTests.Infrastructure;

/// <summary>
/// A listener on a free loopback port that counts the connections made to it and hands each one, numbered from 0, to
/// <see cref="ServeAsync"/> on a task of its own. A subclass calls <see cref="Start"/> once it is ready to serve.
/// </summary>
public abstract class LoopbackListener : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private int _connections;

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>TCP connections accepted.</summary>
    public int Connections => Volatile.Read(ref _connections);

    protected void Start()
    {
        _listener.Start();
        _ = Task.Run(AcceptAsync);
    }

    /// <summary>Serves the <paramref name="index"/>-th connection; the client is the subclass's to dispose.</summary>
    protected abstract Task ServeAsync(TcpClient client, int index);

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
        if (disposing) _listener.Stop();
    }

    private async Task AcceptAsync()
    {
        while (true)
        {
            TcpClient client;
            try { client = await _listener.AcceptTcpClientAsync(); }
            catch (Exception) { return; }
            var index = Interlocked.Increment(ref _connections) - 1;
            _ = Task.Run(() => ServeAsync(client, index));
        }
    }
}
