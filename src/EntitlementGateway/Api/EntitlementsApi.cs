using System.Globalization;
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
    public const string StaleBecauseHeader = "X-Served-Stale-Because";

    public static RouteGroupBuilder MapEntitlementsApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGameClientGroup("/v1/entitlements", "Entitlements");

        group.MapPost("/query", QueryAsync)
            .WithName("QueryEntitlements")
            .WithSummary("What the player owns right now")
            .WithDescription("""
                Forwards the query to the Microsoft Store (B2bLicensePreview, Collections v8) with the gateway's service token,
                following every page, and answers the player's entitlements: Active only, inside their validity window,
                one per product and SKU. Answers are cached per player and query (servedFrom "cache", no budget spent)
                for Cache:Ttl; send Cache-Control: no-cache for a fresh one. When the budget is used up or the Store fails,
                an answer younger than Cache:MaxStale is served with servedFrom "stale" and a Warning header. Every Store call spends one unit of the player's budget (100 per rolling 5 minutes by
                default), shown in the RateLimit and RateLimit-Policy headers. An empty list with a 200 usually means a
                Partner Center configuration or sandbox problem rather than "owns nothing".
                """)
            .Accepts<EntitlementQueryRequest>("application/json")
            .Produces<EntitlementQueryResponse>(StatusCodes.Status200OK)
            .ProducesStoreFailures(StatusCodes.Status400BadRequest, StatusCodes.Status401Unauthorized,
                StatusCodes.Status403Forbidden, StatusCodes.Status413PayloadTooLarge);

        return group;
    }

    internal static async Task<Results<Ok<EntitlementQueryResponse>, ProblemHttpResult>> QueryAsync(
        EntitlementQueryRequest request,
        HttpContext http,
        UcidValidator ucidValidator,
        PlayerBinding binding,
        CachedEntitlementQueries queries,
        IOptions<CatalogOptions> catalog,
        IOptions<BudgetOptions> budgetOptions,
        CancellationToken cancellationToken)
    {
        http.Response.Headers["RateLimit-Policy"] = RateLimitPolicy(budgetOptions.Value);

        var validated = EntitlementQueryValidator.Validate(request, catalog.Value.Parse());
        if (!validated.IsValid)
            return GatewayProblems.Create(400, GatewayProblems.InvalidRequest, "The request is not valid.",
                "One or more fields are not valid: " + string.Join(", ", validated.Errors.Keys) + ".", validated.Errors);

        // Refused here, a bad UCID spends no budget and makes no Store call.
        var ucidProblem = ucidValidator.Check(request.UserCollectionsId, out var entry, out var detail);
        if (UcidProblems.For(ucidProblem, detail) is { } refused) return refused;
        var ucid = entry!.Ucid;

        if (binding.Check(http.User, ucid) is { } mismatch) return mismatch;

        var query = new EntitlementQuery(ucid, binding.BudgetKey(http.User, ucid), validated.Products, validated.ProductKinds, validated.IncludeSatisfyingItems)
        {
            UcidHash = entry.Hash,
        };
        var outcome = await queries.QueryAsync(query, AsksForFreshAnswer(http.Request), cancellationToken);
        // An answer (fresh, cached or stale) means the Store accepted this very token.
        if (outcome.Entitlements is not null) ucidValidator.Accepted(entry);
        // A cache hit made no budget decision: RateLimit is left out, RateLimit-Policy stays.
        if (outcome.Budget is { } decision)
            http.Response.Headers["RateLimit"] = string.Create(CultureInfo.InvariantCulture,
                $"\"upstream\";r={(outcome.Failure == StoreFailureKind.BudgetExhausted ? 0 : decision.Remaining)};t={GatewayProblems.WholeSeconds(decision.ResetAfter)}");
        if (outcome.StaleBecause is { } because)
        {
            http.Response.Headers["Warning"] = "110 - \"Response is stale\"";
            http.Response.Headers[StaleBecauseHeader] = because;
        }

        return outcome.Failure is { } failure
            ? StoreFailureAnswers.Problem(http.Response, failure, outcome.Detail, outcome.RetryAfter)
            : TypedResults.Ok(new EntitlementQueryResponse(outcome.Entitlements!, outcome.ServedFrom));
    }

    private static Tuple<BudgetOptions, string>? _rateLimitPolicy;

    /// <summary>The RateLimit-Policy header, built once per options instance (bound once per host).</summary>
    internal static string RateLimitPolicy(BudgetOptions budget)
    {
        if (_rateLimitPolicy is { } cached && ReferenceEquals(cached.Item1, budget)) return cached.Item2;
        var text = string.Create(CultureInfo.InvariantCulture, $"\"upstream\";q={budget.Limit};w={budget.WindowSeconds}");
        _rateLimitPolicy = Tuple.Create(budget, text);
        return text;
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
        return request.Headers.Pragma.Any(v => v is not null && v.Contains("no-cache", StringComparison.OrdinalIgnoreCase));
    }
}
