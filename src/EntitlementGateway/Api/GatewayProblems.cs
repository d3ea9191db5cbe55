using Microsoft.AspNetCore.Http.HttpResults;

namespace EntitlementGateway.Api;

/// <summary>The stable problem codes (RFC 9457 problem details with a <c>code</c> extension).</summary>
public static class GatewayProblems
{
    public const string InvalidRequest = "invalid_request";
    public const string InvalidUserCollectionsId = "invalid_user_collections_id";
    public const string UserCollectionsIdExpired = "user_collections_id_expired";
    public const string BudgetExhausted = "budget_exhausted";
    public const string BudgetUnavailable = "budget_unavailable";
    public const string UpstreamError = "upstream_error";
    public const string UpstreamUnavailable = "upstream_unavailable";
    public const string UpstreamTimeout = "upstream_timeout";
    public const string RequestTooLarge = "request_too_large";
    public const string InternalError = "internal_error";

    public static ProblemHttpResult Create(int status, string code, string title, string detail,
        IDictionary<string, string[]>? errors = null)
    {
        var extensions = new Dictionary<string, object?> { ["code"] = code };
        if (errors is { Count: > 0 }) extensions["errors"] = errors;
        return TypedResults.Problem(detail: detail, statusCode: status, title: title, extensions: extensions);
    }

    /// <summary>The answer to a UCID refused by its pre-check (shape, audience, client id, validity window); null when none.</summary>
    public static ProblemHttpResult? ForUcid(Store.UcidProblem problem, string detail) => problem switch
    {
        Store.UcidProblem.Invalid => Create(400, InvalidUserCollectionsId, "The UserCollectionsId is not valid.", detail),
        Store.UcidProblem.Expired => Create(401, UserCollectionsIdExpired, "The UserCollectionsId is not valid now.", detail),
        _ => null,
    };

    /// <summary>A wait in whole seconds, rounded up and at least 1: what Retry-After, RateLimit and details say.</summary>
    public static long WholeSeconds(TimeSpan span) => Math.Max(1, (long)Math.Ceiling(span.TotalSeconds));

    /// <summary>Sets Retry-After in whole seconds (at least 1).</summary>
    public static void SetRetryAfter(HttpResponse response, TimeSpan retryAfter) =>
        response.Headers.RetryAfter = WholeSeconds(retryAfter).ToString(System.Globalization.CultureInfo.InvariantCulture);
}
