using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;

namespace EntitlementGateway.Infrastructure;

/// <summary>The settings in effect: every validated section as bound (defaults included), secrets redacted.</summary>
/// <param name="Environment">The host environment (Production, Development, ...).</param>
/// <param name="Replica">The replica's name.</param>
/// <param name="Sections">Section name → its settings.</param>
public sealed record EffectiveConfigurationReport(string Environment, string Replica, IReadOnlyDictionary<string, JsonNode?> Sections);

/// <summary>
/// Builds <see cref="EffectiveConfigurationReport"/> from the bound options objects, not from raw configuration, so what
/// is shown is what the gateway uses. A value whose name says it is a secret is replaced by <see cref="Redacted"/>; a
/// connection string keeps its hosts and loses its password.
/// </summary>
public static class EffectiveConfiguration
{
    public const string Redacted = "***redacted***";

    // "identityheader": the emulator's managed-identity endpoint takes a shared secret in a header, as Azure's does.
    private static readonly string[] SecretWords = ["secret", "password", "apikey", "token", "headers", "privatekey", "identityheader"];
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() } };

    public static EffectiveConfigurationReport Build(IServiceProvider services, IHostEnvironment environment)
    {
        ArgumentNullException.ThrowIfNull(services);
        var sections = new SortedDictionary<string, JsonNode?>(StringComparer.Ordinal);
        foreach (var section in services.GetServices<OptionsSection>())
        {
            if (sections.ContainsKey(section.Name)) continue;
            var options = services.GetRequiredService(typeof(IOptions<>).MakeGenericType(section.OptionsType));
            var value = options.GetType().GetProperty(nameof(IOptions<object>.Value))!.GetValue(options);
            try
            {
                sections[section.Name] = Redact(JsonSerializer.SerializeToNode(value, section.OptionsType, Json));
            }
            catch (Exception ex) when (ex is NotSupportedException or InvalidOperationException or JsonException)
            {
                // Never let one odd property hide the rest; its value is not shown either.
                sections[section.Name] = JsonValue.Create("not shown: " + ex.GetType().Name);
            }
        }
        return new EffectiveConfigurationReport(environment.EnvironmentName, System.Environment.MachineName, sections);
    }

    /// <summary>A copy of <paramref name="node"/> with every secret value replaced (recursively).</summary>
    public static JsonNode? Redact(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject obj:
                var copy = new JsonObject();
                foreach (var (name, value) in obj)
                    copy[name] = IsConnectionString(name) && value is JsonValue v && v.TryGetValue<string>(out var text) ? RedactConnectionString(text)
                        : IsSecret(name) && IsText(value) ? Redacted
                        : Redact(value);
                return copy;
            case JsonArray array:
                return new JsonArray(array.Select(Redact).ToArray());
            case JsonValue value when value.TryGetValue<string>(out var text):
                return RedactText(text);
            default:
                return node?.DeepClone();
        }
    }

    /// <summary>
    /// A value whose name does not say it is secret can still hold one: a URL's user info or query (a webhook's
    /// <c>?code=</c>), or a private key pasted where a public one belongs.
    /// </summary>
    public static string RedactText(string text)
    {
        if (text.Contains("PRIVATE KEY", StringComparison.OrdinalIgnoreCase)) return Redacted;
        if (!text.Contains("://", StringComparison.Ordinal) || !Uri.TryCreate(text, UriKind.Absolute, out var uri)) return text;
        if (uri.UserInfo.Length == 0 && uri.Query.Length == 0) return text;
        var builder = new UriBuilder(uri);
        if (uri.UserInfo.Length > 0)
        {
            builder.UserName = Redacted;
            builder.Password = "";
        }
        if (uri.Query.Length > 0) builder.Query = Redacted;
        return builder.Uri.GetComponents(UriComponents.AbsoluteUri, UriFormat.Unescaped);
    }

    /// <summary>Whether a setting's name marks it as a secret (ClientSecret, CertificatePassword, ApiKey, OTLP Headers, ...).</summary>
    public static bool IsSecret(string name) =>
        SecretWords.Any(word => name.Contains(word, StringComparison.OrdinalIgnoreCase));

    private static bool IsConnectionString(string name) => name.EndsWith("ConnectionString", StringComparison.OrdinalIgnoreCase);

    // Only text can hold a secret: a flag or a number named like one (TrustForwardedHeaders) is shown.
    private static bool IsText(JsonNode? value) => value is JsonValue v && v.TryGetValue<string>(out var s) && s.Length > 0;

    /// <summary>StackExchange.Redis form <c>host:port,password=...,ssl=true</c>: every option naming a credential is redacted.</summary>
    public static string RedactConnectionString(string connectionString) =>
        string.Join(',', connectionString.Split(',').Select(part =>
        {
            var equals = part.IndexOf('=', StringComparison.Ordinal);
            if (equals < 0) return part;
            var key = part[..equals].Trim();
            return key.Equals("password", StringComparison.OrdinalIgnoreCase) || key.Equals("user", StringComparison.OrdinalIgnoreCase) || IsSecret(key)
                ? key + "=" + Redacted
                : part;
        }));
}
