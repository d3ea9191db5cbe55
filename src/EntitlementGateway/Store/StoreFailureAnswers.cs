using EntitlementGateway.Infrastructure.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace EntitlementGateway.Store;

/// <summary>How the gateway answers one kind of Store failure.</summary>
/// <param name="Status">The HTTP status.</param>
/// <param name="Code">The problem's stable <c>code</c>.</param>
/// <param name="Title">The problem's title.</param>
/// <param name="DefaultRetryAfter">Retry-After when the failure itself gives none; null: no Retry-After.</param>
/// <param name="StaleMayStandIn">Whether a cached answer younger than Cache:MaxStale is served instead.</param>
public sealed record StoreFailureAnswer(int Status, string Code, string Title, TimeSpan? DefaultRetryAfter, bool StaleMayStandIn);

/// <summary>The one vocabulary of Store failures, used by every endpoint that calls the Store.</summary>
public static class StoreFailureAnswers
{
    private static readonly StoreFailureAnswer BudgetExhausted = new(429, GatewayProblems.BudgetExhausted, "The player's Store budget is used up.", TimeSpan.FromSeconds(1), true);
    private static readonly StoreFailureAnswer BudgetUnavailable = new(503, GatewayProblems.BudgetUnavailable, "The budget store is unavailable.", TimeSpan.FromSeconds(5), true);
    // The Store's 429 ends in the player's block; Retry-After 60 s when the Store gave none.
    private static readonly StoreFailureAnswer RateLimited = new(503, GatewayProblems.UpstreamUnavailable, "The Store rate-limited this player.", TimeSpan.FromSeconds(60), true);
    private static readonly StoreFailureAnswer UcidRefused = new(400, GatewayProblems.InvalidUserCollectionsId, "The Store refused the UserCollectionsId.", null, false);
    private static readonly StoreFailureAnswer XboxTokenRefused = new(401, GatewayProblems.XboxTokenRefused, "The Store refused the player's Xbox authorization.", null, false);
    private static readonly StoreFailureAnswer CredentialsSuspect = new(503, GatewayProblems.UpstreamUnavailable, "The Store is refusing the gateway.", TimeSpan.FromSeconds(30), true);
    private static readonly StoreFailureAnswer Unavailable = new(503, GatewayProblems.UpstreamUnavailable, "The Store is unavailable.", TimeSpan.FromSeconds(5), true);
    private static readonly StoreFailureAnswer Timeout = new(504, GatewayProblems.UpstreamTimeout, "The Store did not answer in time.", null, true);
    private static readonly StoreFailureAnswer Error = new(502, GatewayProblems.UpstreamError, "The Store answered with an error.", null, true);

    public static StoreFailureAnswer For(StoreFailureKind kind) => kind switch
    {
        StoreFailureKind.BudgetExhausted => BudgetExhausted,
        StoreFailureKind.BudgetUnavailable => BudgetUnavailable,
        StoreFailureKind.RateLimited => RateLimited,
        StoreFailureKind.UcidRefused => UcidRefused,
        StoreFailureKind.XboxTokenRefused => XboxTokenRefused,
        StoreFailureKind.CredentialsSuspect => CredentialsSuspect,
        StoreFailureKind.Unavailable => Unavailable,
        StoreFailureKind.Timeout => Timeout,
        _ => Error,
    };

    /// <summary>The Retry-After to send: the failure's own wait, else the kind's default; null for none.</summary>
    public static TimeSpan? RetryAfter(StoreFailureKind kind, TimeSpan? own) => own ?? For(kind).DefaultRetryAfter;

    /// <summary>The problem for <paramref name="kind"/>, with Retry-After set on <paramref name="response"/> when it has one.</summary>
    public static ProblemHttpResult Problem(HttpResponse response, StoreFailureKind kind, string detail, TimeSpan? retryAfter)
    {
        ArgumentNullException.ThrowIfNull(response);
        var answer = For(kind);
        if (RetryAfter(kind, retryAfter) is { } wait) GatewayProblems.SetRetryAfter(response, wait);
        return GatewayProblems.Create(answer.Status, answer.Code, answer.Title, detail);
    }
}
