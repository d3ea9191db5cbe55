using EntitlementGateway.Hosting;

namespace EntitlementGateway.UnitTests.Hosting;

public sealed class GatewayHostTests : IDisposable
{
    private readonly string _elsewhere = Directory.CreateTempSubdirectory("eg-cwd-").FullName;
    private readonly string _app = Directory.CreateTempSubdirectory("eg-app-").FullName;

    public GatewayHostTests() => File.WriteAllText(Path.Combine(_app, "appsettings.json"), "{}");

    public void Dispose()
    {
        Directory.Delete(_elsewhere, recursive: true);
        Directory.Delete(_app, recursive: true);
    }

    private static string? NoEnvironment(string name) => null;

    [Fact]
    public void StartedFromAFolderWithoutSettings_ReadsThemFromTheAppsOwnFolder()
    {
        var options = GatewayHost.Options(["--urls", "http://127.0.0.1:0"], _elsewhere, _app, NoEnvironment);

        Assert.Equal(_app, options.ContentRootPath);
        Assert.Equal(["--urls", "http://127.0.0.1:0"], options.Args!);
    }

    [Fact]
    public void StartedFromAFolderWithSettings_KeepsTheWorkingDirectory()
    {
        File.WriteAllText(Path.Combine(_elsewhere, "appsettings.json"), "{}");

        Assert.Null(GatewayHost.Options([], _elsewhere, _app, NoEnvironment).ContentRootPath);
    }

    [Fact]
    public void AnAppFolderWithoutSettings_ChangesNothing()
    {
        File.Delete(Path.Combine(_app, "appsettings.json"));

        Assert.Null(GatewayHost.Options([], _elsewhere, _app, NoEnvironment).ContentRootPath);
    }

    [Theory]
    [InlineData("--contentRoot=/srv/gateway")]
    [InlineData("--contentroot")]
    [InlineData("/contentRoot")]
    [InlineData("contentRoot=/srv/gateway")]
    public void AContentRootOnTheCommandLine_IsLeftToTheHost(string argument)
    {
        Assert.Null(GatewayHost.Options([argument, "/srv/gateway"], _elsewhere, _app, NoEnvironment).ContentRootPath);
    }

    [Theory]
    [InlineData("ASPNETCORE_CONTENTROOT")]
    [InlineData("DOTNET_CONTENTROOT")]
    public void AContentRootInTheEnvironment_IsLeftToTheHost(string variable)
    {
        Assert.Null(GatewayHost.Options([], _elsewhere, _app, name => name == variable ? "/srv/gateway" : null).ContentRootPath);
        Assert.Equal(_app, GatewayHost.Options([], _elsewhere, _app, name => name == variable ? "" : null).ContentRootPath);
    }

    [Fact]
    public void NullArgumentsOrEnvironment_Throw()
    {
        Assert.Throws<ArgumentNullException>(() => GatewayHost.Options(null!, _elsewhere, _app, NoEnvironment));
        Assert.Throws<ArgumentNullException>(() => GatewayHost.Options([], _elsewhere, _app, null!));
    }
}
