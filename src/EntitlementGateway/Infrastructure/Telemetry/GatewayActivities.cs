using System.Diagnostics;
using System.Net;
using System.Net.Http;

namespace EntitlementGateway.Infrastructure.Telemetry;

/// <summary>
/// The gateway's spans: one per Store call attempt, a child of ASP.NET Core's request span. While a Store span is
/// current, HttpClient sends its W3C <c>traceparent</c>, so the Store's side of the call joins the same trace.
/// Without a listener <see cref="ActivitySource.StartActivity(string, ActivityKind)"/> returns null and nothing is recorded.
/// </summary>
public static class GatewayActivities
{
    public const string SourceName = "EntitlementGateway";
    public static readonly ActivitySource Source = new(SourceName, typeof(GatewayActivities).Assembly.GetName().Version?.ToString(3));

    /// <summary>A Store call attempt's span, named after its operation: <c>store b2bLicensePreview</c>.</summary>
    public static Activity? StartStoreCall(string operation, int page, int attempt)
    {
        var activity = Source.StartActivity("store " + operation, ActivityKind.Client);
        if (activity is null) return null;
        activity.SetTag("store.operation", operation);
        if (page > 0) activity.SetTag("store.page", page);
        activity.SetTag("store.attempt", attempt);
        return activity;
    }

    /// <summary>
    /// W3C trace context for a Store call, naming the call's own span, so the Store's side of a trace hangs under a span
    /// that is exported. Without one (nothing samples the gateway's spans) none is sent, as HttpClient's handler did: a
    /// header the Store would parse on every call, for a trace nobody records.
    /// </summary>
    public static void Propagate(HttpRequestMessage request, Activity? call)
    {
        request.Headers.Remove("traceparent");
        request.Headers.Remove("tracestate");
        if (call is not { IdFormat: ActivityIdFormat.W3C, Id: { } id } span) return;
        request.Headers.TryAddWithoutValidation("traceparent", id);
        if (span.TraceStateString is { Length: > 0 } state) request.Headers.TryAddWithoutValidation("tracestate", state);
    }

    /// <summary>What the Store answered, with its own correlation headers so its support can find the call.</summary>
    public static void StoreAnswered(Activity? activity, HttpResponseMessage response, string? sentCorrelationVector)
    {
        if (activity is null) return;
        activity.SetTag("http.response.status_code", (int)response.StatusCode);
        activity.SetTag("store.ms_cv.sent", sentCorrelationVector);
        activity.SetTag("store.ms_cv", Header(response, "MS-CV"));
        activity.SetTag("store.ms_correlation_id", Header(response, "MS-CorrelationId"));
        activity.SetTag("store.ms_request_id", Header(response, "MS-RequestId"));
        if ((int)response.StatusCode >= 400) activity.SetStatus(ActivityStatusCode.Error, StoreOutcomes.Of(response.StatusCode));
    }

    public static void StoreFailed(Activity? activity, string outcome)
    {
        if (activity is null) return;
        activity.SetTag("store.outcome", outcome);
        activity.SetStatus(ActivityStatusCode.Error, outcome);
    }

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? values.FirstOrDefault() : null;
}

/// <summary>The <c>store.outcome</c> tag of a Store call: a status class, or how it failed before an answer.</summary>
public static class StoreOutcomes
{
    public const string Timeout = "timeout";
    public const string Reset = "reset";
    public const string InvalidAnswer = "invalid_answer";
    public const string ConnectionError = "connection_error";
    public const string CircuitOpen = "circuit_open";
    public const string Cancelled = "cancelled";

    public static string Of(HttpStatusCode status) => (int)status switch
    {
        < 200 => "1xx",
        < 300 => "2xx",
        < 400 => "3xx",
        429 => "429",
        < 500 => "4xx",
        _ => "5xx",
    };

    /// <summary>An exception that ended an attempt without an answer; null when it is not a Store call failure.</summary>
    public static string? Of(Exception exception) => exception switch
    {
        Polly.CircuitBreaker.BrokenCircuitException => CircuitOpen,
        Polly.Timeout.TimeoutRejectedException or TimeoutException => Timeout,
        Store.Resilience.StoreBodyException => Reset,
        Store.Resilience.StoreUnreadableAnswerException => InvalidAnswer,
        HttpRequestException { HttpRequestError: HttpRequestError.ResponseEnded } => Reset,
        HttpRequestException => ConnectionError,
        OperationCanceledException => Cancelled,
        _ => null,
    };
}
