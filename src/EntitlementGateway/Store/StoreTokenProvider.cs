using EntitlementGateway.Infrastructure.Telemetry;
using Microsoft.Extensions.Options;
using Microsoft.Identity.Client;

namespace EntitlementGateway.Store;

/// <summary>A token with its expiry and when this gateway obtained it from the identity provider.</summary>
public readonly record struct StoreToken(string Value, DateTimeOffset ExpiresOn, DateTimeOffset AcquiredAt)
{
    /// <summary>The <c>Authorization</c> header's value, made once per token rather than on every Store call.</summary>
    public string AuthorizationValue { get; } = "Bearer " + Value;
}

/// <summary>The token could not be obtained within <c>Store:TimeoutSeconds</c>.</summary>
public sealed class StoreTokenTimeoutException() : TimeoutException("The identity provider did not issue a token in time.");

public interface IStoreTokenProvider
{
    /// <summary>The service token for Store calls (scope onestore .default). Never leaves the gateway.</summary>
    Task<StoreToken> GetServiceTokenAsync(CancellationToken cancellationToken);

    /// <summary>
    /// A new service token because the Store refused <paramref name="rejected"/>. Concurrent callers share one request,
    /// and a caller whose rejected token was already replaced gets the replacement without another request.
    /// </summary>
    Task<StoreToken> RefreshServiceTokenAsync(StoreToken rejected, CancellationToken cancellationToken);

    /// <summary>The collections ticket a game client passes to XStoreGetUserCollectionsIdAsync.</summary>
    Task<StoreToken> GetCollectionsTicketAsync(CancellationToken cancellationToken);
}

/// <summary>
/// Service tokens from MSAL.NET, with the configured credential (<see cref="StoreTokenSources"/>). Each scope's token is kept here until five minutes before it expires, and
/// every acquisition is shared: MSAL's own cache does not stop concurrent first callers from each asking the identity
/// provider. An acquisition runs on its own deadline (<c>Store:TimeoutSeconds</c>), not a caller's, so one caller giving
/// up never fails it for the others, and a hung token endpoint cannot hold a request longer than the caller allows.
/// </summary>
public sealed class MsalStoreTokenProvider(
    IStoreLocator endpoints,
    IHttpClientFactory httpClientFactory,
    IOptions<StoreOptions> options,
    TimeProvider time,
    GatewayMetrics metrics,
    StoreHealth health) : IStoreTokenProvider, IDisposable
{
    public const string HttpClientName = "msal";

    /// <summary>Largest token answer read (Entra's are a few KB).</summary>
    public const int MaxAnswerBytes = 1 << 20;
    private static readonly TimeSpan RenewBeforeExpiry = TimeSpan.FromMinutes(5);

    private readonly SemaphoreSlim _build = new(1, 1);
    private readonly TokenSlot _service = new(StoreHealth.ServiceTokenName);
    private readonly TokenSlot _ticket = new(StoreHealth.CollectionsTicketName);
    private IStoreTokenSource? _source;

    /// <summary>Requests made to the identity provider (shared acquisitions count once).</summary>
    public long Acquisitions => Interlocked.Read(ref _acquisitions);
    private long _acquisitions;

    public Task<StoreToken> GetServiceTokenAsync(CancellationToken cancellationToken) =>
        GetAsync(_service, options.Value.ServiceScope, cancellationToken);

    public Task<StoreToken> GetCollectionsTicketAsync(CancellationToken cancellationToken) =>
        GetAsync(_ticket, options.Value.CollectionsTicketScope, cancellationToken);

    public async Task<StoreToken> RefreshServiceTokenAsync(StoreToken rejected, CancellationToken cancellationToken)
    {
        while (true)
        {
            Task<StoreToken> flight;
            bool forced;
            lock (_service)
            {
                if (_service.Current is { } current && current.AcquiredAt > rejected.AcquiredAt) return current;
                _service.Current = null;
                if (_service.Flight is null)
                {
                    _service.Flight = AcquireAsync(_service, options.Value.ServiceScope, forceRefresh: true);
                    _service.FlightForced = true;
                }
                flight = _service.Flight;
                forced = _service.FlightForced;
            }
            // A plain acquisition under way may answer from MSAL's cache: wait for it, then force one of our own.
            if (forced) return await flight.WaitAsync(cancellationToken);
            try { await flight.WaitAsync(cancellationToken); }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested) { }
        }
    }

    private Task<StoreToken> GetAsync(TokenSlot slot, string scope, CancellationToken cancellationToken)
    {
        Task<StoreToken> flight;
        lock (slot)
        {
            if (slot.Current is { } current && time.GetUtcNow() < current.ExpiresOn - RenewBeforeExpiry) return Task.FromResult(current);
            if (slot.Flight is null)
            {
                slot.Flight = AcquireAsync(slot, scope, forceRefresh: false);
                slot.FlightForced = false;
            }
            flight = slot.Flight;
        }
        return flight.WaitAsync(cancellationToken);
    }

    private async Task<StoreToken> AcquireAsync(TokenSlot slot, string scope, bool forceRefresh)
    {
        // Never inline under the slot's lock.
        await Task.Yield();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(options.Value.TimeoutSeconds), time);
        try
        {
            var source = _source ?? await BuildAsync(deadline.Token);
            Interlocked.Increment(ref _acquisitions);
            var result = await source.AcquireAsync(scope, forceRefresh, deadline.Token);
            if (!IsUsableToken(result.AccessToken) || result.ExpiresOn <= time.GetUtcNow())
                throw new MsalClientException(UnusableTokenCode, "The identity provider answered without a usable, unexpired access token.");
            // A token MSAL answered from its own cache was not obtained now: keep its age honest.
            var acquiredAt = result.AuthenticationResultMetadata?.TokenSource == TokenSource.Cache ? DateTimeOffset.MinValue : time.GetUtcNow();
            var token = new StoreToken(result.AccessToken, result.ExpiresOn, acquiredAt);
            lock (slot) slot.Current = token;
            metrics.TokenAcquisition(slot.Name, "ok");
            health.RecordTokenAcquired(slot.Name, token);
            return token;
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            metrics.TokenAcquisition(slot.Name, "timeout");
            health.RecordTokenFailed(slot.Name, "timeout");
            throw new StoreTokenTimeoutException();
        }
        catch (MsalException ex)
        {
            metrics.TokenAcquisition(slot.Name, "failed");
            health.RecordTokenFailed(slot.Name, ex.ErrorCode);
            throw;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // An answer MSAL could not read (not JSON, an expires_in past the calendar): a failed acquisition like any
            // other, so callers answer it as the identity provider's trouble and the next call asks again.
            metrics.TokenAcquisition(slot.Name, "failed");
            health.RecordTokenFailed(slot.Name, UnusableTokenCode);
            throw new MsalClientException(UnusableTokenCode, "The identity provider's answer could not be read.", ex);
        }
        finally
        {
            lock (slot) slot.Flight = null;
        }
    }

    /// <summary>The error code of an identity provider answer that held no usable token.</summary>
    public const string UnusableTokenCode = "unusable_token_response";

    /// <summary>
    /// A bearer token as RFC 6750 spells it (letters, digits and <c>-._~+/</c>, then any <c>=</c>), of a sane length:
    /// anything else would go into an Authorization header as it came (empty, a line break, a whole HTML page).
    /// </summary>
    internal static bool IsUsableToken(string? token)
    {
        if (string.IsNullOrEmpty(token) || token.Length > MaxTokenLength) return false;
        var end = token.AsSpan().TrimEnd('=');
        return !end.IsEmpty && !end.ContainsAnyExcept(TokenCharacters);
    }

    private const int MaxTokenLength = 64 * 1024;
    private static readonly System.Buffers.SearchValues<char> TokenCharacters =
        System.Buffers.SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/");

    private async Task<IStoreTokenSource> BuildAsync(CancellationToken cancellationToken)
    {
        await _build.WaitAsync(cancellationToken);
        try
        {
            return _source ??= StoreTokenSources.Create(await endpoints.GetAsync(cancellationToken), new MsalHttpClientFactory(httpClientFactory));
        }
        finally
        {
            _build.Release();
        }
    }

    public void Dispose() => _build.Dispose();

    private sealed class TokenSlot(string name)
    {
        public readonly string Name = name;
        public StoreToken? Current;
        public Task<StoreToken>? Flight;
        public bool FlightForced;
    }

    private sealed class MsalHttpClientFactory(IHttpClientFactory factory) : IMsalHttpClientFactory
    {
        public HttpClient GetHttpClient() => factory.CreateClient(HttpClientName);
    }
}
