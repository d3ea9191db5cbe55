using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Http;
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
            return (null, Error(400, "BadRequest", "The request body is not valid JSON: " + ex.Message));
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

    public static string? BearerToken(HttpContext ctx)
    {
        var header = ctx.Request.Headers.Authorization.ToString();
        return header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header["Bearer ".Length..].Trim() : null;
    }

    /// <summary>
    /// Latency, then fault injection. Returns a result when the call must fail, an empty result when the connection
    /// was dropped or abandoned, and null when the call goes on normally.
    /// </summary>
    public static async Task<IResult?> ApplyLatencyAndFaultsAsync(HttpContext ctx, EmulatorState state)
    {
        var fault = state.TakeFault();
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
                return Failure(ctx, fault);
            }
            var latency = state.Options.LatencyMs + state.Faults.LatencyMs;
            if (latency > 0) await Task.Delay(latency, abort);
        }
        catch (OperationCanceledException) when (abort.IsCancellationRequested)
        {
            // The client gave up (nobody reads an answer) or the host is stopping: never let that look like a 200.
            ctx.Abort();
            return Results.Empty;
        }
        if (fault is null) return null;
        if (fault.Mode == FaultMode.Drop)
        {
            ctx.Abort();
            return Results.Empty;
        }
        return Failure(ctx, fault);
    }

    private static IResult Failure(HttpContext ctx, FaultSettings fault)
    {
        if (fault.FailureStatus is 429 or 503)
            ctx.Response.Headers.RetryAfter = fault.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
        return Error(fault.FailureStatus, "InjectedFault", $"Failure injected by the emulator (status {fault.FailureStatus}).");
    }
}
