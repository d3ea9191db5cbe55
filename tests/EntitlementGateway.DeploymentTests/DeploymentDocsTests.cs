using EntitlementGateway.DeploymentTests.Infrastructure;

namespace EntitlementGateway.DeploymentTests;

/// <summary>Every deployment folder is named where a platform engineer looks for it: deploy/README.md and the README's Deployment section.</summary>
public sealed class DeploymentDocsTests
{
    public static TheoryData<string> Folders()
    {
        var data = new TheoryData<string>("deploy/base/", "deploy/monitoring/");
        foreach (var overlay in Directory.GetDirectories(Repo.PathOf("deploy", "overlays")).Order(StringComparer.Ordinal))
            data.Add($"deploy/overlays/{Path.GetFileName(overlay)}/");
        return data;
    }

    [Theory]
    [MemberData(nameof(Folders))]
    public void EachDeploymentFolder_IsInBothFileTables(string folder)
    {
        var deployReadme = File.ReadAllText(Repo.PathOf("deploy", "README.md"));
        var readme = File.ReadAllText(Repo.PathOf("README.md"));
        var deployment = readme[readme.IndexOf("\n## Deployment\n", StringComparison.Ordinal)..];

        Assert.Contains($"| `{folder}` |", deployReadme, StringComparison.Ordinal);
        Assert.Contains($"| `{folder}` |", deployment, StringComparison.Ordinal);
    }

    [Fact]
    public void TheNetworkPolicysEgressPorts_AreTheOnesTheReadmeNames()
    {
        var policy = File.ReadAllText(Repo.PathOf("deploy", "base", "networkpolicy.yaml"));
        var readme = File.ReadAllText(Repo.PathOf("README.md"));
        var ports = System.Text.RegularExpressions.Regex.Matches(policy, @"port:\s*(\d+)").Select(m => m.Groups[1].Value).Distinct().ToList();

        Assert.Superset(new HashSet<string> { "53", "443", "6379", "6380", "4317", "4318" }, ports.ToHashSet());
        Assert.Contains("Egress is allowed to DNS (53), Redis (6379/6380), HTTPS (443: Entra ID and the Store\n  are on the internet) and OTLP (4317/4318)", readme, StringComparison.Ordinal);
    }

    public static TheoryData<string> ProblemCodes()
    {
        var source = File.ReadAllText(Repo.PathOf("src", "EntitlementGateway", "Infrastructure", "Http", "GatewayProblems.cs"));
        var codes = System.Text.RegularExpressions.Regex.Matches(source, @"public const string \w+ = ""([a-z_]+)"";").Select(m => m.Groups[1].Value).ToList();
        Assert.True(codes.Count > 20, "the problem codes were not found in GatewayProblems.cs");
        return [.. codes];
    }

    [Theory]
    [MemberData(nameof(ProblemCodes))]
    public void EveryProblemCode_HasARowInTheReadmesErrorsTable(string code)
    {
        var readme = File.ReadAllText(Repo.PathOf("README.md"));
        var start = readme.IndexOf("\n### Errors\n", StringComparison.Ordinal);
        var table = readme[start..readme.IndexOf("\n\n", readme.IndexOf("\n| status | code | when |", start, StringComparison.Ordinal), StringComparison.Ordinal)];

        Assert.Matches($@"\n\| \d{{3}} \| [^|]*`{code}`", table);
    }
}
