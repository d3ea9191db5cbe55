namespace EntitlementGateway.Hosting;

/// <summary>How the host is built before any service is added.</summary>
public static class GatewayHost
{
    private const string Settings = "appsettings.json";

    /// <summary>
    /// The builder's options. The content root (where appsettings.json is read) is the working directory, as ASP.NET
    /// Core makes it, unless that holds no appsettings.json and the app's own folder does: a gateway started as
    /// <c>dotnet /opt/gateway/EntitlementGateway.dll</c> from elsewhere (a service unit, a script) would otherwise run
    /// without its file's settings, its log levels among them. A content root given on the command line or in
    /// ASPNETCORE_CONTENTROOT / DOTNET_CONTENTROOT is left to the host.
    /// </summary>
    public static WebApplicationOptions Options(string[] args, string currentDirectory, string appDirectory, Func<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(environment);
        var given = args.Any(a => a.TrimStart('-', '/').StartsWith("contentRoot", StringComparison.OrdinalIgnoreCase))
            || !string.IsNullOrEmpty(environment("ASPNETCORE_CONTENTROOT")) || !string.IsNullOrEmpty(environment("DOTNET_CONTENTROOT"));
        var fromAppFolder = !given && !File.Exists(Path.Combine(currentDirectory, Settings)) && File.Exists(Path.Combine(appDirectory, Settings));
        return new WebApplicationOptions { Args = args, ContentRootPath = fromAppFolder ? appDirectory : null };
    }
}
