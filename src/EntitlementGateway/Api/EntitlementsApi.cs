using EntitlementGateway.Budget;
using EntitlementGateway.Entitlements;
using EntitlementGateway.Entitlements.Caching;
using EntitlementGateway.Security;
using EntitlementGateway.Store;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using EntitlementGateway.Infrastructure.Http;

namespace EntitlementGateway.Api;

/// <summary>The game-client API: <c>/v1/entitlements</c>.</summary>
public static class EntitlementsApi
{
    /// <summary>On a stale answer: the failure it stands in for (budget_exhausted, upstream_error, ...).</summary>
    public const string StaleBecauseHeader = StoreAnswerHeaders.StaleBecauseHeader;

    public static RouteGroupBuilder MapEntitlementsApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGameClientGroup("/v1/entitlements", "Entitlements");

        group.MapPost("/query", QueryAsync)
            .WithName("QueryEntitlements")
            .WithSummary("What the player owns right now")
            .WithDescription("""
                Forwards the query to the Microsoft Store (Store:QueryApi: B2bLicensePreview, Collections v8, by default, or
                PublisherQuery, Collections v9, which asks pages of 200 and applies productTypes in the gateway only) with the
                gateway's service token and the player's userCollectionsId, or with the player's delegated Xbox authorization
                (xbox: authorization "XBL3.0 x=<userhash>;<token>" and signature, forwarded as the Store's Authorization and
                Signature headers; send one or the other), following every page, and answers the player's entitlements: Active only, inside their validity window,
                one per product and SKU. Answers are cached per player and query (servedFrom "cache", no budget spent)
                for Cache:Ttl; send Cache-Control: no-cache for a fresh one. When the budget is used up or the Store fails,
                an answer younger than Cache:MaxStale is served with servedFrom "stale" and a Warning header. Every Store call spends one unit of the player's budget (100 per rolling 5 minutes by
                default), shown in the RateLimit and RateLimit-Policy headers. An empty list with a 200 usually means a
                Partner Center configuration or sandbox problem rather than "owns nothing".
                """)
            .Accepts<EntitlementQueryRequest>("application/json")
            .Produces<EntitlementQueryResponse>(StatusCodes.Status200OK)
            .ProducesPlayerStoreCall();

        return group;
    }

    internal static async Task<Results<JsonAnswer<EntitlementQueryResponse>, ProblemHttpResult>> QueryAsync(
        HttpContext http,
        EntitlementQueryJson json,
        UcidValidator ucidValidator,
        PlayerBinding binding,
        CachedEntitlementQueries queries,
        IOptions<CatalogOptions> catalog,
        IOptions<BudgetOptions> budgetOptions,
        IOptions<StoreOptions> storeOptions,
        CancellationToken cancellationToken)
    {
        // Read here rather than bound by the framework: the hot path's one synchronous parse (same refusals, same problems).
        var request = await JsonBody.ReadAsync(http.Request, json.Request, cancellationToken);
        StoreAnswerHeaders.SetPolicy(http.Response, budgetOptions.Value);

        var validated = EntitlementQueryValidator.Validate(request, catalog.Value.Parse());
        if (!validated.IsValid)
            return GatewayProblems.Create(400, GatewayProblems.InvalidRequest, "The request is not valid.",
                "One or more fields are not valid: " + string.Join(", ", validated.Errors.Keys) + ".", validated.Errors);

        // Refused here, bad credentials spend no budget and make no Store call.
        if (PlayerCredentials.Resolve(request.UserCollectionsId, request.Xbox, http, ucidValidator, binding, out var caller) is { } refused)
            return refused;

        var api = storeOptions.Value.QueryApi;
        // v9 always expands satisfying items: the flag has no effect there, so it does not split the cache either.
        var query = new EntitlementQuery(caller!.Ucid, caller.BudgetKey, validated.Products, validated.ProductKinds,
            validated.IncludeSatisfyingItems || api == CollectionsApi.V9, api, caller.Xbox)
        {
            CredentialHash = caller.UcidEntry?.Hash,
        };
        var outcome = await queries.QueryAsync(query, AsksForFreshAnswer(http.Request), cancellationToken);
        // An answer (fresh, cached or stale) means the Store accepted this very UCID: its next request skips the parse.
        if (outcome.Entitlements is not null && caller.UcidEntry is { } accepted) ucidValidator.Accepted(accepted);
        StoreAnswerHeaders.SetOutcome(http.Response, outcome);

        return outcome.Failure is { } failure
            ? StoreFailureAnswers.Problem(http.Response, failure, outcome.Detail, outcome.RetryAfter)
            : new JsonAnswer<EntitlementQueryResponse>(new EntitlementQueryResponse(outcome.Entitlements!, outcome.ServedFrom),
                ApiJsonContext.Default.EntitlementQueryResponse, outcome.AnswerMemo);
    }

    /// <summary><c>Cache-Control: no-cache</c> (or <c>max-age=0</c>, or <c>Pragma: no-cache</c>): the client wants the Store's answer now.</summary>
    internal static bool AsksForFreshAnswer(HttpRequest request)
    {
        foreach (var value in request.Headers.CacheControl)
        {
            if (value is null) continue;
            foreach (var directive in value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
                if (directive.Equals("no-cache", StringComparison.OrdinalIgnoreCase) || directive.Equals("max-age=0", StringComparison.OrdinalIgnoreCase))
                    return true;
        }
        foreach (var value in request.Headers.Pragma)
            if (value is not null && value.Contains("no-cache", StringComparison.OrdinalIgnoreCase)) return true;
        return false;
    }
}
