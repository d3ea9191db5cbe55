using System.Text.Json;
using EntitlementGateway.Infrastructure;
using EntitlementGateway.Security;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace EntitlementGateway.UnitTests.Infrastructure;

/// <summary><see cref="EffectiveConfiguration.Build"/> over a real container: what is listed, how, and what a section that cannot be shown becomes.</summary>
public sealed class EffectiveConfigurationBuildTests
{
    private sealed class Environment : IHostEnvironment
    {
        public string EnvironmentName { get; set; } = "Staging";
        public string ApplicationName { get; set; } = "test";
        public string ContentRootPath { get; set; } = "/";
        public IFileProvider ContentRootFileProvider { get; set; } = new NullFileProvider();
    }

    public sealed class SampleOptions
    {
        public string? ClientSecret { get; set; } = "s3cret";
        public string TenantId { get; set; } = "contoso";
        public SwaggerAccess Swagger { get; set; } = SwaggerAccess.Protected;
    }

    public sealed class OtherOptions
    {
        public int Limit { get; set; } = 7;
    }

    public sealed class Throwing<TException> where TException : Exception, new()
    {
        public string Shown { get; set; } = "x";
        public string Broken => throw new TException();
    }

    private static ServiceProvider Services(params (string Name, Type Type)[] sections)
    {
        var services = new ServiceCollection();
        services.AddOptions();
        foreach (var (name, type) in sections) services.AddSingleton(new OptionsSection(name, type));
        return services.BuildServiceProvider();
    }

    [Fact]
    public void Build_ShowsEverySectionAsBound_CamelCase_EnumsAsNames_SecretsRedacted_InNameOrder()
    {
        using var services = Services(("Zeta", typeof(OtherOptions)), ("Alpha", typeof(SampleOptions)));
        var report = EffectiveConfiguration.Build(services, new Environment());

        Assert.Equal("Staging", report.Environment);
        Assert.Equal(System.Environment.MachineName, report.Replica);
        Assert.Equal(["Alpha", "Zeta"], report.Sections.Keys);
        var alpha = report.Sections["Alpha"]!;
        Assert.Equal(EffectiveConfiguration.Redacted, alpha["clientSecret"]!.GetValue<string>());
        Assert.Equal("contoso", alpha["tenantId"]!.GetValue<string>());
        Assert.Equal("Protected", alpha["swagger"]!.GetValue<string>());
        Assert.Equal(7, report.Sections["Zeta"]!["limit"]!.GetValue<int>());
    }

    [Fact]
    public void Build_ASectionListedTwice_IsShownOnce_AsFirstListed()
    {
        using var services = Services(("Same", typeof(OtherOptions)), ("Same", typeof(SampleOptions)));
        var section = Assert.Single(EffectiveConfiguration.Build(services, new Environment()).Sections).Value!;
        Assert.Equal(7, section["limit"]!.GetValue<int>());
        Assert.Null(section["tenantId"]);
    }

    [Theory]
    [InlineData(typeof(Throwing<NotSupportedException>), "not shown: NotSupportedException")]
    [InlineData(typeof(Throwing<InvalidOperationException>), "not shown: InvalidOperationException")]
    [InlineData(typeof(Throwing<JsonException>), "not shown: JsonException")]
    public void Build_ASectionThatCannotBeSerialized_IsNamedNotShown_AndTheOthersStillAre(Type type, string expected)
    {
        using var services = Services(("Broken", type), ("Fine", typeof(OtherOptions)));
        var sections = EffectiveConfiguration.Build(services, new Environment()).Sections;
        Assert.Equal(expected, sections["Broken"]!.GetValue<string>());
        Assert.Equal(7, sections["Fine"]!["limit"]!.GetValue<int>());
    }

    [Fact]
    public void Build_AnUnexpectedFailure_IsNotHidden() =>
        Assert.Throws<ArgumentException>(() =>
        {
            using var services = Services(("Broken", typeof(Throwing<ArgumentException>)));
            EffectiveConfiguration.Build(services, new Environment());
        });

    [Fact]
    public void Build_WithoutServices_Throws() =>
        Assert.Throws<ArgumentNullException>(() => EffectiveConfiguration.Build(null!, new Environment()));

    [Fact]
    public void Build_ReadsTheOptionsInEffect_NotTheirDefaults()
    {
        var services = new ServiceCollection();
        services.AddSingleton(new OptionsSection("Other", typeof(OtherOptions)));
        services.Configure<OtherOptions>(o => o.Limit = 42);
        using var provider = services.BuildServiceProvider();
        Assert.Equal(42, EffectiveConfiguration.Build(provider, new Environment()).Sections["Other"]!["limit"]!.GetValue<int>());
    }
}
