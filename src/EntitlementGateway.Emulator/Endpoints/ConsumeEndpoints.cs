using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Builder;

namespace EntitlementGateway.Emulator.Endpoints;

/// <summary>
/// <c>POST /emulator/store/v8.0/collections/consume</c>: a Store-managed consumable's consume, held to the documented
/// request (one <c>beneficiary</c> with identityType b2b and the UCID, or none with a delegated X-token, <c>productId</c>, <c>removeQuantity</c> of at least 1,
/// a GUID <c>trackingId</c>, optional <c>includeOrderIds</c>) after the group's framing checks, faults and the service token.
/// </summary>
internal static class ConsumeEndpoints
{
    public static void Map(IEndpointRouteBuilder store) =>
        store.MapPost("/" + StoreOperations.Consume.Path, ConsumeAsync).CountedAs(StoreOperations.Consume);

    private static async Task<IResult> ConsumeAsync(HttpContext ctx, EmulatorState state)
    {
        StoreHttp.AddCorrelationHeaders(ctx);
        if (await StoreHttp.ApplyLatencyAndFaultsAsync(ctx, state) is { } failed) return failed;

        // The caller: a delegated X-token (no beneficiary then), or the service token with the UCID as beneficiary.
        if (StoreHttp.Caller(ctx, state, out var userId, out var token) is { } unauthorized) return unauthorized;

        var (request, bad) = await StoreHttp.ReadJsonAsync(ctx, EmulatorJson.Default.ConsumeRequest);
        if (request is null) return bad!;
        if (userId is not null && request.Beneficiary is not null)
            return StoreHttp.Error(400, "BadRequest", "beneficiary must not be sent with a delegated Xbox authorization.");
        if (userId is null)
        {
            if (request.Beneficiary is not { } beneficiary || string.IsNullOrEmpty(beneficiary.IdentityValue))
                return StoreHttp.Error(400, "BadRequest", "beneficiary.identityValue (the UserCollectionsId) is required.");
            if (beneficiary.IdentityType != "b2b")
                return StoreHttp.Error(400, "BadRequest", "beneficiary.identityType must be b2b.");
            userId = StoreHttp.BeneficiaryUser(state, beneficiary.IdentityValue, token!, "beneficiary.identityValue", out var refused);
            if (userId is null) return refused!;
        }
        if (string.IsNullOrEmpty(request.ProductId)) return StoreHttp.Error(400, "BadRequest", "productId is required.");
        if (request.RemoveQuantity is not { } quantity || quantity < 1)
            return StoreHttp.Error(400, "BadRequest", "removeQuantity must be 1 or more for a Store-managed consumable.");
        if (!Guid.TryParse(request.TrackingId, out _)) return StoreHttp.Error(400, "BadRequest", "trackingId must be a GUID.");

        var decision = state.TryAdmitConsume(userId);
        if (!decision.Allowed)
        {
            ctx.Response.Headers.RetryAfter = decision.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
            return StoreHttp.Error(429, "TooManyRequests", $"Rate limit is exceeded. Try again in {decision.RetryAfterSeconds} seconds.");
        }

        var applyMs = state.Faults.ConsumeApplyMs;
        if (applyMs > 0 && !state.Consumables.TryBeginApplying(userId, request.TrackingId!))
            return StoreHttp.Error(409, "TrackingIdConflict", $"A consume with trackingId {request.TrackingId} is being processed; retry later.");
        ConsumeAnswer answer;
        try
        {
            // Not cancelled with the call: a Store applies what it accepted whether or not its caller still listens.
            if (applyMs > 0) await Task.Delay(applyMs, CancellationToken.None);
            answer = state.Consumables.Consume(state, userId, request.ProductId, quantity, request.TrackingId!);
        }
        finally
        {
            if (applyMs > 0) state.Consumables.EndApplying(userId, request.TrackingId!);
        }
        if (answer.Body is { } body)
        {
            if (request.IncludeOrderIds != true) body.Remove("orderTransactions");
            return StoreHttp.Deliver(ctx, Results.Json(body, EmulatorJson.Default.JsonObject));
        }
        var inner = new ConsumeError(answer.ErrorCode!, answer.Message!, null);
        return StoreHttp.Deliver(ctx, Results.Json(new ConsumeError(answer.ErrorCode!, answer.Message!, inner),
            EmulatorJson.Default.ConsumeError, statusCode: answer.Status));
    }
}
