using EntitlementGateway.Budget;
using EntitlementGateway.Consumables;
using EntitlementGateway.Entitlements;
using EntitlementGateway.Infrastructure.Http;
using EntitlementGateway.Security;
using EntitlementGateway.Store;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace EntitlementGateway.Api;

/// <summary>The game-client API for consumables: <c>/v1/consumables</c>.</summary>
public static class ConsumablesApi
{
    /// <summary>Set on an answer the ledger replayed (no Store call, no budget unit).</summary>
    public const string ReplayedHeader = "Idempotent-Replayed";

    public static RouteGroupBuilder MapConsumablesApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGameClientGroup("/v1/consumables", "Consumables");

        group.MapPost("/consume", ConsumeAsync)
            .WithName("ConsumeConsumable")
            .WithSummary("Consume a Store-managed consumable, exactly once per trackingId")
            .WithDescription("""
                Removes quantity from the player's balance (the player named by userCollectionsId, or by xbox: the delegated
                Xbox authorization, as on the query) of a Store-managed consumable (Collections v8 consume, with
                includeOrderIds) and answers the new balance and the orders the quantity came from. Idempotent on trackingId,
                across replicas and restarts: the same trackingId with the same request answers the recorded outcome with
                Idempotent-Replayed: true, no Store call and no budget unit; with another player, product or quantity it is
                409 tracking_id_reused. While another request holds the trackingId, this one waits for its outcome (bounded),
                then 409 consume_in_progress with Retry-After. A Store failure (502/503/504) leaves the outcome unknown and
                nothing recorded: send the same request again, the Store confirms a consume that happened without consuming
                twice. Refusals are recorded: 409 insufficient_quantity, 400 product_not_consumable. Every Store attempt spends
                one unit of the player's budget, shared with queries (RateLimit headers). The player's cached query answers are
                dropped after a consume.
                """)
            .Accepts<ConsumeRequest>("application/json")
            .Produces<ConsumeResponse>(StatusCodes.Status200OK)
            .ProducesPlayerStoreCall()
            .ProducesProblem(StatusCodes.Status409Conflict);

        return group;
    }

    internal static async Task<Results<Ok<ConsumeResponse>, ProblemHttpResult>> ConsumeAsync(
        HttpContext http,
        UcidValidator ucidValidator,
        PlayerBinding binding,
        ConsumeService consumes,
        IOptions<ConsumeOptions> consumeOptions,
        IOptions<BudgetOptions> budgetOptions,
        CancellationToken cancellationToken)
    {
        var request = await JsonBody.ReadAsync(http.Request, ApiJsonContext.Default.ConsumeRequest, cancellationToken);
        StoreAnswerHeaders.SetPolicy(http.Response, budgetOptions.Value);
        var errors = Validate(request, consumeOptions.Value.MaxQuantity, out var trackingId);
        if (errors.Count > 0)
            return GatewayProblems.Create(400, GatewayProblems.InvalidRequest, "The request is not valid.",
                "One or more fields are not valid: " + string.Join(", ", errors.Keys) + ".", errors);

        // Refused here, bad credentials spend no budget, make no Store call and touch no ledger entry.
        if (PlayerCredentials.Resolve(request.UserCollectionsId, request.Xbox, http, ucidValidator, binding, out var caller) is { } refused)
            return refused;

        var command = new ConsumeCommand(caller!.Ucid, caller.Xbox, caller.BudgetKey, request.ProductId!, request.Quantity!.Value, trackingId!);
        var outcome = await consumes.ConsumeAsync(command, cancellationToken);
        StoreAnswerHeaders.SetBudget(http.Response, outcome.Budget, outcome.Failure?.Kind == StoreFailureKind.BudgetExhausted);
        if (outcome.Replayed) http.Response.Headers[ReplayedHeader] = "true";
        // The Store answered for this UCID: a later replay on this replica needs no confirmation (nor a query's parse).
        if (outcome.StoreAccepted && caller.UcidEntry is { } entry) ucidValidator.Accepted(entry);

        if (outcome.Receipt is { } receipt)
            return TypedResults.Ok(new ConsumeResponse(receipt.ProductId, receipt.TrackingId, receipt.NewQuantity,
                receipt.OrderTransactions.Select(o => new ConsumeOrderTransaction(o.OrderId, o.OrderLineItemId, o.QuantityConsumed)).ToList()));
        if (outcome.Problem is { } problem)
        {
            if (problem.RetryAfter is { } wait) GatewayProblems.SetRetryAfter(http.Response, wait);
            return GatewayProblems.Create(problem.Status, problem.Code, problem.Title, problem.Detail);
        }
        var failure = outcome.Failure!;
        return StoreFailureAnswers.Problem(http.Response, failure.Kind, failure.Detail + (outcome.ReplayUnconfirmed
            ? " This trackingId's consume is recorded; its receipt is answered once the Store accepts the credentials it is asked with."
            : " Nothing is recorded for this trackingId: send the same request (same trackingId) again; if this consume " +
              "reached the Store, the Store confirms it without consuming twice."), failure.RetryAfter);
    }

    /// <summary>Field errors by JSON name; <paramref name="trackingId"/> is the trackingId in its canonical form (lower-case, hyphens).</summary>
    internal static Dictionary<string, string[]> Validate(ConsumeRequest request, int maxQuantity, out string? trackingId)
    {
        var errors = new Dictionary<string, string[]>();
        trackingId = Guid.TryParse(request.TrackingId, out var guid) && guid != Guid.Empty ? guid.ToString("D") : null;
        if (!ProductRules.IsProductId(request.ProductId))
            errors["productId"] = ["productId must be a Store ID: 12 upper-case letters or digits, e.g. 9N30KZZF4BR9."];
        if (request.Quantity is not { } q || q < 1 || q > maxQuantity)
            errors["quantity"] = [$"quantity must be between 1 and {maxQuantity} (Consume:MaxQuantity)."];
        if (trackingId is null)
            errors["trackingId"] = ["trackingId must be a GUID the game creates per fulfilment (not the empty GUID), e.g. 4f1c2d9e-0b7a-4c1e-9a55-2f0c8d3b6e71."];
        return errors;
    }
}
