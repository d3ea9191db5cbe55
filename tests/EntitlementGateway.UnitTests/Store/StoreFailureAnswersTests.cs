using EntitlementGateway.Store;
using Microsoft.AspNetCore.Http;

namespace EntitlementGateway.UnitTests.Store;

/// <summary>The one table from a Store failure to the answer every endpoint gives.</summary>
public class StoreFailureAnswersTests
{
    [Theory]
    [InlineData(StoreFailureKind.BudgetExhausted, 429, "budget_exhausted", 1, true)]
    [InlineData(StoreFailureKind.BudgetUnavailable, 503, "budget_unavailable", 5, true)]
    [InlineData(StoreFailureKind.RateLimited, 503, "upstream_unavailable", 60, true)]
    [InlineData(StoreFailureKind.UcidRefused, 400, "invalid_user_collections_id", null, false)]
    [InlineData(StoreFailureKind.XboxTokenRefused, 401, "xbox_token_refused", null, false)]
    [InlineData(StoreFailureKind.CredentialsSuspect, 503, "upstream_unavailable", 30, true)]
    [InlineData(StoreFailureKind.Unavailable, 503, "upstream_unavailable", 5, true)]
    [InlineData(StoreFailureKind.Timeout, 504, "upstream_timeout", null, true)]
    [InlineData(StoreFailureKind.Error, 502, "upstream_error", null, true)]
    public void For_EachKind_HasOneStatusCodeDefaultRetryAfterAndStalePolicy(StoreFailureKind kind, int status, string code, int? retryAfterSeconds, bool stale)
    {
        var answer = StoreFailureAnswers.For(kind);

        Assert.Equal(status, answer.Status);
        Assert.Equal(code, answer.Code);
        Assert.Equal(retryAfterSeconds is { } s ? TimeSpan.FromSeconds(s) : null, answer.DefaultRetryAfter);
        Assert.Equal(stale, answer.StaleMayStandIn);
        Assert.False(string.IsNullOrWhiteSpace(answer.Title));
    }

    [Fact]
    public void RetryAfter_TheFailuresOwnWaitWins_OverTheDefault()
    {
        Assert.Equal(TimeSpan.FromSeconds(7), StoreFailureAnswers.RetryAfter(StoreFailureKind.RateLimited, TimeSpan.FromSeconds(7)));
        Assert.Equal(TimeSpan.FromSeconds(60), StoreFailureAnswers.RetryAfter(StoreFailureKind.RateLimited, null));
        Assert.Null(StoreFailureAnswers.RetryAfter(StoreFailureKind.Timeout, null));
    }

    [Fact]
    public void Problem_SetsRetryAfterInWholeSecondsAndTheCode()
    {
        var http = new DefaultHttpContext();
        var problem = StoreFailureAnswers.Problem(http.Response, StoreFailureKind.Unavailable, "down", TimeSpan.FromSeconds(2.2));

        Assert.Equal("3", http.Response.Headers.RetryAfter.ToString());
        Assert.Equal(503, problem.StatusCode);
        Assert.Equal("upstream_unavailable", problem.ProblemDetails.Extensions["code"]);
        Assert.Equal("down", problem.ProblemDetails.Detail);
    }

    [Fact]
    public void Problem_WithoutAResponse_Throws() =>
        Assert.Throws<ArgumentNullException>(() => StoreFailureAnswers.Problem(null!, StoreFailureKind.Error, "bad", null));

    [Fact]
    public void Problem_WithoutAnyWait_SendsNoRetryAfter()
    {
        var http = new DefaultHttpContext();
        StoreFailureAnswers.Problem(http.Response, StoreFailureKind.Error, "bad", null);
        Assert.False(http.Response.Headers.ContainsKey("Retry-After"));
    }
}
