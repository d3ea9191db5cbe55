using System.Net;
using System.Net.Http.Headers;
using EntitlementGateway.Api;
using EntitlementGateway.Budget;
using EntitlementGateway.Store.Resilience;
using Microsoft.AspNetCore.Http;
using Polly;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace EntitlementGateway.UnitTests.Store.Resilience;

public class ResilienceOptionsTests
{
    private static readonly ResilienceOptionsValidator Validator = new();

    [Fact]
    public void Defaults_AreValid() => Assert.True(Validator.Validate(null, new ResilienceOptions()).Succeeded);

    [Theory]
    [InlineData(nameof(ResilienceOptions.AttemptTimeoutSeconds), "Resilience:AttemptTimeoutSeconds must not exceed Resilience:TotalTimeoutSeconds")]
    [InlineData(nameof(ResilienceOptions.MaxRetries), "Resilience:MaxRetries")]
    [InlineData(nameof(ResilienceOptions.CircuitFailureRatio), "Resilience:CircuitFailureRatio")]
    [InlineData(nameof(ResilienceOptions.CircuitMinimumThroughput), "Resilience:CircuitMinimumThroughput")]
    [InlineData(nameof(ResilienceOptions.CircuitBreakSeconds), "Resilience:CircuitBreakSeconds")]
    [InlineData(nameof(ResilienceOptions.BaseDelayMs), "Resilience:BaseDelayMs")]
    public void Validation_NamesTheKeyAtFault(string property, string expected)
    {
        var options = new ResilienceOptions();
        switch (property)
        {
            case nameof(ResilienceOptions.AttemptTimeoutSeconds): options.AttemptTimeoutSeconds = options.TotalTimeoutSeconds + 1; break;
            case nameof(ResilienceOptions.MaxRetries): options.MaxRetries = -1; break;
            case nameof(ResilienceOptions.CircuitFailureRatio): options.CircuitFailureRatio = 0; break;
            case nameof(ResilienceOptions.CircuitMinimumThroughput): options.CircuitMinimumThroughput = 1; break;
            case nameof(ResilienceOptions.CircuitBreakSeconds): options.CircuitBreakSeconds = 0.1; break;
            case nameof(ResilienceOptions.BaseDelayMs): options.BaseDelayMs = -5; break;
        }
        var result = Validator.Validate(null, options);
        Assert.True(result.Failed);
        Assert.Contains(expected, result.FailureMessage);
    }

    [Theory]
    [InlineData(500, true)]
    [InlineData(502, true)]
    [InlineData(503, true)]
    [InlineData(504, true)]
    [InlineData(408, true)]
    [InlineData(429, false)]
    [InlineData(401, false)]
    [InlineData(400, false)]
    [InlineData(200, false)]
    public void IsTransient_ByStatus(int status, bool transient)
    {
        using var response = new HttpResponseMessage((HttpStatusCode)status);
        Assert.Equal(transient, StoreResiliencePipelines.IsTransient(Outcome.FromResult(response)));
        Assert.Equal(transient, StoreResiliencePipelines.ShouldRetry(Outcome.FromResult(response), DateTimeOffset.UtcNow));
    }

    [Theory]
    [InlineData("0", true)]
    [InlineData("1", false)]
    [InlineData("120", false)]
    [InlineData("soon", true)] // not a Retry-After the gateway can read: a plain 503
    public void ShouldRetry_A503AskingForASecondOrMoreOfQuiet_IsNotRetried_ButStillCountsAgainstTheCircuit(string retryAfter, bool retried)
    {
        using var response = new HttpResponseMessage(HttpStatusCode.ServiceUnavailable);
        response.Headers.TryAddWithoutValidation("Retry-After", retryAfter);
        Assert.Equal(retried, StoreResiliencePipelines.ShouldRetry(Outcome.FromResult(response), DateTimeOffset.UtcNow));
        Assert.True(StoreResiliencePipelines.CountsAgainstCircuit(Outcome.FromResult(response)));
    }

    [Fact]
    public void ShouldRetry_AnHttpDateRetryAfter_IsMeasuredAgainstTheAnswersDate()
    {
        var now = new DateTimeOffset(2030, 1, 2, 3, 4, 5, TimeSpan.Zero);
        using var soon = new HttpResponseMessage(HttpStatusCode.ServiceUnavailable);
        soon.Headers.Date = now;
        soon.Headers.RetryAfter = new System.Net.Http.Headers.RetryConditionHeaderValue(now.AddMilliseconds(500));
        using var later = new HttpResponseMessage(HttpStatusCode.ServiceUnavailable);
        later.Headers.Date = now;
        later.Headers.RetryAfter = new System.Net.Http.Headers.RetryConditionHeaderValue(now.AddSeconds(1));

        Assert.True(StoreResiliencePipelines.ShouldRetry(Outcome.FromResult(soon), now));
        Assert.False(StoreResiliencePipelines.ShouldRetry(Outcome.FromResult(later), now));
    }

    [Fact]
    public void CountsAgainstCircuit_TransientStoreFailuresDo_BudgetRefusalsAnd4xxDoNot()
    {
        var refused = new StoreBudgetRefusedException(BudgetDecision.Denied(0, TimeSpan.FromSeconds(5)));
        Assert.False(StoreResiliencePipelines.CountsAgainstCircuit(Outcome.FromException<HttpResponseMessage>(refused)));
        Assert.False(StoreResiliencePipelines.CountsAgainstCircuit(Outcome.FromException<HttpResponseMessage>(new BudgetUnavailableException())));
        Assert.True(StoreResiliencePipelines.CountsAgainstCircuit(Outcome.FromException<HttpResponseMessage>(new StoreBodyException("reset"))));
        // The same front end frames the next attempt the same way: not retried, and not the Store's health.
        Assert.False(StoreResiliencePipelines.IsTransient(Outcome.FromException<HttpResponseMessage>(new StoreUnreadableAnswerException("lengths disagree"))));
        Assert.False(StoreResiliencePipelines.IsTransient(Outcome.FromException<HttpResponseMessage>(new HttpRequestException(HttpRequestError.InvalidResponse))));
        Assert.False(StoreResiliencePipelines.IsTransient(Outcome.FromException<HttpResponseMessage>(new HttpRequestException(HttpRequestError.ConfigurationLimitExceeded))));
        Assert.True(StoreResiliencePipelines.IsTransient(Outcome.FromException<HttpResponseMessage>(new HttpRequestException(HttpRequestError.ConnectionError))));
        Assert.True(StoreResiliencePipelines.IsTransient(Outcome.FromException<HttpResponseMessage>(new HttpRequestException(HttpRequestError.ResponseEnded))));
        // Over HTTP/2 the cause comes wrapped.
        var wrapped = new HttpRequestException("sending failed", new IOException("aborted", new HttpRequestException(HttpRequestError.ConfigurationLimitExceeded)));
        Assert.False(StoreResiliencePipelines.IsTransient(Outcome.FromException<HttpResponseMessage>(wrapped)));
        Assert.True(StoreResiliencePipelines.CountsAgainstCircuit(Outcome.FromResult(new HttpResponseMessage(HttpStatusCode.InternalServerError))));
        Assert.False(StoreResiliencePipelines.CountsAgainstCircuit(Outcome.FromResult(new HttpResponseMessage(HttpStatusCode.BadRequest))));
        Assert.False(StoreResiliencePipelines.IsTransient(Outcome.FromException<HttpResponseMessage>(refused)));
        // A stream reset on a connection already replaced is retried, but it is the old connection's, not the Store's.
        var retired = Outcome.FromException<HttpResponseMessage>(new StoreRetiredConnectionException(new HttpProtocolException(0xb, "calm", null)));
        Assert.True(StoreResiliencePipelines.IsTransient(retired));
        Assert.False(StoreResiliencePipelines.CountsAgainstCircuit(retired));
        Assert.True(StoreResiliencePipelines.CountsAgainstCircuit(Outcome.FromException<HttpResponseMessage>(
            new HttpRequestException(HttpRequestError.HttpProtocolError, "reset", new HttpProtocolException(0xb, "calm", null)))));
    }

    [Fact]
    public void NeverReachedStore_OnlyWhenNoRequestCouldHaveLeft()
    {
        Assert.True(StoreResilienceHandler.NeverReachedStore(new BrokenCircuitException()));
        Assert.True(StoreResilienceHandler.NeverReachedStore(new HttpRequestException(HttpRequestError.ConnectionError)));
        Assert.True(StoreResilienceHandler.NeverReachedStore(new HttpRequestException(HttpRequestError.NameResolutionError)));
        Assert.True(StoreResilienceHandler.NeverReachedStore(new HttpRequestException(HttpRequestError.SecureConnectionError,
            inner: new System.Security.Authentication.AuthenticationException("untrusted"))));
        // Sent, or maybe sent: the Store may have counted it.
        Assert.False(StoreResilienceHandler.NeverReachedStore(new HttpRequestException(HttpRequestError.ResponseEnded)));
        Assert.False(StoreResilienceHandler.NeverReachedStore(new HttpRequestException(HttpRequestError.SecureConnectionError)));
        Assert.False(StoreResilienceHandler.NeverReachedStore(new HttpRequestException(HttpRequestError.InvalidResponse)));
        Assert.False(StoreResilienceHandler.NeverReachedStore(new TimeoutRejectedException()));
        Assert.False(StoreResilienceHandler.NeverReachedStore(new StoreBodyException("broke off")));
        // HTTP/2's REFUSED_STREAM says the request was not processed; another reset code does not.
        Assert.True(StoreResilienceHandler.NeverReachedStore(new HttpRequestException(HttpRequestError.HttpProtocolError,
            inner: new HttpProtocolException(0x7, "refused", null))));
        Assert.False(StoreResilienceHandler.NeverReachedStore(new HttpRequestException(HttpRequestError.HttpProtocolError,
            inner: new HttpProtocolException(0xb, "calm down", null))));
        Assert.True(StoreResilienceHandler.NeverReachedStore(new StoreRetiredConnectionException(new HttpProtocolException(0x7, "refused", null))));
        Assert.False(StoreResilienceHandler.NeverReachedStore(new StoreRetiredConnectionException(new HttpProtocolException(0xb, "calm down", null))));
    }

    [Fact]
    public void IsTransient_ByException()
    {
        Assert.True(StoreResiliencePipelines.IsTransient(Outcome.FromException<HttpResponseMessage>(new HttpRequestException())));
        Assert.True(StoreResiliencePipelines.IsTransient(Outcome.FromException<HttpResponseMessage>(
            new HttpRequestException(HttpRequestError.SecureConnectionError, "reset in the handshake", new IOException()))));
        Assert.False(StoreResiliencePipelines.IsTransient(Outcome.FromException<HttpResponseMessage>(
            new HttpRequestException(HttpRequestError.SecureConnectionError, "untrusted", new System.Security.Authentication.AuthenticationException()))));
        Assert.True(StoreResiliencePipelines.IsTransient(Outcome.FromException<HttpResponseMessage>(new TimeoutRejectedException())));
        Assert.False(StoreResiliencePipelines.IsTransient(Outcome.FromException<HttpResponseMessage>(new BrokenCircuitException())));
        Assert.False(StoreResiliencePipelines.IsTransient(Outcome.FromException<HttpResponseMessage>(new BudgetUnavailableException("down"))));
        Assert.False(StoreResiliencePipelines.IsTransient(Outcome.FromException<HttpResponseMessage>(
            new StoreBudgetRefusedException(BudgetDecision.Denied(0, TimeSpan.FromSeconds(3))))));
        Assert.False(StoreResiliencePipelines.IsTransient(Outcome.FromException<HttpResponseMessage>(new OperationCanceledException())));
    }

    [Theory]
    [InlineData("no-cache", null, true)]
    [InlineData("max-age=0", null, true)]
    [InlineData("private, NO-CACHE", null, true)]
    [InlineData(null, "no-cache", true)]
    [InlineData("max-age=60", null, false)]
    [InlineData(null, null, false)]
    public void AsksForFreshAnswer_ReadsCacheControlAndPragma(string? cacheControl, string? pragma, bool expected)
    {
        var context = new DefaultHttpContext();
        if (cacheControl is not null) context.Request.Headers.CacheControl = cacheControl;
        if (pragma is not null) context.Request.Headers.Pragma = pragma;
        Assert.Equal(expected, EntitlementsApi.AsksForFreshAnswer(context.Request));
    }
}
