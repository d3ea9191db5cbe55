using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace EntitlementGateway.IntegrationTests.Infrastructure;

/// <summary>
/// A real <c>redis-server</c> on a free loopback port (no persistence), or the server named by <c>REDIS_URL</c>
/// (<c>host:port</c> or StackExchange.Redis syntax) when that is set. Can be stopped and started again on the same port
/// to play "Redis died and came back".
/// </summary>
public class RedisServerFixture : IAsyncLifetime
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(10);
    private readonly string? _password;
    private Process? _process;

    public RedisServerFixture()
        : this(password: null)
    {
    }

    protected RedisServerFixture(string? password)
    {
        _password = password;
        External = Environment.GetEnvironmentVariable("REDIS_URL") is { Length: > 0 } url ? ToConnectionString(url) : null;
    }

    /// <summary>Set when the tests use an outside server (<c>REDIS_URL</c>): it cannot be stopped or restarted here.</summary>
    public string? External { get; }

    public int Port { get; private set; }

    public string? Password => External is null ? _password : null;

    /// <summary>StackExchange.Redis connection string for the server (loopback IP, password when one is required).</summary>
    public string ConnectionString => External ?? Build("127.0.0.1");

    /// <summary>The same server by host name, to check that name resolution works.</summary>
    public string ConnectionStringByHostName => External ?? Build("localhost");

    /// <summary>Connection string allowed to run admin commands (INFO, SCRIPT FLUSH, CONFIG) for test assertions.</summary>
    public string AdminConnectionString => ConnectionString + ",allowAdmin=true";

    public async Task InitializeAsync()
    {
        if (External is not null)
        {
            return;
        }

        Port = LoopbackPort.Free();
        await StartAgainAsync();
    }

    public async Task StartAgainAsync()
    {
        if (External is not null)
        {
            throw new InvalidOperationException("REDIS_URL is set: the outside server cannot be restarted by the tests.");
        }

        if (_process is { HasExited: false })
        {
            return;
        }

        var arguments = new List<string>
        {
            "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--bind", "127.0.0.1",
            "--save", string.Empty,
            "--appendonly", "no",
            "--daemonize", "no",
            "--loglevel", "warning",
            "--enable-debug-command", "local", // DEBUG SLEEP plays a stalled server
        };
        if (_password is not null)
        {
            arguments.AddRange(["--requirepass", _password]);
        }

        var start = new ProcessStartInfo(FindRedisServer())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        arguments.ForEach(start.ArgumentList.Add);
        var output = new StringBuilder();
        _process = Process.Start(start) ?? throw new InvalidOperationException("redis-server did not start.");
        _process.OutputDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        _process.ErrorDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        var deadline = Stopwatch.StartNew();
        while (!await PingAsync())
        {
            if (_process.HasExited || deadline.Elapsed > StartTimeout)
            {
                string log;
                lock (output)
                {
                    log = output.ToString();
                }

                throw new InvalidOperationException($"redis-server on port {Port} did not answer PING within {StartTimeout}. Output:\n{log}");
            }

            await Task.Delay(25);
        }
    }

    /// <summary>Makes the server stall (single-threaded, so every client waits) for <paramref name="duration"/>.</summary>
    public Task StallAsync(TimeSpan duration)
    {
        if (External is not null)
        {
            throw new InvalidOperationException("REDIS_URL is set: the outside server cannot be stalled by the tests.");
        }

        var cli = new ProcessStartInfo("redis-cli") { UseShellExecute = false, RedirectStandardOutput = true };
        var seconds = duration.TotalSeconds.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture);
        string[] arguments = _password is null
            ? ["-p", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "DEBUG", "SLEEP", seconds]
            : ["-p", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--no-auth-warning", "-a", _password, "DEBUG", "SLEEP", seconds];
        Array.ForEach(arguments, cli.ArgumentList.Add);
        var process = Process.Start(cli) ?? throw new InvalidOperationException("redis-cli did not start.");
        return process.WaitForExitAsync().ContinueWith(_ => process.Dispose(), TaskScheduler.Default);
    }

    /// <summary>
    /// Returns once the server no longer answers PING, i.e. a <see cref="StallAsync"/> has reached it. redis-cli has to
    /// start first, which on a cold or busy machine takes far longer than any fixed sleep we could pick.
    /// </summary>
    public async Task WaitUntilStalledAsync()
    {
        var deadline = Stopwatch.StartNew();
        // An idle redis-server answers PING in well under a millisecond; 250 ms without an answer is the stall.
        while (await PingAsync(TimeSpan.FromMilliseconds(250)))
        {
            if (deadline.Elapsed > StartTimeout)
            {
                throw new InvalidOperationException($"redis-server on port {Port} still answered PING {StartTimeout} after the stall was asked for.");
            }

            await Task.Delay(10);
        }
    }

    /// <summary>Kills the server (no graceful shutdown: this is the "Redis died" case).</summary>
    public async Task StopAsync()
    {
        if (External is not null)
        {
            throw new InvalidOperationException("REDIS_URL is set: the outside server cannot be stopped by the tests.");
        }

        if (_process is { HasExited: false } process)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
    }

    public async Task DisposeAsync()
    {
        if (External is null)
        {
            await StopAsync();
        }

        _process?.Dispose();
    }

    private string Build(string host) =>
        $"{host}:{Port.ToString(System.Globalization.CultureInfo.InvariantCulture)}" + (_password is null ? string.Empty : $",password={_password}");

    /// <summary><c>redis://[:password@]host[:port]</c> or <c>rediss://</c> to StackExchange.Redis syntax; anything else as is.</summary>
    internal static string ToConnectionString(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("redis" or "rediss"))
        {
            return url;
        }

        var result = $"{uri.Host}:{(uri.Port > 0 ? uri.Port : 6379).ToString(System.Globalization.CultureInfo.InvariantCulture)}";
        var password = Uri.UnescapeDataString(uri.UserInfo.Contains(':', StringComparison.Ordinal) ? uri.UserInfo[(uri.UserInfo.IndexOf(':', StringComparison.Ordinal) + 1)..] : uri.UserInfo);
        if (password.Length > 0)
        {
            result += ",password=" + password;
        }

        return uri.Scheme == "rediss" ? result + ",ssl=true" : result;
    }

    private static string FindRedisServer()
    {
        foreach (var directory in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator).Append("/usr/bin").Append("/usr/local/bin"))
        {
            var candidate = Path.Combine(directory, "redis-server");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new InvalidOperationException(
            "redis-server was not found on PATH. Install it (Debian: apt-get update && apt-get install -y redis-server) " +
            "or set REDIS_URL=host:port to use a running server.");
    }

    /// <summary>Raw RESP PING, so readiness does not depend on the client library under test.</summary>
    private async Task<bool> PingAsync(TimeSpan? patience = null)
    {
        try
        {
            using var client = new TcpClient();
            using var timeout = new CancellationTokenSource(patience ?? TimeSpan.FromSeconds(1));
            await client.ConnectAsync(IPAddress.Loopback, Port, timeout.Token);
            var stream = client.GetStream();
            var command = _password is null ? "PING\r\n" : $"AUTH {_password}\r\nPING\r\n";
            await stream.WriteAsync(Encoding.ASCII.GetBytes(command), timeout.Token);
            var buffer = new byte[256];
            var received = new StringBuilder();
            while (!received.ToString().Contains("+PONG", StringComparison.Ordinal))
            {
                var read = await stream.ReadAsync(buffer, timeout.Token);
                if (read == 0)
                {
                    return false;
                }

                received.Append(Encoding.ASCII.GetString(buffer, 0, read));
            }

            return true;
        }
        catch (Exception e) when (e is SocketException or IOException or OperationCanceledException)
        {
            return false;
        }
    }
}

/// <summary>A second server that requires a password (<c>requirepass</c>).</summary>
public sealed class PasswordRedisServerFixture : RedisServerFixture
{
    public PasswordRedisServerFixture()
        : base(password: "s3cret-" + Guid.NewGuid().ToString("N")[..8])
    {
    }
}

/// <summary>Test classes in this collection share one redis-server and run one after another.</summary>
[CollectionDefinition(Name)]
public sealed class RedisCollection : ICollectionFixture<RedisServerFixture>
{
    public const string Name = "redis";
}
