using EntitlementGateway.DeploymentTests.Infrastructure;

namespace EntitlementGateway.DeploymentTests;

/// <summary>
/// What can be checked of the Dockerfile without a Docker engine (none runs here): its structure. That its commands
/// build a working app is <see cref="PublishedAppTests"/>.
/// </summary>
public sealed class DockerfileTests
{
    private readonly Dockerfile _dockerfile = Dockerfile.Load();

    [Fact]
    public void Sdk_stage_builds_and_runtime_stage_runs()
    {
        var stages = _dockerfile.Stages;
        Assert.True(stages.Count >= 2, "multi-stage");
        Assert.Matches(@"^mcr\.microsoft\.com/dotnet/sdk:\S+ AS build$", stages[0].Arguments);
        Assert.Matches(@"^mcr\.microsoft\.com/dotnet/aspnet:\S+ AS runtime$", stages[_dockerfile.FinalStage].Arguments);
        Assert.Contains(_dockerfile.InStage(0, "RUN"), r => r.Arguments.StartsWith("dotnet restore ", StringComparison.Ordinal));
        Assert.Contains(_dockerfile.InStage(0, "RUN"), r => r.Arguments.StartsWith("dotnet publish src/EntitlementGateway/EntitlementGateway.csproj -c Release ", StringComparison.Ordinal));
        // The final stage only copies the published output: no SDK, no sources, no build step.
        Assert.Empty(_dockerfile.InStage(_dockerfile.FinalStage, "RUN"));
        Assert.All(_dockerfile.InStage(_dockerfile.FinalStage, "COPY"), c => Assert.StartsWith("--from=build ", c.Arguments, StringComparison.Ordinal));
    }

    [Fact]
    public void Runs_as_the_non_root_user_on_8080()
    {
        var final = _dockerfile.FinalStage;
        var user = Assert.Single(_dockerfile.InStage(final, "USER")).Arguments;
        Assert.NotEqual("root", user);
        Assert.NotEqual("0", user);
        Assert.Equal("$APP_UID", user); // the aspnet image's "app" user (uid 1654), numeric for runAsNonRoot
        Assert.Equal("8080", Assert.Single(_dockerfile.InStage(final, "EXPOSE")).Arguments);
        Assert.Equal("8080", _dockerfile.Environment(final)["ASPNETCORE_HTTP_PORTS"]);
        Assert.Equal("Production", _dockerfile.Environment(final)["ASPNETCORE_ENVIRONMENT"]);
        Assert.Equal("[\"dotnet\", \"EntitlementGateway.dll\"]", Assert.Single(_dockerfile.InStage(final, "ENTRYPOINT")).Arguments);
        // USER comes after every COPY: nothing after it runs as root.
        var instructions = _dockerfile.Instructions.Where(i => i.Stage == final).ToList();
        Assert.True(instructions.FindIndex(i => i.Keyword == "USER") > instructions.FindLastIndex(i => i.Keyword is "COPY" or "RUN"));
    }

    [Fact]
    public void No_secrets_or_settings_are_baked_in()
    {
        var secretish = new[] { "SECRET", "PASSWORD", "CLIENTID", "TENANTID", "CONNECTIONSTRING", "TOKEN", "STORE__", "REDIS__", "THUMBPRINT" };
        foreach (var instruction in _dockerfile.Instructions.Where(i => i.Keyword is "ENV" or "ARG"))
            Assert.DoesNotContain(secretish, s => instruction.Arguments.ToUpperInvariant().Contains(s, StringComparison.Ordinal));
        // Nothing configuration-like is copied in beyond the build inputs.
        var copies = _dockerfile.Instructions.Where(i => i.Keyword is "COPY" or "ADD").Select(i => i.Arguments).ToList();
        Assert.DoesNotContain(copies, c => c.Contains(".env", StringComparison.Ordinal) || c.Contains(".pfx", StringComparison.Ordinal) || c.StartsWith(". ", StringComparison.Ordinal));
    }

    [Fact]
    public void The_emulator_is_built_only_when_the_build_argument_asks()
    {
        Assert.Equal("INCLUDE_EMULATOR=false", Assert.Single(_dockerfile.InStage(0, "ARG")).Arguments);
        var emulatorRuns = _dockerfile.InStage(0, "RUN").Where(r => r.Arguments.Contains("EntitlementGateway.Emulator.csproj", StringComparison.Ordinal)).ToList();
        var run = Assert.Single(emulatorRuns);
        Assert.Contains("if [ \"$INCLUDE_EMULATOR\" = \"true\" ]; then", run.Arguments, StringComparison.Ordinal);
    }

    [Fact]
    public void Dockerignore_keeps_build_output_tests_and_local_files_out_of_the_context()
    {
        var lines = File.ReadAllLines(Repo.PathOf(".dockerignore")).Where(l => l.Length > 0 && !l.StartsWith('#')).ToList();
        Assert.Equal("**", lines[0]); // everything is excluded first, then only the build inputs are let back in
        Assert.Contains("!src/", lines);
        Assert.Contains("**/bin/", lines);
        Assert.Contains("**/obj/", lines);
        Assert.DoesNotContain(lines, l => l.StartsWith("!tests", StringComparison.Ordinal) || l.StartsWith("!.env", StringComparison.Ordinal));
        // Everything the Dockerfile copies is let back in.
        foreach (var copy in _dockerfile.InStage(0, "COPY"))
        foreach (var source in copy.Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries)[..^1])
            Assert.Contains(lines, l => l.StartsWith('!') && (source == l[1..] || source.StartsWith(l[1..].TrimEnd('/') + "/", StringComparison.Ordinal)));
    }
}
