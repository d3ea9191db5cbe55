using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace EntitlementGateway.IntegrationTests.Infrastructure;

/// <summary>The built gateway run as its own process, exactly as <c>dotnet run</c> or a container starts it.</summary>
public sealed partial class GatewayProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly TaskCompletionSource<Uri> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private GatewayProcess(Process process) => _process = process;

    public string Output { get { lock (_output) return _output.ToString(); } }
    public Uri? BaseAddress => _listening.Task.IsCompletedSuccessfully ? _listening.Task.Result : null;

    /// <summary>The files the process has mapped now (<c>/proc/&lt;pid&gt;/maps</c>): its loaded assemblies among them.</summary>
    public IReadOnlySet<string> MappedFiles() => File.ReadLines($"/proc/{_process.Id}/maps")
        .Select(line => line.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries))
        .Where(fields => fields.Length == 6)
        .Select(fields => Path.GetFileName(fields[5].Trim()))
        .ToHashSet(StringComparer.Ordinal);

    /// <summary>The folder of the build these tests start: a published build's (EG_GATEWAY_EXECUTABLE) or this project's.</summary>
    public static string AppDirectory => Path.GetDirectoryName(PublishedExecutable ?? typeof(Program).Assembly.Location)!;

    // EG_GATEWAY_EXECUTABLE: a published build's own executable (a self-contained or trimmed publish) instead of the
    // JIT build this project references, so these process-level tests can check a build the suites do not load.
    private static string? PublishedExecutable => Environment.GetEnvironmentVariable("EG_GATEWAY_EXECUTABLE") is { Length: > 0 } path ? path : null;

    public static GatewayProcess Start(IReadOnlyDictionary<string, string?> environment, string? workingDirectory = null)
    {
        var info = PublishedExecutable is { } published
            ? new ProcessStartInfo(published, ["--urls", "http://127.0.0.1:0"])
            : new ProcessStartInfo("dotnet", [typeof(Program).Assembly.Location, "--urls", "http://127.0.0.1:0"]);
        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;
        info.UseShellExecute = false;
        info.WorkingDirectory = workingDirectory ?? AppDirectory;
        foreach (var key in info.Environment.Keys.Where(k => k.StartsWith("ASPNETCORE_", StringComparison.Ordinal) || k.StartsWith("DOTNET_ENVIRONMENT", StringComparison.Ordinal)).ToList())
            info.Environment.Remove(key);
        foreach (var (key, value) in environment) info.Environment[key] = value;

        var gateway = new GatewayProcess(new Process { StartInfo = info, EnableRaisingEvents = true });
        gateway._process.OutputDataReceived += (_, e) => gateway.OnLine(e.Data);
        gateway._process.ErrorDataReceived += (_, e) => gateway.OnLine(e.Data);
        gateway._process.Exited += (_, _) => gateway._listening.TrySetException(new InvalidOperationException("the gateway exited"));
        gateway._process.Start();
        gateway._process.BeginOutputReadLine();
        gateway._process.BeginErrorReadLine();
        return gateway;
    }

    private void OnLine(string? line)
    {
        if (line is null) return;
        lock (_output) _output.AppendLine(line);
        if (ListeningLine().Match(line) is { Success: true } match) _listening.TrySetResult(new Uri(match.Groups[1].Value));
    }

    public async Task<Uri> WaitUntilListeningAsync(TimeSpan timeout) => await _listening.Task.WaitAsync(timeout);

    /// <summary>The first output line that <paramref name="matches"/>, once written (the log is written in batches); null after 10 s.</summary>
    public async Task<string?> WaitForLineAsync(Func<string, bool> matches)
    {
        for (var i = 0; i < 100; i++, await Task.Delay(100))
        {
            if (Output.Split('\n').FirstOrDefault(matches) is { } line) return line;
        }
        return null;
    }

    /// <summary>SIGTERM, what Kubernetes and <c>docker stop</c> send.</summary>
    public void Terminate()
    {
        if (Kill(_process.Id, 15) != 0) throw new InvalidOperationException("kill(SIGTERM) failed");
    }

    // DllImport: a blittable signature, and LibraryImport would need unsafe code in the project.
    [System.Runtime.InteropServices.DllImport("libc.so.6", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cts.Token);
        return _process.ExitCode;
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

    [GeneratedRegex("Now listening on: \\\\?\"?(http://[^\"\\\\]+)")]
    private static partial Regex ListeningLine();
}
