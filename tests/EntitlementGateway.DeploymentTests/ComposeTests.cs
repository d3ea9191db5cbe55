using System.Text.Json;
using EntitlementGateway.DeploymentTests.Infrastructure;
using EntitlementGateway.Emulator;

namespace EntitlementGateway.DeploymentTests;

/// <summary>docker-compose.yml is valid for docker-compose and wired as the README's Deployment section says.</summary>
public sealed class ComposeTests
{
    private static Dictionary<string, string?> Environment(JsonElement service) =>
        service.At("environment").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.ValueKind == JsonValueKind.Null ? null : p.Value.ToString());

    private static IEnumerable<string> PublishedPorts(JsonElement service) =>
        service.TryGetProperty("ports", out var ports) ? ports.EnumerateArray().Select(p => p.ToString()) : [];

    /// <summary>(source, target) of each mount; docker-compose 1.x prints the short form source:target:mode.</summary>
    private static IEnumerable<(string Source, string Target)> Volumes(JsonElement service) =>
        service.At("volumes").EnumerateArray().Select(v => v.ValueKind == JsonValueKind.String
            ? (v.GetString()!.Split(':')[0], v.GetString()!.Split(':')[1])
            : (v.At("source").GetString()!, v.At("target").GetString()!));

    [Fact]
    public async Task Default_up_starts_the_gateway_in_emulator_mode_and_redis()
    {
        var config = await Compose.ConfigAsync();
        Assert.Equal(new HashSet<string> { "gateway", "redis" }, Compose.Started(config, []));

        var gateway = config.At("services", "gateway");
        var env = Environment(gateway);
        Assert.Equal("Development", env["ASPNETCORE_ENVIRONMENT"]); // Emulator mode refuses Production
        Assert.Equal("Emulator", env["Store__Mode"]);
        Assert.StartsWith("redis:6379", env["Redis__ConnectionString"], StringComparison.Ordinal);
        Assert.Equal("1", env["Budget__Replicas"]);
        Assert.Contains(PublishedPorts(gateway), p => p.Contains("8080", StringComparison.Ordinal));
        Assert.Equal("service_healthy", gateway.At("depends_on", "redis", "condition").GetString());
        Assert.DoesNotContain("INCLUDE_EMULATOR", gateway.At("build").ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Redis_has_a_health_check_and_append_only_persistence()
    {
        var config = await Compose.ConfigAsync();
        var redis = config.At("services", "redis");
        var command = string.Join(' ', redis.At("command").EnumerateArray().Select(e => e.GetString()));
        Assert.Contains("--appendonly yes", command, StringComparison.Ordinal);
        Assert.Contains("redis-cli", redis.At("healthcheck", "test").ToString(), StringComparison.Ordinal);
        var data = Assert.Single(Volumes(redis), v => v.Target == "/data");
        Assert.True(config.At("volumes").TryGetProperty(data.Source, out _), "Redis data is in a named volume");
    }

    [Fact]
    public async Task Emulator_profile_runs_the_standalone_emulator_and_a_live_gateway_pinned_to_its_certificate()
    {
        var config = await Compose.ConfigAsync("emulator");
        Assert.Equal(new HashSet<string> { "emulator", "gateway-live", "gateway", "redis" }, Compose.Started(config, ["emulator"]));

        var emulator = config.At("services", "emulator");
        Assert.Equal("true", emulator.At("build", "args", "INCLUDE_EMULATOR").GetString());
        Assert.Equal(["dotnet", "/app/emulator/EntitlementGateway.Emulator.dll"], emulator.At("entrypoint").EnumerateArray().Select(e => e.GetString()));
        var emulatorEnv = Environment(emulator);
        Assert.Contains("http://+:5080", emulatorEnv["ASPNETCORE_URLS"], StringComparison.Ordinal);
        Assert.Contains("https://+:5443", emulatorEnv["ASPNETCORE_URLS"], StringComparison.Ordinal);
        Assert.Contains(PublishedPorts(emulator), p => p.Contains("5080", StringComparison.Ordinal)); // README curl: /emulator/* from the host
        var certificatePath = emulatorEnv["Emulator__CertificatePath"]!;

        var live = config.At("services", "gateway-live");
        var env = Environment(live);
        var defaults = new EmulatorOptions();
        Assert.Equal("Development", env["ASPNETCORE_ENVIRONMENT"]); // the thumbprint pin is refused in Production
        Assert.Equal("Live", env["Store__Mode"]);
        Assert.Equal(defaults.ClientId, env["Store__ClientId"]);
        Assert.Equal(defaults.ClientSecret, env["Store__ClientSecret"]);
        Assert.Equal("https://emulator:5443/emulator", env["Store__Authority"]);
        Assert.Equal("https://emulator:5443/emulator/store", env["Store__CollectionsBaseUrl"]);
        Assert.Contains(PublishedPorts(live), p => p.Contains("8081", StringComparison.Ordinal));
        Assert.Equal(emulator.At("image").GetString(), live.At("image").GetString());
        Assert.Contains($"cat {EmulatorTls.ThumbprintPath(certificatePath)}", live.At("entrypoint").ToString(), StringComparison.Ordinal);
        Assert.Contains("Store__TrustedCertificateThumbprint", live.At("entrypoint").ToString(), StringComparison.Ordinal);
        Assert.Contains(EmulatorTls.ThumbprintPath(certificatePath), emulator.At("healthcheck", "test").ToString(), StringComparison.Ordinal);
        Assert.Equal("service_healthy", live.At("depends_on", "emulator", "condition").GetString());

        // Both mount the same volume where the certificate lives.
        string VolumeAt(JsonElement service, string target) => Volumes(service).Single(v => v.Target == target).Source;
        var certificateDirectory = Path.GetDirectoryName(certificatePath)!;
        Assert.Equal(VolumeAt(emulator, certificateDirectory), VolumeAt(live, certificateDirectory));
    }

    [Fact]
    public async Task No_real_secrets_in_the_compose_files()
    {
        var config = await Compose.ConfigAsync("emulator");
        foreach (var service in config.At("services").EnumerateObject())
        {
            if (!service.Value.TryGetProperty("environment", out _)) continue;
            foreach (var (key, value) in Environment(service.Value))
            {
                if (key.Contains("Secret", StringComparison.OrdinalIgnoreCase) || key.Contains("Password", StringComparison.OrdinalIgnoreCase))
                    Assert.Contains(value, new[] { new EmulatorOptions().ClientSecret, "" }); // the emulator's public, fake secret, or unset
                if (key == "Redis__ConnectionString") Assert.DoesNotContain("password", value, StringComparison.OrdinalIgnoreCase);
            }
        }
    }

    [Fact]
    public async Task Gateways_get_more_stop_time_than_their_drain_and_last_export()
    {
        var config = await Compose.ConfigAsync("emulator");
        foreach (var name in new[] { "gateway", "gateway-live" })
        {
            var grace = config.At("services", name, "stop_grace_period").GetString()!;
            var seconds = int.Parse(grace.TrimEnd('s'), System.Globalization.CultureInfo.InvariantCulture);
            var drain = int.Parse(Environment(config.At("services", name)).GetValueOrDefault("Hosting__ShutdownTimeoutSeconds") ?? "25", System.Globalization.CultureInfo.InvariantCulture);
            Assert.True(seconds >= drain + 2 + 5, $"{name}: stop_grace_period {grace} against a {drain} s drain");
        }
    }

    [Fact]
    public async Task Refunds_and_chargebacks_are_off_and_the_webhook_key_only_comes_from_the_environment()
    {
        var config = await Compose.ConfigAsync("emulator");
        foreach (var name in new[] { "gateway", "gateway-live" })
        {
            var env = Environment(config.At("services", name));
            Assert.Equal("false", env["Clawback__Enabled"]);
            Assert.Equal("", env["Clawback__WebhookSecret"]);
        }
        // Never the real Store's sastoken endpoint with the emulator's fake credentials.
        var live = Environment(config.At("services", "gateway-live"));
        Assert.Equal(live["Store__CollectionsBaseUrl"], live["Clawback__PurchaseBaseUrl"]);

        // The key is interpolated (shell or a git-ignored .env), never written in the file.
        var secretLines = File.ReadLines(Repo.PathOf("docker-compose.yml")).Where(l => l.TrimStart().StartsWith("Clawback__WebhookSecret:", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, secretLines.Count);
        Assert.All(secretLines, l => Assert.EndsWith("${CLAWBACK_WEBHOOK_SECRET:-}", l.Trim(), StringComparison.Ordinal));
        Assert.Contains(File.ReadLines(Repo.PathOf(".gitignore")), l => l.Trim() == ".env");

        var key = new string('k', 40);
        var enabled = await Compose.ConfigAsync(new Dictionary<string, string?>
        {
            ["CLAWBACK_ENABLED"] = "true", ["CLAWBACK_WEBHOOK_URL"] = "https://receiver.example.net/clawback", ["CLAWBACK_WEBHOOK_SECRET"] = key,
        });
        var gateway = Environment(enabled.At("services", "gateway"));
        Assert.Equal("true", gateway["Clawback__Enabled"]);
        Assert.Equal("https://receiver.example.net/clawback", gateway["Clawback__WebhookUrl"]);
        Assert.Equal(key, gateway["Clawback__WebhookSecret"]);
    }
}
