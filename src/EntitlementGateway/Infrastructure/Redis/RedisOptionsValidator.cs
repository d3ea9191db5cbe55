using Microsoft.Extensions.Options;
using EntitlementGateway.Infrastructure;

namespace EntitlementGateway.Infrastructure.Redis;

/// <summary>Start-up checks of the Redis section: its timeouts, and a connection string StackExchange.Redis cannot parse (without echoing it: it may hold a password).</summary>
internal sealed class RedisOptionsValidator : IValidateOptions<RedisOptions>
{
    public ValidateOptionsResult Validate(string? name, RedisOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var ranges = new OptionsErrors(RedisOptions.Section)
            .Range(nameof(options.OperationTimeoutMs), options.OperationTimeoutMs, 10, 60_000)
            .Range(nameof(options.ConnectTimeoutMs), options.ConnectTimeoutMs, 100, 120_000)
            .Range(nameof(options.SyncTimeoutMs), options.SyncTimeoutMs, 10, 120_000)
            .Require(Store.Thumbprints.IsSha1OrEmpty(options.TrustedCertificateThumbprint),
                $"{RedisOptions.Section}:{nameof(options.TrustedCertificateThumbprint)} must be a certificate's SHA-1 thumbprint: 40 hex digits.")
            .Result;
        if (ranges.Failed || string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            return ranges;
        }

        return ValidateConnectionString(options);
    }

    // Apart from Validate, so the Redis client's assembly is loaded only when a connection string is set.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static ValidateOptionsResult ValidateConnectionString(RedisOptions options)
    {
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
