using System.Text;
using System.Text.Json;

namespace EntitlementGateway.DeploymentTests.Infrastructure;

/// <summary>
/// <c>kubectl kustomize</c> renders an overlay; <c>kubectl label --local -o json</c> turns the YAML into JSON with
/// kubectl's own YAML reader and no cluster (removing a label nobody sets, so nothing changes).
/// </summary>
public static class Kustomize
{
    public static IEnumerable<string> Overlays() =>
        Directory.GetDirectories(Repo.PathOf("deploy", "overlays")).Select(d => Path.GetFileName(d)).Order();

    public static string Kubectl => Tool.Require("kubectl", "Install kubectl (Debian: apt-get install kubernetes-client, or the machine image's /usr/bin/kubectl)");

    private static readonly Lazy<Task> KustomizeIsRecent = new(async () =>
    {
        var version = await Tool.RunAsync(Kubectl, ["version", "--client", "-o", "json"]);
        Assert.True(version.ExitCode == 0, version.ToString());
        var kustomize = JsonDocument.Parse(version.StandardOutput).RootElement.OrNull("kustomizeVersion") ?? "none";
        var major = kustomize.TrimStart('v').Split('.')[0];
        Assert.True(int.TryParse(major, out var m) && m >= 5,
            $"{Kubectl} embeds kustomize {kustomize}; deploy/ needs kustomize v5 (kubectl 1.27 or later): put a recent kubectl on PATH");
    });

    public static async Task<IReadOnlyList<JsonElement>> RenderAsync(string kustomizationDirectory)
    {
        await KustomizeIsRecent.Value;
        var rendered = await Tool.RunAsync(Kubectl, ["kustomize", kustomizationDirectory]);
        Assert.True(rendered.ExitCode == 0, $"kubectl kustomize {kustomizationDirectory} failed: {rendered}");
        return await ToJsonAsync(rendered.StandardOutput);
    }

    public static async Task<IReadOnlyList<JsonElement>> ReadFileAsync(string path) => await ToJsonAsync(File.ReadAllText(path));

    private static async Task<IReadOnlyList<JsonElement>> ToJsonAsync(string yaml)
    {
        var json = await Tool.RunAsync(Kubectl, ["label", "--local", "-f", "-", "deployment-tests.invalid/none-", "-o", "json"],
            standardInput: yaml, environment: new Dictionary<string, string?> { ["KUBECONFIG"] = "/dev/null" });
        Assert.True(json.ExitCode == 0, $"kubectl could not read the YAML: {json}");
        var objects = new List<JsonElement>();
        var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(json.StandardOutput), new JsonReaderOptions { AllowMultipleValues = true });
        while (reader.Read())
        {
            using var document = JsonDocument.ParseValue(ref reader);
            var root = document.RootElement.Clone();
            if (root.GetProperty("kind").GetString() == "List")
                objects.AddRange(root.GetProperty("items").EnumerateArray());
            else
                objects.Add(root);
        }
        return objects;
    }

    public static JsonElement Single(this IReadOnlyList<JsonElement> objects, string kind)
    {
        var matches = objects.Where(o => o.GetProperty("kind").GetString() == kind).ToList();
        Assert.True(matches.Count == 1, $"expected exactly one {kind}, found {matches.Count}");
        return matches[0];
    }

    public static JsonElement At(this JsonElement element, params string[] path)
    {
        foreach (var part in path)
        {
            JsonElement next = default;
            Assert.True(element.ValueKind == JsonValueKind.Object && element.TryGetProperty(part, out next),
                $"'{part}' missing in {element}");
            element = next;
        }
        return element;
    }

    public static string? OrNull(this JsonElement element, params string[] path)
    {
        foreach (var part in path)
        {
            if (element.ValueKind != JsonValueKind.Object || !element.TryGetProperty(part, out element)) return null;
        }
        return element.ValueKind == JsonValueKind.String ? element.GetString() : element.ToString();
    }
}
