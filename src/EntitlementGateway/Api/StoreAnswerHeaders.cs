using System.Globalization;
using EntitlementGateway.Budget;
using EntitlementGateway.Entitlements;
using EntitlementGateway.Infrastructure.Http;
using EntitlementGateway.Store;

namespace EntitlementGateway.Api;

/// <summary>
/// The headers every endpoint that spends the player's one budget answers with, the same everywhere: RateLimit-Policy
/// (always), RateLimit (when a budget decision was made), and Warning with X-Served-Stale-Because on a stale answer.
/// </summary>
public static class StoreAnswerHeaders
{
    /// <summary>On a stale answer: the failure it stands in for (budget_exhausted, upstream_error, ...).</summary>
    public const string StaleBecauseHeader = "X-Served-Stale-Because";

    private static Tuple<BudgetOptions, string>? _policy;

    public static void SetPolicy(HttpResponse response, BudgetOptions budget)
    {
        ArgumentNullException.ThrowIfNull(response);
        ArgumentNullException.ThrowIfNull(budget);
        response.Headers["RateLimit-Policy"] = Policy(budget);
    }

    /// <summary>The RateLimit-Policy value, built once per options instance (bound once per host), not per request.</summary>
    internal static string Policy(BudgetOptions budget)
    {
        if (_policy is { } cached && ReferenceEquals(cached.Item1, budget)) return cached.Item2;
        var text = string.Create(CultureInfo.InvariantCulture, $"\"upstream\";q={budget.Limit};w={budget.WindowSeconds}");
        _policy = Tuple.Create(budget, text);
        return text;
    }

    public static void SetOutcome(HttpResponse response, QueryOutcome outcome)
    {
        ArgumentNullException.ThrowIfNull(response);
        ArgumentNullException.ThrowIfNull(outcome);
        // A cache hit made no budget decision: RateLimit is left out, RateLimit-Policy stays.
        if (outcome.Budget is { } decision)
            response.Headers["RateLimit"] = string.Create(CultureInfo.InvariantCulture,
                $"\"upstream\";r={(outcome.Failure == StoreFailureKind.BudgetExhausted ? 0 : decision.Remaining)};t={GatewayProblems.WholeSeconds(decision.ResetAfter)}");
        if (outcome.StaleBecause is { } because)
        {
            response.Headers["Warning"] = "110 - \"Response is stale\"";
            response.Headers[StaleBecauseHeader] = because;
        }
    }
}
