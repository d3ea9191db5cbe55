using EntitlementGateway.Infrastructure.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Identity.Client;
using LogLevel = Microsoft.Extensions.Logging.LogLevel;

namespace EntitlementGateway.Store;

/// <summary>
/// Live mode (with <c>Store:TokenAtStart</c>): asks for the service token once the host has started, off the start-up
/// path, so readiness never waits on the identity provider. Wrong credentials then show at deploy time, as one error
/// line naming the settings to check and a <c>Degraded</c> <c>store-credentials</c> check, instead of at the first
/// player's query; a good token is held for that query. A failure changes nothing else: the next query asks again.
/// </summary>
internal sealed partial class StoreTokenAtStart(IServiceProvider services, IOptions<StoreOptions> options, ILogger<StoreTokenAtStart> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.TokenAtStart || StoreSetup.IsEmulatorMode(services)) return;
        await Task.Yield();
        try
        {
            var token = await services.GetRequiredService<IStoreTokenProvider>().GetServiceTokenAsync(stoppingToken);
            Log.Obtained(logger, token.ExpiresOn);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            Log.Failed(logger, Reason(ex), options.Value.EffectiveCredential.ToString());
        }
    }

    /// <summary>What went wrong, without the identity provider's message (it may echo the request).</summary>
    internal static string Reason(Exception exception) => exception switch
    {
        MsalException msal => msal.ErrorCode,
        StoreTokenTimeoutException => "timeout",
        _ => exception.GetType().Name,
    };

    private static partial class Log
    {
        [LoggerMessage(EventId = EventIds.ServiceTokenAtStart, EventName = nameof(EventIds.ServiceTokenAtStart), Level = LogLevel.Information,
            Message = "Store service token obtained at start-up (expires {ExpiresOn:O}): the Store credentials work.")]
        public static partial void Obtained(ILogger logger, DateTimeOffset expiresOn);

        [LoggerMessage(EventId = EventIds.ServiceTokenAtStartFailed, EventName = nameof(EventIds.ServiceTokenAtStartFailed), Level = LogLevel.Error,
            Message = "The Store service token could not be obtained at start-up ({Reason}): check Store:TenantId (or Store:Authority), Store:ClientId and the {Credential} credential (Store:ClientSecret, Store:CertificatePath, or the workload or managed identity). Queries answer 502 until a token is obtained; each one asks again.")]
        public static partial void Failed(ILogger logger, string reason, string credential);
    }
}
