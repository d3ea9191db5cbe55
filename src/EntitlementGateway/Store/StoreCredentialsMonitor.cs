using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using EntitlementGateway.Infrastructure.Logging;

namespace EntitlementGateway.Store;

/// <summary>
/// Tells a forged UCID from the gateway's own credentials going bad. The Store answers 401 both when a UCID is refused
/// and when the caller's service token is; one player refused after a fresh token is that player's UCID, but many
/// different players refused within a short window (<c>Store:SuspectCredentialsAfter</c> within
/// <c>Store:SuspectCredentialsWindowSeconds</c>) is the gateway. While suspect, refusals are answered as a Store outage
/// (stale answers stand in, cached answers stay), readiness says Degraded, and one log line says what to check.
/// A Store call that succeeds clears it. Anyone can send UCIDs with made-up player ids and a broken signature, so once
/// the Store has accepted a call from this gateway, only refusals of UCIDs it had accepted before count: a forged token
/// never was, and a genuine one refused after being accepted is what bad credentials look like. Before the first accepted
/// call (a gateway that starts misconfigured) every refusal counts.
/// </summary>
public sealed partial class StoreCredentialsMonitor
{
    private readonly IOptions<StoreOptions> options;
    private readonly TimeProvider time;
    private readonly ILogger<StoreCredentialsMonitor> logger;

    private readonly AcceptedUcids? accepted;

    public StoreCredentialsMonitor(IOptions<StoreOptions> options, TimeProvider time, ILogger<StoreCredentialsMonitor> logger,
        Infrastructure.Telemetry.GatewayMetrics? metrics = null, AcceptedUcids? accepted = null)
    {
        this.options = options;
        this.time = time;
        this.logger = logger;
        this.accepted = accepted;
        metrics?.ObserveCredentials(() => IsSuspect);
    }

    private readonly object _lock = new();
    // Player hash -> last refusal; never more entries than the threshold, so hostile keys cannot grow it.
    private readonly Dictionary<string, DateTimeOffset> _refused = new(StringComparer.Ordinal);
    private DateTimeOffset _suspectUntil = DateTimeOffset.MinValue;
    // Forged UCIDs between healthy calls could flip the state often: say it at most once a window.
    private DateTimeOffset _loggedAt = DateTimeOffset.MinValue;
    private bool _everAccepted;
    // Set as each suspicion begins; read only while suspect.
    private DateTimeOffset _suspectSince;

    /// <summary>
    /// While suspect, a service token obtained before the suspicion began is worth one more try with a new one, however
    /// young: the Store may have stopped taking it early (revoked, rotated keys). One refresh per suspicion: a token
    /// obtained after it began is not renewed this way again.
    /// </summary>
    public bool TokenPredatesSuspicion(StoreToken token)
    {
        lock (_lock) return time.GetUtcNow() < _suspectUntil && token.AcquiredAt < _suspectSince;
    }

    /// <summary>
    /// Whether a Store 401 with this service token earns one more try with a new token: the token is not young
    /// (<c>Store:FreshTokenSeconds</c>), or it predates a suspicion of the credentials. Otherwise the 401 is the request's.
    /// </summary>
    public bool RefusalEarnsANewToken(StoreToken token) =>
        !Resilience.StoreResilienceHandler.IsFresh(token, options.Value, time) || TokenPredatesSuspicion(token);

    public bool IsSuspect
    {
        get { lock (_lock) return time.GetUtcNow() < _suspectUntil; }
    }

    /// <summary>The Store refused this player's UCID with a fresh token. Returns whether the credentials are now suspect.</summary>
    public bool RecordRefusal(string budgetKey, UserCollectionsId? ucid)
    {
        // Outside the lock: the lookup may move the entry between the remembered generations.
        var acceptedBefore = accepted?.Holds(ucid) == true;
        var o = options.Value;
        var window = TimeSpan.FromSeconds(o.SuspectCredentialsWindowSeconds);
        var now = time.GetUtcNow();
        var player = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(budgetKey)), 0, 8);
        bool becameSuspect;
        int count;
        lock (_lock)
        {
            if (_everAccepted && !acceptedBefore) return now < _suspectUntil;
            foreach (var stale in _refused.Where(p => p.Value <= now - window).Select(p => p.Key).ToList()) _refused.Remove(stale);
            if (_refused.Count < o.SuspectCredentialsAfter || _refused.ContainsKey(player)) _refused[player] = now;
            count = _refused.Count;
            var wasSuspect = now < _suspectUntil;
            if (count >= o.SuspectCredentialsAfter)
            {
                if (!wasSuspect) _suspectSince = now;
                _suspectUntil = now + window;
            }
            becameSuspect = !wasSuspect && now < _suspectUntil && now - _loggedAt >= window;
            if (becameSuspect) _loggedAt = now;
        }
        if (becameSuspect) LogSuspect(logger, count, o.SuspectCredentialsWindowSeconds);
        return IsSuspect;
    }

    /// <summary>The Store accepted a call: the credentials work.</summary>
    public void RecordAccepted()
    {
        lock (_lock)
        {
            _everAccepted = true;
            if (_refused.Count == 0 && _suspectUntil == DateTimeOffset.MinValue) return;
            var wasSuspect = time.GetUtcNow() < _suspectUntil;
            _refused.Clear();
            _suspectUntil = DateTimeOffset.MinValue;
            if (wasSuspect) LogCleared(logger);
        }
    }

    [LoggerMessage(EventId = EventIds.StoreCredentialsSuspect, EventName = nameof(EventIds.StoreCredentialsSuspect), Level = LogLevel.Error, Message = "The Store refused {Players} different players within {WindowSeconds} s: the gateway's own Store credentials are suspect. " +
        "Check Store:ClientId with its secret or certificate, Store:TenantId, Store:ServiceScope, and that the app is associated with the products in Partner Center. Refusals are answered as a Store outage meanwhile.")]
    private static partial void LogSuspect(ILogger logger, int players, int windowSeconds);

    [LoggerMessage(EventId = EventIds.StoreCredentialsCleared, EventName = nameof(EventIds.StoreCredentialsCleared), Level = LogLevel.Information, Message = "The Store accepted a call again: the gateway's credentials are no longer suspect")]
    private static partial void LogCleared(ILogger logger);
}

/// <summary>Readiness: Degraded while the Store refuses the gateway's credentials (the replica stays in service).</summary>
public sealed class StoreCredentialsHealthCheck(StoreCredentialsMonitor monitor, StoreHealth? health = null) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (monitor.IsSuspect)
            return Task.FromResult(HealthCheckResult.Degraded("The Store refuses many players at once: check the gateway's Store credentials."));
        // No Store call is made without a service token, so nothing else would show an expired secret.
        if (health?.ServiceTokenFailing() is { } failure)
            return Task.FromResult(HealthCheckResult.Degraded(
                $"The gateway holds no Store service token and its last attempt failed ({failure}): check Store:ClientSecret or Store:CertificatePath, Store:TenantId and Entra ID."));
        return Task.FromResult(HealthCheckResult.Healthy("No sign that the Store refuses the gateway's credentials."));
    }
}
