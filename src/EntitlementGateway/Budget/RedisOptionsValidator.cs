using EntitlementGateway.Hosting;
using Microsoft.Extensions.Options;

namespace EntitlementGateway.Budget;

/// <summary>Fails start-up on a connection string StackExchange.Redis cannot parse (without echoing it: it may hold a password).</summary>
internal sealed class RedisOptionsValidator : IValidateOptions<RedisOptions>
{
    public ValidateOptionsResult Validate(string? name, RedisOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            return ValidateOptionsResult.Success;
        }

        try
        {
            var configuration = RedisConnection.CreateConfiguration(options);
            return configuration.EndPoints.Count == 0
                ? ValidateOptionsResult.Fail($"{RedisOptions.Section}:{nameof(RedisOptions.ConnectionString)} names no endpoint (host:port).")
                : ValidateOptionsResult.Success;
        }
        catch (ArgumentException e)
        {
            return ValidateOptionsResult.Fail($"{RedisOptions.Section}:{nameof(RedisOptions.ConnectionString)} is not a valid StackExchange.Redis configuration: {e.Message}");
        }
    }
}
