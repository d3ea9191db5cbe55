using System.Text.Json;

namespace EntitlementGateway.DeploymentTests.Infrastructure;

/// <summary>
/// <c>docker-compose config</c> (Debian's docker-compose) validates docker-compose.yml and prints it resolved; the
/// YAML is read into JSON by the Python that docker-compose itself runs on (it depends on PyYAML).
/// </summary>
public static class Compose
{
    public static string DockerCompose => Tool.Require("docker-compose", "Install Debian's docker-compose (apt-get install docker-compose)");

    /// <summary>The resolved file, with <paramref name="profiles"/> on the command line (none: only the services without a profile).</summary>
    public static Task<JsonElement> ConfigAsync(params string[] profiles) => ConfigAsync(new Dictionary<string, string?>(), profiles);

    /// <summary>The resolved file with <paramref name="variables"/> in docker-compose's environment (the file's <c>${...}</c>); others it reads are unset.</summary>
    public static async Task<JsonElement> ConfigAsync(IReadOnlyDictionary<string, string?> variables, params string[] profiles)
    {
        var args = profiles.SelectMany(p => new[] { "--profile", p }).Concat(["config"]);
        var environment = new Dictionary<string, string?>
        {
            ["COMPOSE_PROFILES"] = null, ["CLAWBACK_ENABLED"] = null, ["CLAWBACK_WEBHOOK_URL"] = null, ["CLAWBACK_WEBHOOK_SECRET"] = null,
        };
        foreach (var (name, value) in variables) environment[name] = value;
        var config = await Tool.RunAsync(DockerCompose, args, environment: environment);
        Assert.True(config.ExitCode == 0, $"docker-compose config failed: {config}");

        return await YamlAsJsonAsync(config.StandardOutput, "docker-compose's output");
    }

    /// <summary>YAML read by PyYAML under the Python docker-compose runs on, as JSON; fails the test when it does not parse.</summary>
    public static async Task<JsonElement> YamlAsJsonAsync(string yaml, string what)
    {
        var interpreter = File.ReadLines(DockerCompose).First().TrimStart('#', '!').Trim().Split(' ')[0];
        var json = await Tool.RunAsync(interpreter, ["-c", "import sys, json, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)"],
            standardInput: yaml);
        Assert.True(json.ExitCode == 0, $"could not read {what} as YAML: {json}");
        return JsonDocument.Parse(json.StandardOutput).RootElement.Clone();
    }

    /// <summary>What <c>docker compose up</c> starts with <paramref name="activeProfiles"/>: services with no profile, or one of them.</summary>
    public static HashSet<string> Started(JsonElement config, IReadOnlyCollection<string> activeProfiles) =>
        config.At("services").EnumerateObject()
            .Where(s => !s.Value.TryGetProperty("profiles", out var p) || p.EnumerateArray().Any(x => activeProfiles.Contains(x.GetString()!)))
            .Select(s => s.Name)
            .ToHashSet();

}
