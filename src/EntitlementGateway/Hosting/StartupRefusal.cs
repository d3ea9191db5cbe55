using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace EntitlementGateway.Hosting;

/// <summary>What a configuration refused at start-up says, in one line that names each key; null for any other failure.</summary>
public static partial class StartupRefusal
{
    public static string? Describe(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        var reasons = new List<string>();
        return Collect(exception, reasons) && reasons.Count > 0 ? string.Join(" ", reasons) : null;
    }

    /// <summary>False when any part of <paramref name="exception"/> is not a configuration refusal.</summary>
    private static bool Collect(Exception exception, List<string> reasons)
    {
        switch (exception)
        {
            case OptionsValidationException refused:
                reasons.AddRange(refused.Failures);
                return true;
            case AggregateException many:
                return many.InnerExceptions.All(inner => Collect(inner, reasons));
            case InvalidOperationException { InnerException: System.Security.Cryptography.CryptographicException } certificate
                when certificate.Message.StartsWith("Store:CertificatePath", StringComparison.Ordinal):
                reasons.Add(certificate.Message);
                return true;
            case InvalidOperationException notConverted when Unconvertible().Match(notConverted.Message) is { Success: true } match:
                var key = match.Groups["key"].Value;
                reasons.Add($"{key} (environment variable {key.Replace(":", "__", StringComparison.Ordinal)}) cannot be read as {Friendly(match.Groups["type"].Value)}: '{match.Groups["value"].Value}'.");
                return true;
            default:
                return false;
        }
    }

    /// <summary>The binder's own wording for a value of the wrong type.</summary>
    [GeneratedRegex(@"^Failed to convert configuration value '(?<value>.*)' at '(?<key>[^']+)' to type '(?<type>[^']+)'\.", RegexOptions.Singleline)]
    private static partial Regex Unconvertible();

    private static string Friendly(string type) => type switch
    {
        "System.Int32" or "System.Int64" => "a whole number",
        "System.Double" => "a number",
        "System.Boolean" => "true or false",
        "System.TimeSpan" => "a duration (hh:mm:ss)",
        "System.Uri" => "an absolute URL",
        _ when Type.GetType(type) is { IsEnum: true } e => "one of " + string.Join(", ", Enum.GetNames(e)),
        _ => type,
    };
}
