using System.Reflection;
using EntitlementGateway.Hosting;
using Microsoft.Extensions.Configuration;
using Serilog;
using Serilog.Core;
using Serilog.Events;

namespace EntitlementGateway.UnitTests.Hosting;

/// <summary>The Serilog section checked at start: an unknown sink or level names its key instead of being skipped.</summary>
public sealed class SerilogSettingsTests
{
    private static readonly Assembly[] Assemblies = [typeof(Log).Assembly, typeof(ConsoleLoggerConfigurationExtensions).Assembly];

    private static IReadOnlyList<string> Problems(params (string Key, string Value)[] settings) =>
        SerilogSettings.Problems(new ConfigurationBuilder().AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value))).Build(), Assemblies);

    [Fact]
    public void TheShippedSettings_AndTheConsoleSinkInEitherForm_AreAccepted()
    {
        Assert.Empty(Problems());
        Assert.Empty(Problems(("Serilog:MinimumLevel:Default", "Information"), ("Serilog:MinimumLevel:Override:Microsoft.AspNetCore", "warning"),
            ("Serilog:WriteTo:0:Name", "Console"), ("Serilog:WriteTo:1", "Console"), ("Serilog:WriteTo:named:Name", "Console")));
        Assert.Empty(Problems(("Serilog:MinimumLevel", "Debug")));
        // An empty value (a test host gives the section one) is no level, as Serilog reads it.
        Assert.Empty(Problems(("Serilog:MinimumLevel", ""), ("Serilog:MinimumLevel:Default", "Warning")));
    }

    [Fact]
    public void ASinkThatIsNotInTheBuild_IsNamedByItsKey()
    {
        var problem = Assert.Single(Problems(("Serilog:WriteTo:0:Name", "Console"), ("Serilog:WriteTo:1:Name", "File"), ("Serilog:WriteTo:1:Args:path", "/x")));
        Assert.Equal("Serilog:WriteTo:1:Name names a sink this build does not hold; the sinks here are: Conditional, Console, FallbackChain, Fallible, Logger, Sink.", problem);
        Assert.StartsWith("Serilog:WriteTo:2 names a sink this build does not hold", Assert.Single(Problems(("Serilog:WriteTo:2", "Seq"))));
    }

    [Fact]
    public void ASinkWithoutAName_IsNamedByItsKey() =>
        Assert.Equal(["Serilog:WriteTo:0:Name is missing: name the sink (Console)."], Problems(("Serilog:WriteTo:0:Args:theme", "x")));

    [Theory]
    [InlineData("Serilog:MinimumLevel:Default", "Loud")]
    [InlineData("Serilog:MinimumLevel:Override:System.Net.Http", "Warn")]
    [InlineData("Serilog:MinimumLevel", "2")]
    [InlineData("Serilog:MinimumLevel:Default", " ")]
    public void ALevelThatIsNotALevel_IsNamedByItsKey(string key, string value) =>
        Assert.Equal([$"{key} is not a level: use one of Verbose, Debug, Information, Warning, Error, Fatal."], Problems((key, value)));

    [Fact]
    public void Check_Throws_WithEveryProblem()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Serilog:MinimumLevel:Default"] = "Loud",
            ["Serilog:WriteTo:0:Name"] = "File",
        }).Build();

        var error = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() => SerilogSettings.Check(configuration, Assemblies));
        Assert.Equal("Serilog", error.OptionsName);
        Assert.Collection(error.Failures,
            f => Assert.Equal("Serilog:MinimumLevel:Default is not a level: use one of Verbose, Debug, Information, Warning, Error, Fatal.", f),
            f => Assert.StartsWith("Serilog:WriteTo:0:Name names a sink", f, StringComparison.Ordinal));
        SerilogSettings.Check(new ConfigurationBuilder().Build(), Assemblies);
    }

    [Fact]
    public void TheNamesAccepted_AreTheOnesSerilogFinds()
    {
        var names = SerilogSettings.SinkNames(Assemblies);
        Assert.Contains("Console", names);
        Assert.Contains("Sink", names);
        Assert.DoesNotContain("File", names);
        Assert.DoesNotContain("Debug", names); // an extension of another configuration object (levels), not a sink

        Assert.DoesNotContain("console", names);

        // Serilog's own reader finds a sink by the same name, case and all: "console" is skipped without a word.
        Assert.Equal(["probe-line"], LinesWrittenWith("Console", "Warning"));
        Assert.Empty(LinesWrittenWith("console", "Warning"));
    }

    [Fact]
    public void AnEntryWithBothAValueAndSettings_IsNamedByItsKey_SinceSerilogBuildsNothingFromIt()
    {
        Assert.Equal(["Serilog:WriteTo:0 is both a sink's name and a section of settings; name the sink once, as Serilog:WriteTo:0:Name."],
            Problems(("Serilog:WriteTo:0", "Console"), ("Serilog:WriteTo:0:Name", "Console")));
        Assert.Single(Problems(("Serilog:WriteTo:0", "Console"), ("Serilog:WriteTo:0:Args:outputTemplate", "{Message}")));
        Assert.Empty(LinesWrittenWith("Console", "Warning", alsoNamed: "Console"));
    }

    [Fact]
    public void ACaseOtherThanSerilogsOwn_IsNamedByItsKey() =>
        Assert.StartsWith("Serilog:WriteTo:0:Name names a sink this build does not hold", Assert.Single(Problems(("Serilog:WriteTo:0:Name", "console"))));

    /// <summary>What a logger Serilog builds from a WriteTo entry named <paramref name="sink"/> writes to standard output.</summary>
    private static string[] LinesWrittenWith(string sink, string overrideLevel, string? alsoNamed = null)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            [alsoNamed is null ? "Serilog:WriteTo:0:Name" : "Serilog:WriteTo:0"] = sink,
            ["Serilog:WriteTo:0:Name"] = alsoNamed ?? sink,
            ["Serilog:WriteTo:0:Args:outputTemplate"] = "{Message}{NewLine}",
            ["Serilog:MinimumLevel:Override:Quiet"] = overrideLevel.ToLowerInvariant(), // levels, unlike sinks, are read in any case
        }).Build();
        Assert.DoesNotContain(SerilogSettings.Problems(configuration, Assemblies), p => p.Contains("level", StringComparison.Ordinal));
        var captured = new StringWriter();
        var previous = Console.Out;
        Console.SetOut(captured);
        try
        {
            using var logger = new LoggerConfiguration().ReadFrom.Configuration(configuration, new Serilog.Settings.Configuration.ConfigurationReaderOptions(Assemblies)).CreateLogger();
            logger.Information("probe-line");
            logger.ForContext(Constants.SourceContextPropertyName, "Quiet").Information("below the override");
        }
        finally
        {
            Console.SetOut(previous);
        }

        // Other tests may write to the console meanwhile: only this logger's two messages count.
        return captured.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(line => line is "probe-line" or "below the override").ToArray();
    }
}
