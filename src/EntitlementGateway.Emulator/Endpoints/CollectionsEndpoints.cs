using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace EntitlementGateway.Emulator.Endpoints;

/// <summary>
/// The Store endpoints the gateway calls: the v8 and v9 collections queries and the v6 key renewal, mapped on the
/// <c>/emulator/store</c> group (whose <see cref="StoreProtocol"/> filter audits and checks every request first), each
/// counted under its <see cref="StoreOperation.Name"/>.
/// </summary>
internal static class CollectionsEndpoints
{
    public static void Map(IEndpointRouteBuilder store)
    {
        store.MapPost("/" + StoreOperations.B2bLicensePreview.Path, (HttpContext ctx, EmulatorState state) => QueryAsync(ctx, state, V8))
            .CountedAs(StoreOperations.B2bLicensePreview);
        store.MapPost("/" + StoreOperations.PublisherQuery.Path, (HttpContext ctx, EmulatorState state) => QueryAsync(ctx, state, V9))
            .CountedAs(StoreOperations.PublisherQuery);
        store.MapPost("/" + StoreOperations.Renew.Path, RenewAsync).CountedAs(StoreOperations.Renew);
        ConsumeEndpoints.Map(store);
    }

    /// <summary>
    /// Counts every call to <paramref name="endpoint"/> under <paramref name="operation"/>'s name. Each handler is mapped
    /// where it is written, so the compile-time request delegate generator builds it (a handler passed on as a
    /// <see cref="Delegate"/> would be built at run time from compiled expression trees).
    /// </summary>
    public static RouteHandlerBuilder CountedAs(this RouteHandlerBuilder endpoint, StoreOperation operation) =>
        endpoint.AddEndpointFilter(async (context, next) =>
        {
            context.HttpContext.RequestServices.GetRequiredService<EmulatorState>().CountOperation(operation);
            return await next(context);
        });

    /// <summary>What differs between the two query versions: v9 requires products and has no market,
    /// expandSatisfyingItems or entitlementFilters; v8 requires market.</summary>
    private sealed record QueryRules(int MaxPageSize, bool RequiresProducts, bool IsV8, bool EchoesTicketReference);

    private static readonly QueryRules V8 = new(CollectionsPaging.MaxPageSize, false, true, true);
    private static readonly QueryRules V9 = new(CollectionsPaging.MaxPageSizeV9, true, false, false);

    // Order of checks (after the group filter's framing checks): latency/faults (infrastructure in front of the service),
    // the caller (a service token with a UCID in the body, or a delegated X-token), body, request validation, then the
    // per-user limit. Only calls that reach the limit are counted per user.
    private static async Task<IResult> QueryAsync(HttpContext ctx, EmulatorState state, QueryRules rules)
    {
        StoreHttp.AddCorrelationHeaders(ctx);
        if (await StoreHttp.ApplyLatencyAndFaultsAsync(ctx, state) is { } failed) return failed;

        if (StoreHttp.Caller(ctx, state, out var caller, out var serviceToken) is { } unauthorized) return unauthorized;

        var (request, bad) = await StoreHttp.ReadJsonAsync(ctx, StrictStoreJson.Default.CollectionsQueryRequest);
        if (request is null) return bad!;
        if (QueryFieldProblem(request, rules) is { } problem) return StoreHttp.Error(400, "BadRequest", problem);
        var ticketReference = "";
        if (caller is null)
        {
            if (request.Beneficiaries is not [var beneficiary, ..] || string.IsNullOrEmpty(beneficiary.IdentityValue))
                return StoreHttp.Error(400, "BadRequest", "beneficiaries[0].identityValue (the UserCollectionsId) is required.");
            if (beneficiary.IdentityType != "b2b")
                return StoreHttp.Error(400, "BadRequest", "beneficiaries[0].identitytype must be b2b.");
            caller = StoreHttp.BeneficiaryUser(state, beneficiary.IdentityValue, serviceToken!, "beneficiaries[0].identityValue", out var refused);
            if (caller is null) return refused!;
            ticketReference = beneficiary.LocalTicketReference ?? "";
        }
        var userId = caller;

        if (rules.RequiresProducts && request.ProductSkuIds is not { Count: > 0 })
            return StoreHttp.Error(400, "BadRequest", "productSkuIds is required.");
        if (rules.RequiresProducts && request.ProductSkuIds!.Count > CollectionsPaging.MaxProducts)
            return StoreHttp.Error(400, "BadRequest", $"productSkuIds holds {request.ProductSkuIds.Count} entries; at most {CollectionsPaging.MaxProducts}.");
        var pageSize = request.MaxPageSize ?? CollectionsPaging.MaxPageSize;
        if (pageSize < 1 || pageSize > rules.MaxPageSize)
            return StoreHttp.Error(400, "BadRequest", $"maxPageSize must be between 1 and {rules.MaxPageSize}.");
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

        var filtered = CollectionsPaging.Filter(state.GetEntitlements(userId), request);
        var (page, next) = CollectionsPaging.Page(filtered, offset, pageSize, state.Options.RepeatItemsAcrossPages);
        if (rules.EchoesTicketReference)
            foreach (var item in page) item["localTicketReference"] = ticketReference;
        // loopContinuation: always the token of the first page's end, so following tokens never ends.
        if (state.Faults.LoopContinuation) next = Math.Min(pageSize, filtered.Count);
        var response = new CollectionsQueryResponse
        {
            Items = page,
            ContinuationToken = next is { } n ? CollectionsPaging.CreateToken(n, snapshot) : null,
        };
        return StoreHttp.Deliver(ctx, Results.Json(response, EmulatorJson.Default.CollectionsQueryResponse));
    }

    /// <summary>The first field the version's documentation does not allow as sent, or null.</summary>
    private static string? QueryFieldProblem(CollectionsQueryRequest request, QueryRules rules)
    {
        if (!rules.IsV8)
        {
            if (request.Market is not null) return "market is not a field of this API version.";
            if (request.ExpandSatisfyingItems is not null) return "expandSatisfyingItems is not a field of this API version.";
            return request.EntitlementFilters is null ? null : "entitlementFilters is not a field of this API version.";
        }
        if (string.IsNullOrEmpty(request.Market)) return "market is required (\"neutral\" or a two-letter country code).";
        var filters = request.EntitlementFilters ?? [];
        for (var i = 0; i < filters.Count; i++)
            if (!CollectionsPaging.IsProductTypeFilter(filters[i]))
                return $"entitlementFilters[{i}] must name a product type ({string.Join(", ", CollectionsPaging.ProductTypes)}).";
        return null;
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

        var faults = state.Faults;
        var renewed = state.MintUserCollectionsId(
            faults.RenewedUserId ?? Claims.String(key, EmulatorState.ClaimPrefix + "userId")!,
            new UcidMintRequest
            {
                ClientId = faults.RenewedClientId ?? Claims.String(key, EmulatorState.ClaimPrefix + "clientId"),
                RefreshUri = Claims.String(key, EmulatorState.ClaimPrefix + "refreshUri"),
                LifetimeSeconds = faults.RenewedLifetimeSeconds,
            });
        state.CountRenewal();
        return StoreHttp.Deliver(ctx, Results.Json(new RenewResponse(renewed), EmulatorJson.Default.RenewResponse));
    }
}
