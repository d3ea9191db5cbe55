using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace EntitlementGateway.Infrastructure.Redis;

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
            () => ConnectAsync(configuration),
            LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <summary>The multiplexer; the first caller starts the connect, everyone shares it.</summary>
    public Task<ConnectionMultiplexer> GetAsync() => _multiplexer.Value;

    /// <summary>
    /// Whether the first connect ended unconnected because Redis refused the password or user: a setting to fix, not an
    /// outage to ride out. The client reports it only in its connect log, so that log is read (never written anywhere:
    /// it holds the endpoints, with the password masked).
    /// </summary>
    public bool CredentialsRefused { get; private set; }

    private async Task<ConnectionMultiplexer> ConnectAsync(ConfigurationOptions configuration)
    {
        using var log = new StringWriter(System.Globalization.CultureInfo.InvariantCulture);
        var multiplexer = await ConnectionMultiplexer.ConnectAsync(configuration, log).ConfigureAwait(false);
        CredentialsRefused = !multiplexer.IsConnected && ShowsRefusedCredentials(log.ToString());
        return multiplexer;
    }

    /// <summary>The client's connect log names an AUTH refusal as an AuthenticationFailure; the server's own words
    /// (NOAUTH without a password, WRONGPASS or "invalid password" with a wrong one) may appear beside it.</summary>
    internal static bool ShowsRefusedCredentials(string connectLog) =>
        connectLog.Contains("AuthenticationFailure", StringComparison.Ordinal) ||
        connectLog.Contains("NOAUTH", StringComparison.Ordinal) ||
        connectLog.Contains("WRONGPASS", StringComparison.Ordinal) ||
        connectLog.Contains("invalid password", StringComparison.OrdinalIgnoreCase);

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
        if (options.TrustedCertificateThumbprint is { Length: > 0 } pinned)
        {
            configuration.CertificateValidation += (_, certificate, _, errors) =>
                errors == System.Net.Security.SslPolicyErrors.None ||
                (certificate is not null && string.Equals(certificate.GetCertHashString(), pinned, StringComparison.OrdinalIgnoreCase));
        }
        return configuration;
    }

    /// <summary>For containers disposed synchronously.</summary>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    /// <summary>
    /// Closes the connection. A connect still in progress (Redis down) is not waited for: the multiplexer is
    /// disposed when that attempt ends, so shutting down never waits out the connect timeout.
    /// </summary>
    public ValueTask DisposeAsync()
    {
        if (!_multiplexer.IsValueCreated)
        {
            return ValueTask.CompletedTask;
        }

        var connecting = _multiplexer.Value;
        if (!connecting.IsCompleted)
        {
            connecting.ContinueWith(
                static t =>
                {
                    if (t.IsCompletedSuccessfully)
                    {
                        t.Result.Dispose();
                    }
                },
                CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously,
                TaskScheduler.Default);
            return ValueTask.CompletedTask;
        }

        if (connecting.IsCompletedSuccessfully)
        {
            // Dispose closes without waiting for outstanding commands: at shutdown nobody awaits them any more.
            connecting.Result.Dispose();
        }

        return ValueTask.CompletedTask;
    }
}
