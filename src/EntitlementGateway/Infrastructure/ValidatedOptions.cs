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
        services.AddSingleton(new OptionsSection(section, typeof(TOptions)));
        return services.AddOptions<TOptions>().BindConfiguration(section).ValidateOnStart();
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
