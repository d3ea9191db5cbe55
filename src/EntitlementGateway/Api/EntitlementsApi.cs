using System.Globalization;
using EntitlementGateway.Budget;
using EntitlementGateway.Entitlements;
using EntitlementGateway.Security;
using EntitlementGateway.Store;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace EntitlementGateway.Api;

/// <summary>The game-client API: <c>/v1/entitlements</c>.</summary>
public static class EntitlementsApi
{
    public static RouteGroupBuilder MapEntitlementsApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/v1/entitlements").WithTags("Entitlements")
            .RequireAuthorization(PlayerAuthOptions.Policy)
            .RequireRateLimiting(ClientLimitsOptions.Policy);

        group.MapPost("/query", QueryAsync)
            .WithName("QueryEntitlements")
            .WithSummary("What the player owns right now")
            .WithDescription("""
                Forwards the query to the Microsoft Store (B2bLicensePreview, Collections v8) with the gateway's service token,
                following every page, and answers the player's entitlements: Active only, inside their validity window,
                one per product and SKU. Every Store call spends one unit of the player's budget (100 per rolling 5 minutes by
                default), shown in the RateLimit and RateLimit-Policy headers. An empty list with a 200 usually means a
                Partner Center configuration or sandbox problem rather than "owns nothing".
                """)
            .Accepts<EntitlementQueryRequest>("application/json")
            .Produces<EntitlementQueryResponse>(StatusCodes.Status200OK)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status502BadGateway)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable)
            .ProducesProblem(StatusCodes.Status504GatewayTimeout);

        return group;
    }

    internal static async Task<Results<Ok<EntitlementQueryResponse>, ProblemHttpResult>> QueryAsync(
        EntitlementQueryRequest request,
        HttpContext http,
        UcidValidator ucidValidator,
        PlayerBinding binding,
        EntitlementQueryService queries,
        IOptions<CatalogOptions> catalog,
        IOptions<BudgetOptions> budgetOptions,
        CancellationToken cancellationToken)
    {
        var budget = budgetOptions.Value;
        http.Response.Headers["RateLimit-Policy"] = $"\"upstream\";q={budget.Limit};w={budget.WindowSeconds}";

        var validated = EntitlementQueryValidator.Validate(request, catalog.Value.Parse());
        if (!validated.IsValid)
            return GatewayProblems.Create(400, GatewayProblems.InvalidRequest, "The request is not valid.",
                "One or more fields are not valid: " + string.Join(", ", validated.Errors.Keys) + ".", validated.Errors);

        // Refused here, a bad UCID spends no budget and makes no Store call.
        switch (ucidValidator.Validate(request.UserCollectionsId, out var ucid, out var detail))
        {
            case UcidProblem.Invalid:
                return GatewayProblems.Create(400, GatewayProblems.InvalidUserCollectionsId, "The UserCollectionsId is not valid.", detail);
            case UcidProblem.Expired:
                return GatewayProblems.Create(401, GatewayProblems.UserCollectionsIdExpired, "The UserCollectionsId is not valid now.", detail);
        }

        if (binding.Check(http.User, ucid!) is { } mismatch) return mismatch;

        var query = new EntitlementQuery(ucid!, binding.BudgetKey(http.User, ucid!), validated.Products, validated.ProductKinds, validated.IncludeSatisfyingItems);
        var outcome = await queries.QueryAsync(query, cancellationToken);
        if (outcome.Budget is { } decision)
            http.Response.Headers["RateLimit"] = string.Create(CultureInfo.InvariantCulture,
                $"\"upstream\";r={(outcome.Status == QueryStatus.BudgetExhausted ? 0 : decision.Remaining)};t={EntitlementQueryService.Seconds(decision.ResetAfter)}");
        if (outcome.RetryAfter is { } retryAfter) GatewayProblems.SetRetryAfter(http.Response, retryAfter);

        return outcome.Status switch
        {
            QueryStatus.Ok => TypedResults.Ok(new EntitlementQueryResponse(outcome.Entitlements!, "upstream")),
            QueryStatus.UcidRejected => GatewayProblems.Create(400, GatewayProblems.InvalidUserCollectionsId, "The Store refused the UserCollectionsId.", outcome.Detail),
            QueryStatus.BudgetUnavailable => GatewayProblems.Create(503, GatewayProblems.BudgetUnavailable, "The budget store is unavailable.", outcome.Detail),
            QueryStatus.BudgetExhausted => GatewayProblems.Create(429, GatewayProblems.BudgetExhausted, "The player's Store budget is used up.", outcome.Detail),
            QueryStatus.UpstreamUnavailable => GatewayProblems.Create(503, GatewayProblems.UpstreamUnavailable, "The Store is unavailable.", outcome.Detail),
            QueryStatus.UpstreamTimeout => GatewayProblems.Create(504, GatewayProblems.UpstreamTimeout, "The Store did not answer in time.", outcome.Detail),
            _ => GatewayProblems.Create(502, GatewayProblems.UpstreamError, "The Store answered with an error.", outcome.Detail),
        };
    }
}
