using System.Collections.Concurrent;
using System.Net;
using EntitlementGateway.Store;
using EntitlementGateway.Store.Resilience;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EntitlementGateway.UnitTests.Store.Resilience;

/// <summary>The line before each retry: which attempt comes next, and the failed attempt's ids for the Store's support.</summary>
public class RetryLogTests
{
    [Fact]
    public async Task EachRetry_NamesTheNextAttempt_AndTheFailedAttemptsSentAndReceivedIds()
    {
        var log = new FieldLog();
        var pipelines = Pipelines(maxRetries: 2, log);
        var attempt = 0;

        using var last = await pipelines.Outer.ExecuteAsync(_ =>
        {
            attempt++;
            var sent = new HttpRequestMessage(HttpMethod.Post, "https://store.example/v8.0/collections/b2bLicensePreview");
            sent.Headers.TryAddWithoutValidation(StoreWire.CorrelationVectorHeader, $"cv.{attempt}");
            var answer = new HttpResponseMessage(HttpStatusCode.ServiceUnavailable) { RequestMessage = sent };
            answer.Headers.TryAddWithoutValidation(StoreWire.CorrelationIdHeader, $"correlation-{attempt}");
            answer.Headers.TryAddWithoutValidation(StoreWire.RequestIdHeader, $"request-{attempt}");
            answer.Headers.TryAddWithoutValidation(StoreWire.CorrelationVectorHeader, $"store-cv.{attempt}");
            return ValueTask.FromResult(answer);
        });

        Assert.Equal(3, attempt);
        var lines = log.Lines.ToList();
        Assert.Equal([2, 3], lines.Select(l => (int)l["NextAttempt"]!));
        Assert.Equal(["cv.1", "cv.2"], lines.Select(l => (string?)l["SentMsCv"]));
        Assert.Equal(["correlation-1", "correlation-2"], lines.Select(l => (string?)l["MsCorrelationId"]));
        Assert.Equal(["request-1", "request-2"], lines.Select(l => (string?)l["MsRequestId"]));
        Assert.Equal(["store-cv.1", "store-cv.2"], lines.Select(l => (string?)l["MsCv"]));
        Assert.All(lines, l => Assert.Equal("503", l["Reason"]));
    }

    [Fact]
    public async Task ARetryAfterAFailureWithoutAnAnswer_NamesNoIds()
    {
        var log = new FieldLog();
        var pipelines = Pipelines(maxRetries: 1, log);
        var attempt = 0;

        using var last = await pipelines.Outer.ExecuteAsync(_ => ++attempt == 1
            ? ValueTask.FromException<HttpResponseMessage>(new HttpRequestException("refused"))
            : ValueTask.FromResult(new HttpResponseMessage(HttpStatusCode.OK)));

        var line = Assert.Single(log.Lines);
        Assert.Equal(2, line["NextAttempt"]);
        Assert.Equal("HttpRequestException", line["Reason"]);
        Assert.Null(line["SentMsCv"]);
        Assert.Null(line["MsCorrelationId"]);
        Assert.Null(line["MsRequestId"]);
        Assert.Null(line["MsCv"]);
    }

    [Fact]
    public void AnAnswerWithoutItsRequest_NamesTheStoresIdsOnly()
    {
        using var answer = new HttpResponseMessage(HttpStatusCode.OK);
        answer.Headers.TryAddWithoutValidation(StoreWire.RequestIdHeader, "request-9");
        using var sent = new HttpRequestMessage();

        Assert.Equal("request-9", StoreWire.Header(answer, StoreWire.RequestIdHeader));
        Assert.Null(StoreWire.Header(sent, StoreWire.CorrelationVectorHeader));
    }

    /// <summary>Retries after 1 ms, and a circuit that never opens.</summary>
    private static StoreResiliencePipelines Pipelines(int maxRetries, FieldLog log) => new(Options.Create(new ResilienceOptions
    {
        MaxRetries = maxRetries, BaseDelayMs = 1, TotalTimeoutSeconds = 60, AttemptTimeoutSeconds = 30, CircuitMinimumThroughput = 1_000_000,
    }), TimeProvider.System, log);

    private sealed class FieldLog : ILogger<StoreResiliencePipelines>
    {
        public ConcurrentQueue<Dictionary<string, object?>> Lines { get; } = new();

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (state is IReadOnlyList<KeyValuePair<string, object?>> values && values.Any(v => v.Key == "NextAttempt"))
                Lines.Enqueue(values.ToDictionary(v => v.Key, v => v.Value));
        }
    }
}
