using System.Net;
using System.Text.Json;
using EntitlementGateway.Infrastructure.Logging;
using EntitlementGateway.Store;
using Microsoft.Extensions.Options;

namespace EntitlementGateway.Clawback;

/// <summary>The queue's SAS URI and when it stops working.</summary>
public sealed record QueueAccess(Uri Uri, DateTimeOffset ExpiresOn)
{
    /// <summary>Host and queue, for logs: never the query, which holds the signature.</summary>
    public string Name => Uri.Host + Uri.AbsolutePath;
}

/// <summary>The sastoken call failed; the message says why (never a token or a signature).</summary>
public sealed class ClawbackAccessException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// Gets the clawback queue's SAS URI from the Store (<c>POST {purchase}/v8.0/b2b/clawback/sastoken</c>, no body,
/// the service token as Bearer, as the Store documents) and keeps it until five minutes before it expires or the queue refuses it.
/// The URI only ever comes from this answer. A refusal with a service token that was not just obtained is tried once
/// more with a new token, as for the other Store calls. No budget unit: the call is not about a player.
/// </summary>
public sealed partial class ClawbackSasClient(
    HttpClient http,
    IStoreLocator endpoints,
    IStoreTokenProvider tokens,
    IOptions<StoreOptions> storeOptions,
    IOptions<ClawbackOptions> options,
    TimeProvider time,
    ILogger<ClawbackSasClient> logger)
{
    private static readonly TimeSpan RenewBefore = TimeSpan.FromMinutes(5);
    private readonly SemaphoreSlim _gate = new(1, 1);
    private QueueAccess? _current;

    public async Task<QueueAccess> GetAsync(CancellationToken cancellationToken)
    {
        if (Usable(_current) is { } cached) return cached;
        await _gate.WaitAsync(cancellationToken);
        try
        {
            return Usable(_current) ?? (_current = await FetchAsync(cancellationToken));
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>The queue refused the URI (403): the next <see cref="GetAsync"/> asks the Store for a new one.</summary>
    public void Invalidate(QueueAccess refused) => Interlocked.CompareExchange(ref _current, null, refused);

    private QueueAccess? Usable(QueueAccess? access) => access is not null && time.GetUtcNow() < access.ExpiresOn - RenewBefore ? access : null;

    private async Task<QueueAccess> FetchAsync(CancellationToken cancellationToken)
    {
        var connection = await endpoints.GetAsync(cancellationToken);
        // The embedded emulator serves the purchase endpoints beside the collections ones.
        var baseUrl = endpoints.Mode == StoreMode.Emulator ? connection.CollectionsBaseUrl : new Uri(options.Value.PurchaseBaseUrl.TrimEnd('/') + "/");
        var target = new Uri(baseUrl, Emulator.StoreOperations.ClawbackSasToken.Path);
        var correlationVector = StoreWire.NewCorrelationVector();
        var token = await tokens.GetServiceTokenAsync(cancellationToken);
        using var first = await SendAsync(target, token, correlationVector + ".1", cancellationToken);
        if (first.StatusCode != HttpStatusCode.Unauthorized || Store.Resilience.StoreResilienceHandler.IsFresh(token, storeOptions.Value, time))
            return await ReadAsync(first, cancellationToken);
        token = await tokens.RefreshServiceTokenAsync(token, cancellationToken);
        using var second = await SendAsync(target, token, correlationVector + ".2", cancellationToken);
        return await ReadAsync(second, cancellationToken);
    }

    private async Task<HttpResponseMessage> SendAsync(Uri target, StoreToken token, string correlationVector, CancellationToken cancellationToken)
    {
        // An empty body with Content-Length: 0, never chunked framing.
        using var request = new HttpRequestMessage(HttpMethod.Post, target) { Content = new ByteArrayContent([]) };
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token.Value);
        request.Headers.TryAddWithoutValidation(StoreWire.CorrelationVectorHeader, correlationVector);
        var response = await http.SendAsync(request, cancellationToken);
        LogSasToken(logger, (int)response.StatusCode, correlationVector, StoreWire.Header(response, StoreWire.CorrelationVectorHeader));
        return response;
    }

    private async Task<QueueAccess> ReadAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (!response.IsSuccessStatusCode)
            throw new ClawbackAccessException($"The Store answered {(int)response.StatusCode} to the clawback sastoken call.");
        SasTokenResponse? body;
        try
        {
            body = JsonSerializer.Deserialize(await response.Content.ReadAsByteArrayAsync(cancellationToken), ClawbackJsonContext.Default.SasTokenResponse);
        }
        catch (JsonException ex)
        {
            throw new ClawbackAccessException("The Store's sastoken answer is not the documented JSON.", ex);
        }
        if (!Uri.TryCreate(body?.Uri, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttps || string.IsNullOrEmpty(uri.Query))
            throw new ClawbackAccessException("The Store's sastoken answer holds no https:// queue URI with a SAS.");
        return new QueueAccess(uri, ExpiryOf(body!.ExpiresOn, uri, time.GetUtcNow()));
    }

    /// <summary>
    /// When the SAS stops working: the answer's <c>expiresOn</c>; without one (the documents name only the <c>uri</c>),
    /// the signed expiry in the SAS itself (<c>se</c>); without that, <see cref="AssumedLifetime"/> from now. A SAS that
    /// ends sooner is refused with 403, which asks for a new one anyway.
    /// </summary>
    internal static DateTimeOffset ExpiryOf(DateTimeOffset? expiresOn, Uri uri, DateTimeOffset now)
    {
        if (expiresOn is { } stated) return stated;
        var signed = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(uri.Query).TryGetValue("se", out var se) ? se.ToString() : null;
        return DateTimeOffset.TryParse(signed, System.Globalization.CultureInfo.InvariantCulture,
            System.Globalization.DateTimeStyles.AssumeUniversal, out var at) ? at : now + AssumedLifetime;
    }

    /// <summary>Past <see cref="RenewBefore"/>: a SAS of unknown life is asked for again every ten minutes.</summary>
    internal static readonly TimeSpan AssumedLifetime = TimeSpan.FromMinutes(15);

    [LoggerMessage(EventId = EventIds.ClawbackSasToken, EventName = nameof(EventIds.ClawbackSasToken), Level = LogLevel.Information,
        Message = "Store clawback sastoken answered {StatusCode}; sent MS-CV {SentMsCv}; MS-CV {MsCv}")]
    private static partial void LogSasToken(ILogger logger, int statusCode, string sentMsCv, string? msCv);
}
