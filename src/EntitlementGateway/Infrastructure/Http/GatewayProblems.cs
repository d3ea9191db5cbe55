using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace EntitlementGateway.Infrastructure.Http;

/// <summary>
/// Every problem the gateway answers with: RFC 9457 problem details with a stable <c>code</c> extension. The codes are
/// listed here and nowhere else.
/// </summary>
public static class GatewayProblems
{
    public const string InvalidRequest = "invalid_request";
    public const string InvalidUserCollectionsId = "invalid_user_collections_id";
    public const string UserCollectionsIdExpired = "user_collections_id_expired";
    public const string InvalidXboxAuthorization = "invalid_xbox_authorization";
    public const string InvalidXboxSignature = "invalid_xbox_signature";
    public const string XboxTokenRefused = "xbox_token_refused";
    public const string Unauthorized = "unauthorized";
    public const string Forbidden = "forbidden";
    public const string PlayerMismatch = "player_mismatch";
    public const string NotFound = "not_found";
    public const string MethodNotAllowed = "method_not_allowed";
    public const string RequestTooLarge = "request_too_large";
    public const string RequestHeadersTooLarge = "request_headers_too_large";
    public const string TooManyRequests = "too_many_requests";
    public const string BudgetExhausted = "budget_exhausted";
    public const string BudgetUnavailable = "budget_unavailable";
    public const string UpstreamError = "upstream_error";
    public const string UpstreamUnavailable = "upstream_unavailable";
    public const string UpstreamTimeout = "upstream_timeout";
    public const string InternalError = "internal_error";
    public const string ClawbackUnavailable = "clawback_unavailable";

    /// <summary>A problem; with <paramref name="errors"/> (field name → messages) it is a validation problem.</summary>
    public static ProblemHttpResult Create(int status, string code, string title, string detail,
        IDictionary<string, string[]>? errors = null)
    {
        ProblemDetails problem = errors is { Count: > 0 } ? new HttpValidationProblemDetails(errors) : new ProblemDetails();
        problem.Status = status;
        problem.Title = title;
        problem.Detail = detail;
        problem.Extensions["code"] = code;
        return TypedResults.Problem(problem);
    }

    /// <summary>A wait in whole seconds, rounded up and at least 1: what Retry-After, RateLimit and details say.</summary>
    public static long WholeSeconds(TimeSpan span) => Math.Max(1, (long)Math.Ceiling(span.TotalSeconds));

    /// <summary>Sets Retry-After in whole seconds (at least 1).</summary>
    public static void SetRetryAfter(HttpResponse response, TimeSpan retryAfter) =>
        response.Headers.RetryAfter = WholeSeconds(retryAfter).ToString(System.Globalization.CultureInfo.InvariantCulture);
}
