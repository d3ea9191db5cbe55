using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace EntitlementGateway.Emulator.Endpoints;

/// <summary>What every Store-like endpoint shares: error bodies, MS-* headers, auth checks, latency and faults.</summary>
internal static class StoreHttp
{
    public static IResult Error(int status, string code, string message) =>
        Results.Json(new StoreError(code, message), EmulatorJson.Default.StoreError, statusCode: status);

    /// <summary>MS-CorrelationId (echoed when sent), MS-RequestId and MS-CV, as the Store answers; the gateway logs them.</summary>
    public static void AddCorrelationHeaders(HttpContext ctx)
    {
        var correlation = ctx.Request.Headers["MS-CorrelationId"].ToString();
        ctx.Response.Headers["MS-CorrelationId"] = correlation.Length > 0 ? correlation : Guid.NewGuid().ToString();
        ctx.Response.Headers["MS-RequestId"] = Guid.NewGuid().ToString();
        var cv = ctx.Request.Headers["MS-CV"].ToString();
        ctx.Response.Headers["MS-CV"] = cv.Length > 0 ? cv + ".1" : Convert.ToBase64String(RandomNumberGenerator.GetBytes(12)) + ".0";
    }

    /// <summary>Reads a JSON body with the source-generated contract; null (and a 400) when it is not valid JSON.</summary>
    public static async Task<(T? Value, IResult? Problem)> ReadJsonAsync<T>(HttpContext ctx, JsonTypeInfo<T> type)
        where T : class
    {
        try
        {
            var value = await JsonSerializer.DeserializeAsync(ctx.Request.Body, type, ctx.RequestAborted);
            return value is null ? (null, Error(400, "BadRequest", "The request body is empty.")) : (value, null);
        }
        catch (JsonException ex)
        {
            // The message names the field and its path: a syntax error, a wrong type, or (strict bodies) an unknown field.
            return (null, Error(400, "BadRequest", "The request body is not a valid request: " + ex.Message));
        }
    }

    /// <summary>Verifies an emulator access token: signature, lifetime, audience. Returns its claims or null.</summary>
    public static JsonObject? VerifyServiceToken(EmulatorState state, string? token, out string error)
    {
        var claims = state.Signer.Verify(token, out error);
        if (claims is null) return null;
        error = Claims.CheckLifetime(claims, state.Time.GetUtcNow()) ?? "";
        if (error.Length > 0) return null;
        if (Claims.String(claims, "aud") != EmulatorState.StoreAudience)
        {
            error = $"The token audience must be {EmulatorState.StoreAudience}.";
            return null;
        }
        return claims;
    }

    /// <summary>Verifies a UCID: emulator signature, aud, lifetime, and that it was minted for the caller's client id.</summary>
    public static JsonObject? VerifyUcid(EmulatorState state, string? ucid, string? callerAppId, out string error)
    {
        var claims = state.Signer.Verify(ucid, out error);
        if (claims is null) return null;
        error = Claims.CheckLifetime(claims, state.Time.GetUtcNow()) ?? "";
        if (error.Length > 0) return null;
        if (Claims.String(claims, "aud") != EmulatorState.UcidAudience)
        {
            error = $"The key audience must be {EmulatorState.UcidAudience}.";
            return null;
        }
        if (Claims.String(claims, EmulatorState.ClaimPrefix + "clientId") != callerAppId)
        {
            error = "The key was not issued for the calling application's client id.";
            return null;
        }
        if (string.IsNullOrEmpty(Claims.String(claims, EmulatorState.ClaimPrefix + "userId")))
        {
            // The emulator never mints one without a userId; the real Store keys the limit on it too.
            error = "The key has no userId claim.";
            return null;
        }
        return claims;
    }

    /// <summary>
    /// The user of a call made with a delegated X-token (<c>Authorization: XBL3.0 ...</c> and <c>Signature</c>), counted per
    /// user; null with no error when the call carries another kind of Authorization (a service token), null with an error
    /// when its X-token or signature is refused.
    /// </summary>
    public static string? DelegatedCaller(HttpContext ctx, EmulatorState state, out string? error)
    {
        error = null;
        var authorization = ctx.Request.Headers.Authorization.ToString();
        if (!authorization.StartsWith(XboxTokens.Scheme + " ", StringComparison.OrdinalIgnoreCase)) return null;
        var userId = XboxTokens.Verify(state, authorization, ctx.Request.Headers["Signature"].ToString(), out var reason);
        if (userId is null) error = reason;
        else state.CountDelegatedCall(userId);
        return userId;
    }

    /// <summary>
    /// Who calls a collections operation: a delegated X-token's user (<paramref name="delegatedUser"/>; no beneficiary
    /// then), or the gateway's service token (<paramref name="serviceToken"/>; the UCID comes in the body). A 401 when neither holds.
    /// </summary>
    public static IResult? Caller(HttpContext ctx, EmulatorState state, out string? delegatedUser, out JsonObject? serviceToken)
    {
        serviceToken = null;
        delegatedUser = DelegatedCaller(ctx, state, out var xboxError);
        if (xboxError is not null) return Error(401, "Unauthorized", "Authorization: " + xboxError);
        if (delegatedUser is not null) return null;
        serviceToken = AuthenticateService(state, BearerToken(ctx), out var tokenError);
        return serviceToken is null ? Error(401, "Unauthorized", "Authorization: " + tokenError) : null;
    }

    /// <summary>The userId of a beneficiary's UCID, checked against the service token's app; a 401 naming <paramref name="field"/> when it fails.</summary>
    public static string? BeneficiaryUser(EmulatorState state, string identityValue, JsonObject serviceToken, string field, out IResult? problem)
    {
        var ucid = VerifyUcid(state, identityValue, Claims.String(serviceToken, "appid"), out var keyError);
        problem = ucid is null ? Error(401, "Unauthorized", field + ": " + keyError) : null;
        return ucid is null ? null : Claims.String(ucid, EmulatorState.ClaimPrefix + "userId");
    }

    public static string? BearerToken(HttpContext ctx)
    {
        var header = ctx.Request.Headers.Authorization.ToString();
        return header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header["Bearer ".Length..].Trim() : null;
    }

    /// <summary>
    /// Checks a service access token as the Store endpoints do: refused outright while
    /// <see cref="FaultSettings.RejectServiceTokens"/> is set, then signature, lifetime and audience, then revocation.
    /// Every refusal is counted in <see cref="EmulatorState.ServiceTokenRejections"/>.
    /// </summary>
    public static JsonObject? AuthenticateService(EmulatorState state, string? token, out string error)
    {
        JsonObject? claims = null;
        if (state.Faults.RejectServiceTokens)
            error = "The Store no longer accepts this application's credentials (rejectServiceTokens).";
        else if ((claims = VerifyServiceToken(state, token, out error)) is not null && state.IsRevoked(claims))
        {
            error = "The token was revoked (issued before POST /emulator/tokens/revoke).";
            claims = null;
        }
        if (claims is null) state.CountServiceTokenRejection();
        return claims;
    }

    /// <summary>Resets the connection, marking the call so the request audit records status 0.</summary>
    public static void Abort(HttpContext ctx)
    {
        ctx.Items[AbortedKey] = true;
        ctx.Abort();
    }

    /// <summary>Whether the connection of this call was aborted (by a fault or by the caller).</summary>
    public static bool WasAborted(HttpContext ctx) =>
        ctx.Items.ContainsKey(AbortedKey) || ctx.RequestAborted.IsCancellationRequested;

    private static readonly object AbortedKey = new();
    private static readonly object LoseAnswerKey = new();
    private static readonly object CompressKey = new();

    /// <summary>
    /// The endpoint's answer, unless this call's fault is <see cref="FaultMode.LoseAnswer"/>: then the work is done and
    /// the connection reset instead.
    /// </summary>
    public static IResult Deliver(HttpContext ctx, IResult answer)
    {
        if (ctx.Items.ContainsKey(CompressKey)) return new GzipResult(answer);
        if (!ctx.Items.ContainsKey(LoseAnswerKey)) return answer;
        Abort(ctx);
        return Results.Empty;
    }

    /// <summary>The answer written whole into memory, then sent compressed with gzip and its compressed length.</summary>
    private sealed class GzipResult(IResult answer) : IResult
    {
        public async Task ExecuteAsync(HttpContext httpContext)
        {
            var wire = httpContext.Response.Body;
            using var plain = new MemoryStream();
            httpContext.Response.Body = plain;
            try
            {
                await answer.ExecuteAsync(httpContext);
            }
            finally
            {
                httpContext.Response.Body = wire;
            }
            using var packed = new MemoryStream();
            await using (var gzip = new System.IO.Compression.GZipStream(packed, System.IO.Compression.CompressionLevel.Fastest, leaveOpen: true))
                await gzip.WriteAsync(plain.GetBuffer().AsMemory(0, (int)plain.Length), httpContext.RequestAborted);
            httpContext.Response.Headers.ContentEncoding = "gzip";
            httpContext.Response.ContentLength = packed.Length;
            await wire.WriteAsync(packed.GetBuffer().AsMemory(0, (int)packed.Length), httpContext.RequestAborted);
        }
    }

    /// <summary>
    /// Latency, then fault injection. Returns a result when the call must fail, an empty result when the connection
    /// was dropped or abandoned or the fault wrote its own answer, and null when the call goes on normally.
    /// </summary>
    public static async Task<IResult?> ApplyLatencyAndFaultsAsync(HttpContext ctx, EmulatorState state)
    {
        var (settings, fail) = state.TakeFault(ctx.Connection.Id);
        var fault = fail ? settings : null;
        // Waits end when the caller gives up or the host stops, so a hang never blocks shutdown for its full timeout.
        var stopping = ctx.RequestServices.GetService<IHostApplicationLifetime>()?.ApplicationStopping ?? CancellationToken.None;
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ctx.RequestAborted, stopping);
        var abort = linked.Token;
        try
        {
            if (fault is { Mode: FaultMode.Hang })
            {
                // A hang is its own delay: it waits latencyMs (forever when 0) or until the client gives up.
                await Task.Delay(fault.LatencyMs > 0 ? TimeSpan.FromMilliseconds(fault.LatencyMs) : Timeout.InfiniteTimeSpan, abort);
                return Failure(ctx, state, fault);
            }
            var latency = state.Options.LatencyMs + (settings.LatencyIsTheFaultsOwn ? 0 : settings.LatencyMs);
            if (latency > 0) await Task.Delay(latency, abort);
            switch (fault?.Mode)
            {
                case null:
                    return null;
                case FaultMode.SlowHeaders:
                    if (fault.LatencyMs > 0) await Task.Delay(fault.LatencyMs, abort);
                    return null;
                case FaultMode.Drop:
                    Abort(ctx);
                    return Results.Empty;
                case FaultMode.StallBody:
                    await WriteBodyStartAsync(ctx, abort);
                    await Task.Delay(fault.LatencyMs > 0 ? TimeSpan.FromMilliseconds(fault.LatencyMs) : Timeout.InfiniteTimeSpan, abort);
                    Abort(ctx);
                    return Results.Empty;
                case FaultMode.ResetBody:
                    await WriteBodyStartAsync(ctx, abort);
                    // Lets the flushed bytes leave (they cross TLS and the transport's own pipe) before the reset.
                    await Task.Delay(ResetPause, abort);
                    Abort(ctx);
                    return Results.Empty;
                case FaultMode.LoseAnswer:
                    ctx.Items[LoseAnswerKey] = true;
                    return null;
                case FaultMode.CompressedBody:
                    ctx.Items[CompressKey] = true;
                    return null;
                case FaultMode.GarbageBody:
                    await WriteProxyErrorPageAsync(ctx, abort);
                    return Results.Empty;
                case FaultMode.Redirect:
                    return Redirect(ctx, fault.RedirectTo);
                case FaultMode.EndlessBody:
                    await WriteEndlessBodyAsync(ctx, abort);
                    return Results.Empty;
                case FaultMode.NullBody:
                    ctx.Response.StatusCode = StatusCodes.Status200OK;
                    ctx.Response.ContentType = "application/json; charset=utf-8";
                    ctx.Response.ContentLength = 4;
                    await ctx.Response.Body.WriteAsync("null"u8.ToArray(), abort);
                    return Results.Empty;
                case FaultMode.RefuseStreams:
                    if (ctx.Features.Get<IHttpResetFeature>() is { } reset)
                    {
                        ctx.Items[AbortedKey] = true;
                        reset.Reset(fault.StreamErrorCode);
                    }
                    else
                    {
                        Abort(ctx);
                    }
                    return Results.Empty;
                case FaultMode.HugeHeaders:
                    for (var i = 0; i < HugeHeaderCount; i++) ctx.Response.Headers[$"X-Padding-{i}"] = HugeHeaderValue;
                    return null;
                default:
                    return Failure(ctx, state, fault);
            }
        }
        catch (OperationCanceledException) when (abort.IsCancellationRequested)
        {
            // The client gave up (nobody reads an answer) or the host is stopping: never let that look like a 200.
            Abort(ctx);
            return Results.Empty;
        }
    }

    /// <summary>A <c>307 Temporary Redirect</c> to <paramref name="target"/>, with no body: a redirect fault's answer.</summary>
    public static IResult Redirect(HttpContext ctx, string? target)
    {
        ctx.Response.StatusCode = StatusCodes.Status307TemporaryRedirect;
        ctx.Response.Headers.Location = target;
        ctx.Response.ContentLength = 0;
        return Results.Empty;
    }

    private static readonly TimeSpan ResetPause = TimeSpan.FromMilliseconds(100);

    private const int PromisedBodyLength = 4096;

    /// <summary>200 with JSON headers and a Content-Length far beyond the few bytes that are written and flushed.</summary>
    private static async Task WriteBodyStartAsync(HttpContext ctx, CancellationToken ct)
    {
        ctx.Response.StatusCode = StatusCodes.Status200OK;
        ctx.Response.ContentType = "application/json; charset=utf-8";
        ctx.Response.ContentLength = PromisedBodyLength;
        await ctx.Response.Body.WriteAsync("{\"items\":["u8.ToArray(), ct);
        await ctx.Response.Body.FlushAsync(ct);
    }

    private const int HugeHeaderCount = 80;
    private static readonly string HugeHeaderValue = new('a', 1024);
    private static readonly byte[] Blanks = System.Text.Encoding.ASCII.GetBytes(new string(' ', 64 * 1024));

    /// <summary>200 JSON, chunked, a body that starts as the documented object and never ends (the caller gives up).</summary>
    private static async Task WriteEndlessBodyAsync(HttpContext ctx, CancellationToken ct)
    {
        ctx.Response.StatusCode = StatusCodes.Status200OK;
        ctx.Response.ContentType = "application/json; charset=utf-8";
        await ctx.Response.Body.WriteAsync("{\"items\":["u8.ToArray(), ct);
        while (true)
        {
            // Writes to a connection that is gone complete silently: the token is what ends this.
            ct.ThrowIfCancellationRequested();
            await ctx.Response.Body.WriteAsync(Blanks, ct);
        }
    }

    private const string ProxyErrorPage =
        "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<h1>502 Bad Gateway</h1>\r\n" +
        "<p>The proxy server received an invalid response from an upstream server.</p>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";

    /// <summary>What a proxy in front of the Store answers when its upstream failed, wrongly with status 200.</summary>
    private static async Task WriteProxyErrorPageAsync(HttpContext ctx, CancellationToken ct)
    {
        var page = System.Text.Encoding.UTF8.GetBytes(ProxyErrorPage);
        // A proxy's page carries none of the Store's MS-* headers.
        ctx.Response.Headers.Remove("MS-CorrelationId");
        ctx.Response.Headers.Remove("MS-RequestId");
        ctx.Response.Headers.Remove("MS-CV");
        ctx.Response.StatusCode = StatusCodes.Status200OK;
        ctx.Response.ContentType = "text/html";
        ctx.Response.ContentLength = page.Length;
        await ctx.Response.Body.WriteAsync(page, ct);
    }

    private static IResult Failure(HttpContext ctx, EmulatorState state, FaultSettings fault)
    {
        if (fault.FailureStatus is 429 or 503)
        {
            switch (fault.RetryAfterFormat)
            {
                case RetryAfterFormat.Seconds:
                    ctx.Response.Headers.RetryAfter = fault.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
                    break;
                case RetryAfterFormat.HttpDate:
                    // Both from the emulator's clock, so Retry-After minus Date is exactly retryAfterSeconds.
                    var now = state.Time.GetUtcNow();
                    ctx.Response.Headers.Date = now.ToString("r", CultureInfo.InvariantCulture);
                    ctx.Response.Headers.RetryAfter = now.AddSeconds(fault.RetryAfterSeconds).ToString("r", CultureInfo.InvariantCulture);
                    break;
            }
        }
        return Error(fault.FailureStatus, "InjectedFault", $"Failure injected by the emulator (status {fault.FailureStatus}).");
    }
}
