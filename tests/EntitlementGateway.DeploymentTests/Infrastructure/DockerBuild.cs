using System.Text.RegularExpressions;

namespace EntitlementGateway.DeploymentTests.Infrastructure;

/// <summary>
/// The Dockerfile's build stage carried out without an engine: its COPY instructions fill a fresh build context
/// (with .dockerignore's bin/ and obj/ left out), then its RUN commands run there, word for word, with the image paths
/// <c>/app</c> and <c>/state</c> mapped to temporary folders and <c>INCLUDE_EMULATOR=true</c>, so both publishes run.
/// The result is what the runtime image's <c>/app</c> would hold.
/// </summary>
public sealed partial class DockerBuild : IAsyncLifetime
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "eg-docker-" + Guid.NewGuid().ToString("N")[..8]);

    public string Context => Path.Combine(_root, "src");
    public string App => Path.Combine(_root, "app");
    public string State => Path.Combine(_root, "state");
    public Dockerfile Dockerfile { get; } = Dockerfile.Load();
    public List<string> Commands { get; } = [];

    /// <summary>The runtime stage's ENV: what the container starts with.</summary>
    public Dictionary<string, string> RuntimeEnvironment => Dockerfile.Environment(Dockerfile.FinalStage);

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Context);
        Assert.Equal("/src", Assert.Single(Dockerfile.InStage(0, "WORKDIR")).Arguments);
        foreach (var instruction in Dockerfile.Instructions.Where(i => i.Stage == 0 && i.Keyword is "COPY" or "RUN"))
        {
            if (instruction.Keyword == "COPY")
            {
                var parts = instruction.Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                foreach (var source in parts[..^1]) CopyIntoContext(source, parts[^1]);
                continue;
            }
            var command = ImagePath().Replace(instruction.Arguments, m => m.Groups[1].Value == "app" ? App : State);
            Commands.Add(command);
            var run = await Tool.RunAsync("bash", ["-euc", command], workingDirectory: Context,
                environment: new Dictionary<string, string?> { ["INCLUDE_EMULATOR"] = "true", ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1", ["DOTNET_NOLOGO"] = "1", ["MSBUILDDISABLENODEREUSE"] = "1", ["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0" },
                timeout: TimeSpan.FromMinutes(8));
            Assert.True(run.ExitCode == 0, $"the Dockerfile's RUN {instruction.Arguments} failed: {run}");
        }
    }

    private void CopyIntoContext(string source, string destination)
    {
        var target = Path.Combine(Context, destination.TrimEnd('/') is "." or "" ? "" : destination);
        var from = Repo.PathOf(source.TrimEnd('/'));
        if (File.Exists(from))
        {
            var file = destination.EndsWith('/') || destination == "./" ? Path.Combine(target, Path.GetFileName(from)) : target;
            Directory.CreateDirectory(Path.GetDirectoryName(file)!);
            File.Copy(from, file, overwrite: true);
            return;
        }
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(from, file);
            if (relative.Split(Path.DirectorySeparatorChar).Any(p => p is "bin" or "obj")) continue; // .dockerignore
            var to = Path.Combine(target, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(to)!);
            File.Copy(file, to, overwrite: true);
        }
    }

    public Task DisposeAsync()
    {
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        return Task.CompletedTask;
    }

    [GeneratedRegex(@"(?<![\w./-])/(app|state)(?=[/\s]|$)")]
    private static partial Regex ImagePath();
}
