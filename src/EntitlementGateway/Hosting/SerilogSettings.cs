using System.Reflection;
using Serilog;
using Serilog.Configuration;
using Serilog.Events;

namespace EntitlementGateway.Hosting;

/// <summary>
/// The <c>Serilog</c> section checked before Serilog reads it. Serilog skips a sink it cannot find without a word (the
/// logs a deployment counted on never arrive) and refuses a bad level without naming the key; both stop the start here,
/// naming the key.
/// </summary>
internal static class SerilogSettings
{
    private static readonly string[] LevelNames = Enum.GetNames<LogEventLevel>();

    /// <summary>What is wrong with the section, one message per key; empty when nothing is.</summary>
    public static IReadOnlyList<string> Problems(IConfiguration configuration, IReadOnlyCollection<Assembly> sinkAssemblies)
    {
        var problems = new List<string>();
        var section = configuration.GetSection("Serilog");
        var minimum = section.GetSection("MinimumLevel");
        CheckLevel(minimum, problems);
        CheckLevel(minimum.GetSection("Default"), problems);
        foreach (var category in minimum.GetSection("Override").GetChildren()) CheckLevel(category, problems);

        var writeTo = section.GetSection("WriteTo").GetChildren().ToList();
        if (writeTo.Count == 0) return problems;
        var sinks = SinkNames(sinkAssemblies);
        foreach (var sink in writeTo)
        {
            // Serilog takes "WriteTo": ["Console"] as well as "WriteTo": [{ "Name": "Console", "Args": {...} }]; an entry
            // that is both (a value and keys under it, from two configuration sources) it builds no sink from.
            var hasChildren = sink.GetChildren().Any();
            var key = sink.Value is null ? sink.Path + ":Name" : sink.Path;
            var name = sink.Value ?? sink["Name"];
            if (sink.Value is not null && hasChildren)
                problems.Add($"{sink.Path} is both a sink's name and a section of settings; name the sink once, as {sink.Path}:Name.");
            else if (string.IsNullOrWhiteSpace(name))
                problems.Add($"{key} is missing: name the sink (Console).");
            else if (!sinks.Contains(name))
                problems.Add($"{key} names a sink this build does not hold; the sinks here are: {string.Join(", ", sinks.Order(StringComparer.Ordinal))}.");
        }

        return problems;
    }

    /// <summary>Throws with every problem of <see cref="Problems"/>, so the start stops before Serilog reads the section.</summary>
    public static void Check(IConfiguration configuration, IReadOnlyCollection<Assembly> sinkAssemblies)
    {
        var problems = Problems(configuration, sinkAssemblies);
        // A refused setting like any other section's: the start-up refusal names it in one line, without a trace.
        if (problems.Count > 0) throw new Microsoft.Extensions.Options.OptionsValidationException("Serilog", typeof(IConfiguration), problems);
    }

    private static void CheckLevel(IConfigurationSection level, List<string> problems)
    {
        // A section with children (MinimumLevel: { Default: ... }) has no value of its own, or an empty one (some hosts
        // set one), which Serilog reads as no level.
        if (level.Value is not { Length: > 0 } value) return;
        if (!LevelNames.Contains(value.Trim(), StringComparer.OrdinalIgnoreCase))
            problems.Add($"{level.Path} is not a level: use one of {string.Join(", ", LevelNames)}.");
    }

    /// <summary>The names Serilog's configuration reader can find in <paramref name="assemblies"/>: the extension methods
    /// of <see cref="LoggerSinkConfiguration"/> there and its own methods (Sink, Logger, Conditional, ...). Matched as
    /// Serilog matches them, case and all: it skips "console" as silently as "File".</summary>
    internal static HashSet<string> SinkNames(IReadOnlyCollection<Assembly> assemblies)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var method in typeof(LoggerSinkConfiguration).GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly))
            names.Add(method.Name);
        foreach (var type in assemblies.SelectMany(a => a.GetExportedTypes()).Where(t => t is { IsAbstract: true, IsSealed: true }))
        {
            foreach (var method in type.GetMethods(BindingFlags.Public | BindingFlags.Static))
            {
                if (method.GetParameters() is [{ ParameterType: var first }, ..] && first == typeof(LoggerSinkConfiguration))
                    names.Add(method.Name);
            }
        }

        return names;
    }
}
