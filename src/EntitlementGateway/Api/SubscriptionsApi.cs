using EntitlementGateway.Budget;
using EntitlementGateway.Entitlements;
using EntitlementGateway.Entitlements.Caching;
using EntitlementGateway.Infrastructure.Http;
using EntitlementGateway.Security;
using EntitlementGateway.Store;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace EntitlementGateway.Api;

/// <summary>The game-client API for subscriptions: <c>/v1/subscriptions</c>.</summary>
public static class SubscriptionsApi
{
    public static RouteGroupBuilder MapSubscriptionsApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGameClientGroup("/v1/subscriptions", "Subscriptions");

        group.MapPost("/game-pass", GamePassAsync)
            .WithName("GamePass")
            .WithSummary("Whether the player has Xbox Game Pass now, and which tiers")
            .WithDescription("""
                Asks the Store's PublisherQuery (Collections v9, whatever Store:QueryApi says) for the Game Pass tiers in
                GamePass:Tiers, with the player's userCollectionsId (service token) or delegated Xbox authorization (xbox),
                and answers active and the tiers the Store shows. Cached and budgeted like /v1/entitlements/query (one unit
                per Store call, the same RateLimit headers, servedFrom cache or stale). Caveats from the Store: only active
                subscriptions are returned and their endDate is the maximum value, so this cannot say when one ends; a
                publisher sees only the tiers it is authorised for (a higher tier shows the included lower ones); answers
                can lag a few hours on a release day.
                """)
            .Accepts<GamePassRequest>("application/json")
            .Produces<GamePassResponse>(StatusCodes.Status200OK)
            .ProducesPlayerStoreCall();

        return group;
    }

    internal static async Task<Results<Ok<GamePassResponse>, ProblemHttpResult>> GamePassAsync(
        HttpContext http,
        UcidValidator ucidValidator,
        PlayerBinding binding,
        CachedEntitlementQueries queries,
        IOptions<GamePassOptions> gamePass,
        IOptions<BudgetOptions> budgetOptions,
        TimeProvider time,
        CancellationToken cancellationToken)
    {
        var request = await JsonBody.ReadAsync(http.Request, ApiJsonContext.Default.GamePassRequest, cancellationToken);
        StoreAnswerHeaders.SetPolicy(http.Response, budgetOptions.Value);
        if (PlayerCredentials.Resolve(request.UserCollectionsId, request.Xbox, http, ucidValidator, binding, out var caller) is { } refused)
            return refused;

        var tiers = gamePass.Value.Parse();
        var query = new EntitlementQuery(caller!.Ucid, caller.BudgetKey, gamePass.Value.Products(), null, true, CollectionsApi.V9, caller.Xbox);
        var outcome = await queries.QueryAsync(query, EntitlementsApi.AsksForFreshAnswer(http.Request), cancellationToken);
        StoreAnswerHeaders.SetOutcome(http.Response, outcome);
        if (outcome.Failure is { } failure)
            return StoreFailureAnswers.Problem(http.Response, failure, outcome.Detail, outcome.RetryAfter);

        // A subscriber is a Recurring item with the tier's id; a publisher not authorised for the tier sees it as Single,
        // and a Single or Conditional item with that id is not a subscription the player has. Every copy owned now is
        // read, not only the one the entitlement answer would show: beside a Single copy (a code redeemed), the
        // Recurring one still proves the subscription.
        var now = time.GetUtcNow();
        var owned = (outcome.Candidates ?? outcome.Entitlements!)
            .Where(e => string.Equals(e.AcquisitionType, "Recurring", StringComparison.OrdinalIgnoreCase) && EntitlementFilter.IsOwnedAt(e, now))
            .Select(e => e.ProductId).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var active = tiers.Where(t => owned.Contains(t.ProductId)).Select(t => t.Name).ToList();
        return TypedResults.Ok(new GamePassResponse(active.Count > 0, active, outcome.ServedFrom));
    }
}
