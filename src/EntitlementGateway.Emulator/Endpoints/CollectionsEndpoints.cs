using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace EntitlementGateway.Emulator.Endpoints;

/// <summary>
/// The Store endpoints the gateway calls: the v8 collections query and the v6 key renewal, mapped on the
/// <c>/emulator/store</c> group (whose <see cref="StoreProtocol"/> filter audits and checks every request first).
/// </summary>
internal static class CollectionsEndpoints
{
    public static void Map(IEndpointRouteBuilder store)
    {
        store.MapPost("/v8.0/collections/b2bLicensePreview", QueryAsync);
        store.MapPost("/v6.0/b2b/keys/renew", RenewAsync);
        ConsumeEndpoints.Map(store);
    }

    // Order of checks (after the group filter's framing checks): latency/faults (infrastructure in front of the service),
    // service token (rejected, invalid or revoked), body, UCID,
    // request validation, then the per-user limit. Only calls that reach the limit are counted per user.
    private static async Task<IResult> QueryAsync(HttpContext ctx, EmulatorState state)
    {
        StoreHttp.AddCorrelationHeaders(ctx);
        if (await StoreHttp.ApplyLatencyAndFaultsAsync(ctx, state) is { } failed) return failed;

        var token = StoreHttp.AuthenticateService(state, StoreHttp.BearerToken(ctx), out var tokenError);
        if (token is null) return StoreHttp.Error(401, "Unauthorized", "Authorization: " + tokenError);

        var (request, bad) = await StoreHttp.ReadJsonAsync(ctx, EmulatorJson.Default.CollectionsQueryRequest);
        if (request is null) return bad!;
        if (request.Beneficiaries is not [var beneficiary, ..] || string.IsNullOrEmpty(beneficiary.IdentityValue))
            return StoreHttp.Error(400, "BadRequest", "beneficiaries[0].identityValue (the UserCollectionsId) is required.");

        var ucid = StoreHttp.VerifyUcid(state, beneficiary.IdentityValue, Claims.String(token, "appid"), out var keyError);
        if (ucid is null) return StoreHttp.Error(401, "Unauthorized", "beneficiaries[0].identityValue: " + keyError);
        var userId = Claims.String(ucid, EmulatorState.ClaimPrefix + "userId")!;

        var pageSize = request.MaxPageSize ?? CollectionsPaging.MaxPageSize;
        if (pageSize is < 1 or > CollectionsPaging.MaxPageSize)
            return StoreHttp.Error(400, "BadRequest", $"maxPageSize must be between 1 and {CollectionsPaging.MaxPageSize}.");
        // The real Store may page sooner than asked; clients must follow continuation tokens either way.
        if (state.Options.PageSizeLimit is { } limit && limit < pageSize) pageSize = limit;
        var snapshot = CollectionsPaging.Snapshot(userId, request);
        var offset = 0;
        if (!string.IsNullOrEmpty(request.ContinuationToken))
        {
            if (CollectionsPaging.ReadToken(request.ContinuationToken, snapshot) is not { } o)
                return StoreHttp.Error(400, "InvalidContinuationToken", "continuationToken does not belong to this query.");
            offset = o;
        }

        var decision = state.TryAdmitQuery(userId);
        if (!decision.Allowed)
        {
            ctx.Response.Headers.RetryAfter = decision.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
            return StoreHttp.Error(429, "TooManyRequests",
                $"Rate limit is exceeded. Try again in {decision.RetryAfterSeconds} seconds.");
        }

        var filtered = CollectionsPaging.Filter(state.GetEntitlementsShared(userId), request);
        var (page, next) = CollectionsPaging.Page(filtered, offset, pageSize, state.Options.RepeatItemsAcrossPages);
        foreach (var item in page) item["localTicketReference"] = beneficiary.LocalTicketReference;
        // loopContinuation: always the token of the first page's end, so following tokens never ends.
        if (state.Faults.LoopContinuation) next = Math.Min(pageSize, filtered.Count);
        var response = new CollectionsQueryResponse
        {
            Items = page,
            ContinuationToken = next is { } n ? CollectionsPaging.CreateToken(n, snapshot) : null,
        };
        return StoreHttp.Deliver(ctx, Results.Json(response, EmulatorJson.Default.CollectionsQueryResponse));
    }

    private static async Task<IResult> RenewAsync(HttpContext ctx, EmulatorState state)
    {
        StoreHttp.AddCorrelationHeaders(ctx);
        if (await StoreHttp.ApplyLatencyAndFaultsAsync(ctx, state) is { } failed) return failed;

        var (request, bad) = await StoreHttp.ReadJsonAsync(ctx, EmulatorJson.Default.RenewRequest);
        if (request is null) return bad!;
        var ticket = StoreHttp.AuthenticateService(state, request.ServiceTicket, out var ticketError);
        if (ticket is null) return StoreHttp.Error(401, "Unauthorized", "serviceTicket: " + ticketError);
        var key = StoreHttp.VerifyUcid(state, request.Key, Claims.String(ticket, "appid"), out var keyError);
        if (key is null) return StoreHttp.Error(401, "Unauthorized", "key: " + keyError);

        var renewed = state.MintUserCollectionsId(
            Claims.String(key, EmulatorState.ClaimPrefix + "userId")!,
            new UcidMintRequest
            {
                ClientId = Claims.String(key, EmulatorState.ClaimPrefix + "clientId"),
                RefreshUri = Claims.String(key, EmulatorState.ClaimPrefix + "refreshUri"),
            });
        state.CountRenewal();
        return Results.Json(new RenewResponse(renewed), EmulatorJson.Default.RenewResponse);
    }
}
