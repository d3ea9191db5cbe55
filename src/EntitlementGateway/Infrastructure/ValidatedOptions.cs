using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace EntitlementGateway.Infrastructure;

/// <summary>The one way options are registered: bound to their section and checked at start-up by one validator.</summary>
public static class ValidatedOptions
{
    /// <summary>Binds <typeparamref name="TOptions"/> to <paramref name="section"/>; a value <typeparamref name="TValidator"/>
    /// refuses stops start-up with a message that names the key.</summary>
    public static OptionsBuilder<TOptions> AddValidatedOptions<TOptions, TValidator>(this IServiceCollection services, string section)
        where TOptions : class
        where TValidator : class, IValidateOptions<TOptions>
    {
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<TOptions>, TValidator>());
        services.AddSingleton<IValidateOptions<TOptions>>(provider => new KnownKeysValidator<TOptions>(provider.GetRequiredService<IConfiguration>(), section));
        services.AddSingleton(new OptionsSection(section, typeof(TOptions)));
        return services.AddOptions<TOptions>().BindConfiguration(section).ValidateOnStart();
    }
}

/// <summary>
/// Refuses a key the section does not have (<c>Budget__Replica</c> for <c>Budget__Replicas</c>), and a section whose name
/// is one or two letters off this one's (<c>Stor__MaxPages</c>): the binder ignores both, so the setting would silently
/// keep its default. Only the section's own keys are checked, not those under a setting that holds a list or a map.
/// </summary>
internal sealed class KnownKeysValidator<TOptions>(IConfiguration configuration, string section) : IValidateOptions<TOptions>
    where TOptions : class
{
    public ValidateOptionsResult Validate(string? name, TOptions options)
    {
        var known = typeof(TOptions).GetProperties(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Instance)
            .Where(p => p.SetMethod?.IsPublic == true || p.PropertyType is { IsValueType: false } type && type != typeof(string))
            .Select(p => p.Name).Order(StringComparer.Ordinal).ToList();
        var errors = configuration.GetSection(section).GetChildren()
            .Where(child => !known.Contains(child.Key, StringComparer.OrdinalIgnoreCase))
            .Select(child => $"{section}:{child.Key} (environment variable {section}__{child.Key}) is not a setting of {section}{Suggestion(child.Key, known)}; its settings are {string.Join(", ", known)}.")
            .Concat(configuration.GetChildren()
                .Where(other => other.GetChildren().Any() && IsMisspelling(other.Key, section))
                .Select(other => $"{other.Key} (environment variables {other.Key}__...) is not a section of the gateway; did you mean {section}?"))
            .ToList();
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static string Suggestion(string key, List<string> known) =>
        known.Where(k => IsMisspelling(key, k)).OrderBy(k => Distance(key, k)).FirstOrDefault() is { } closest ? $" (did you mean {closest}?)" : "";

    /// <summary>Not the same name, but one letter off (two for names of six letters or more), ignoring case.</summary>
    internal static bool IsMisspelling(string written, string meant)
    {
        var distance = Distance(written.ToUpperInvariant(), meant.ToUpperInvariant());
        return distance > 0 && distance <= (meant.Length >= 6 ? 2 : 1);
    }

    /// <summary>The edit distance (insertions, deletions, substitutions).</summary>
    internal static int Distance(string a, string b)
    {
        a = a.ToUpperInvariant();
        b = b.ToUpperInvariant();
        var row = Enumerable.Range(0, b.Length + 1).ToArray();
        for (var i = 1; i <= a.Length; i++)
        {
            var diagonal = row[0];
            row[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var above = row[j];
                row[j] = Math.Min(Math.Min(row[j] + 1, row[j - 1] + 1), diagonal + (a[i - 1] == b[j - 1] ? 0 : 1));
                diagonal = above;
            }
        }
        return row[b.Length];
    }
}

/// <summary>A validated options section, listed so the ops console can show every setting in effect.</summary>
public sealed record OptionsSection(string Name, Type OptionsType);

/// <summary>Collects what is wrong with one options section, each message naming its key.</summary>
public sealed class OptionsErrors(string section)
{
    private readonly List<string> _errors = [];

    /// <summary>Adds an error unless <paramref name="min"/> ≤ <paramref name="value"/> ≤ <paramref name="max"/>.</summary>
    public OptionsErrors Range(string key, double value, double min, double max)
    {
        if (!(value >= min && value <= max))
            _errors.Add(FormattableString.Invariant($"{section}:{key} must be between {min} and {max}; it is {value}."));
        return this;
    }

    /// <summary>Adds <paramref name="message"/> unless <paramref name="ok"/>.</summary>
    public OptionsErrors Require(bool ok, string message)
    {
        if (!ok) _errors.Add(message);
        return this;
    }

    public ValidateOptionsResult Result => _errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(_errors);
}
