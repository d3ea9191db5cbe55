using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace EntitlementGateway.Hosting;

/// <summary>
/// The process's one Redis connection, opened on first use. It never aborts on a failed connect: the multiplexer keeps
/// reconnecting in the background and calls made meanwhile fail fast, so Redis being down at start-up or later is an
/// ordinary, recoverable state rather than a crashed singleton.
/// </summary>
public sealed class RedisConnection : IAsyncDisposable, IDisposable
{
    private readonly Lazy<Task<ConnectionMultiplexer>> _multiplexer;

    public RedisConnection(IOptions<RedisOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var configuration = CreateConfiguration(options.Value);
        _multiplexer = new Lazy<Task<ConnectionMultiplexer>>(
            () => ConnectionMultiplexer.ConnectAsync(configuration),
            LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <summary>The multiplexer; the first caller starts the connect, everyone shares it.</summary>
    public Task<ConnectionMultiplexer> GetAsync() => _multiplexer.Value;

    /// <summary>Parses the connection string and applies our timeouts. Throws on a malformed string.</summary>
    public static ConfigurationOptions CreateConfiguration(RedisOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            throw new InvalidOperationException($"{RedisOptions.Section}:{nameof(RedisOptions.ConnectionString)} is empty.");
        }

        var configuration = ConfigurationOptions.Parse(options.ConnectionString);
        configuration.AbortOnConnectFail = false;
        configuration.ConnectTimeout = options.ConnectTimeoutMs;
        configuration.SyncTimeout = options.SyncTimeoutMs;
        configuration.ClientName ??= "entitlement-gateway";
        return configuration;
    }

    /// <summary>For containers disposed synchronously: closes a connection that finished connecting.</summary>
    public void Dispose()
    {
        if (_multiplexer.IsValueCreated && _multiplexer.Value.IsCompletedSuccessfully)
        {
            _multiplexer.Value.Result.Dispose();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_multiplexer.IsValueCreated)
        {
            try
            {
                var multiplexer = await _multiplexer.Value.ConfigureAwait(false);
                await multiplexer.CloseAsync(allowCommandsToComplete: false).ConfigureAwait(false);
                multiplexer.Dispose();
            }
            catch (RedisException)
            {
                // Closing a connection that never came up: nothing to release.
            }
        }
    }
}
