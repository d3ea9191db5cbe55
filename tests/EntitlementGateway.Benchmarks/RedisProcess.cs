using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace EntitlementGateway.Benchmarks;

/// <summary>A throw-away redis-server on a free loopback port, no persistence; killed on dispose.</summary>
internal sealed class RedisProcess : IAsyncDisposable
{
    private readonly Process _process;

    private RedisProcess(Process process, int port)
    {
        _process = process;
        Port = port;
    }

    public int Port { get; }

    public static async Task<RedisProcess> StartAsync()
    {
        int port;
        using (var listener = new TcpListener(IPAddress.Loopback, 0))
        {
            listener.Start();
            port = ((IPEndPoint)listener.LocalEndpoint).Port;
        }

        var start = new ProcessStartInfo("redis-server") { UseShellExecute = false, RedirectStandardOutput = true };
        foreach (var argument in new[] { "--port", port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", string.Empty, "--appendonly", "no", "--loglevel", "warning" })
        {
            start.ArgumentList.Add(argument);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("redis-server did not start (apt-get install -y redis-server).");
        process.OutputDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        for (var attempt = 0; attempt < 200; attempt++)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, port);
                return new RedisProcess(process, port);
            }
            catch (SocketException)
            {
                await Task.Delay(25);
            }
        }

        process.Kill();
        throw new InvalidOperationException($"redis-server did not listen on {port}.");
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }
}
