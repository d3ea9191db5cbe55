using EntitlementGateway.Budget;
using EntitlementGateway.Security;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using EntitlementGateway.Infrastructure.Http;

namespace EntitlementGateway.Api;

/// <summary>Operations endpoints under <c>/ops</c>: off unless Ops:Enabled, and always behind the Ops policy.</summary>
public static class OpsApi
{
    public static WebApplication MapOpsApi(this WebApplication app)
    {
        if (!app.Services.GetRequiredService<IOptions<OpsOptions>>().Value.Enabled) return app;

        var group = app.MapGroup("/ops").WithTags("Operations").RequireAuthorization(OpsOptions.Policy);
        group.MapGet("/budgets/{userKey}", GetBudgetAsync)
            .WithName("GetBudget")
            .WithSummary("One player's Store budget")
            .WithDescription("Used and remaining units in the rolling window, the oldest unit's time and any block after a Store 429. " +
                             "The key is user-{userId} (the UCID's userId), player-{id} (player binding on) or ucid-{hash} (no userId).")
            .Produces<BudgetSnapshot>()
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        return app;
    }

    internal static async Task<Results<Ok<BudgetSnapshot>, ProblemHttpResult>> GetBudgetAsync(
        string userKey, IUserBudget budget, CancellationToken cancellationToken)
    {
        if (userKey.Length is 0 or > 256)
            return GatewayProblems.Create(400, GatewayProblems.InvalidRequest, "The key is not valid.", "userKey must be 1 to 256 characters.");
        try
        {
            return TypedResults.Ok(await budget.GetAsync(userKey, cancellationToken));
        }
        catch (BudgetUnavailableException)
        {
            return GatewayProblems.Create(503, GatewayProblems.BudgetUnavailable, "The budget store is unavailable.", "Redis did not answer in time.");
        }
    }
}
