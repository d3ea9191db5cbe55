using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace EntitlementGateway.Benchmarks;

/// <summary>
/// A server started as its own process (<c>dotnet some.dll</c>), as an operator would: configured through environment
/// variables, standard output sent to /dev/null (the request log is still formatted and written, only nobody keeps it),
/// standard error kept in a file to show when it fails. Ready when a GET on <c>readyPath</c> answers 200.
/// </summary>
internal sealed class ServerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _stderr;

    private ServerProcess(string name, Process process, string stderr, Uri address, TimeSpan startup)
    {
        Name = name;
        _process = process;
        _stderr = stderr;
        Address = address;
        Startup = startup;
    }

    public string Name { get; }
    public Uri Address { get; }

    /// <summary>From <see cref="Process.Start()"/> to the first 200 on the ready path.</summary>
    public TimeSpan Startup { get; }

    public int Id => _process.Id;

    /// <summary>Resident set size now, from /proc (0 when it cannot be read).</summary>
    public long RssBytes()
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{_process.Id}/status"))
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                    return long.Parse(line[6..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
        }
        catch (IOException) { }
        return 0;
    }

    /// <summary>CPU time (user and system) the process has used so far, from /proc (10 ms resolution).</summary>
    public TimeSpan CpuTime()
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{_process.Id}/stat");
            // Fields after the command name, which sits in parentheses: state is the 3rd field, utime the 14th, stime the 15th.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
            return TimeSpan.FromSeconds(ticks / 100.0);
        }
        catch (IOException) { return TimeSpan.Zero; }
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <param name="name">For messages.</param>
    /// <param name="dll">The application to run with <c>dotnet</c>.</param>
    /// <param name="args">Its command line.</param>
    /// <param name="environment">Its configuration.</param>
    /// <param name="address">Where it will listen (plain HTTP, loopback).</param>
    /// <param name="readyPath">Answers 200 once it serves.</param>
    public static async Task<ServerProcess> StartAsync(string name, string dll, IEnumerable<string> args,
        IReadOnlyDictionary<string, string> environment, Uri address, string readyPath)
    {
        var stderr = Path.Combine(Path.GetTempPath(), $"eg-bench-{name}-{Environment.ProcessId}-{Guid.NewGuid():N}.err");
        // exec: the shell becomes dotnet, so the pid is the server's (RSS, kill).
        // A .dll runs on the shared runtime; anything else is an executable of its own (a native AOT build).
        var command = dll.EndsWith(".dll", StringComparison.OrdinalIgnoreCase) ? "exec dotnet \"$@\"" : "exec \"$@\"";
        var info = new ProcessStartInfo("/bin/sh", ["-c", command + " >/dev/null 2>\"$EG_BENCH_STDERR\"", "sh", dll, .. args])
        {
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(dll)!,
        };
        foreach (var (key, value) in environment) info.Environment[key] = value;
        info.Environment["EG_BENCH_STDERR"] = stderr;

        using var probe = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.Zero }) { Timeout = TimeSpan.FromSeconds(2) };
        var started = Stopwatch.StartNew();
        var process = Process.Start(info) ?? throw new InvalidOperationException($"{name} did not start");
        var server = new ServerProcess(name, process, stderr, address, TimeSpan.Zero);
        while (started.Elapsed < TimeSpan.FromSeconds(60))
        {
            if (process.HasExited)
                throw new InvalidOperationException($"{name} exited with {process.ExitCode}: {server.ErrorTail()}");
            try
            {
                using var response = await probe.GetAsync(new Uri(address, readyPath));
                if (response.StatusCode == HttpStatusCode.OK)
                    return new ServerProcess(name, process, stderr, address, started.Elapsed);
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException) { }
            await Task.Delay(10);
        }
        await server.DisposeAsync();
        throw new TimeoutException($"{name} was not ready within 60 s: {server.ErrorTail()}");
    }

    private string ErrorTail()
    {
        try
        {
            var text = File.ReadAllText(_stderr);
            return text.Length > 2000 ? text[^2000..] : text;
        }
        catch (IOException) { return ""; }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
        File.Delete(_stderr);
    }
}
