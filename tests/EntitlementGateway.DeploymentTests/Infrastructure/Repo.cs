namespace EntitlementGateway.DeploymentTests.Infrastructure;

/// <summary>The repository this test run was built from.</summary>
public static class Repo
{
    public static string Root { get; } = FindRoot();

    public static string PathOf(params string[] parts) => Path.Combine([Root, .. parts]);

    public static string Read(params string[] parts) => File.ReadAllText(PathOf(parts));

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "EntitlementGateway.sln"))) return dir.FullName;
        throw new InvalidOperationException($"EntitlementGateway.sln not found above {AppContext.BaseDirectory}");
    }
}
