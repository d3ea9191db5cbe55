using System.Net;
using EntitlementGateway.Infrastructure.Telemetry;
using EntitlementGateway.Store.Resilience;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace EntitlementGateway.UnitTests.Infrastructure.Telemetry;

public sealed class TelemetryTests
{
    [Theory]
    [InlineData(200, "2xx")]
    [InlineData(204, "2xx")]
    [InlineData(301, "3xx")]
    [InlineData(400, "4xx")]
    [InlineData(401, "4xx")]
    [InlineData(429, "429")]
    [InlineData(500, "5xx")]
    [InlineData(503, "5xx")]
    public void StoreOutcome_OfAStatus_IsItsClass_With429Apart(int status, string outcome) =>
        Assert.Equal(outcome, StoreOutcomes.Of((HttpStatusCode)status));

    public static TheoryData<Exception, string?> Failures => new()
    {
        { new BrokenCircuitException(), StoreOutcomes.CircuitOpen },
        { new TimeoutRejectedException(), StoreOutcomes.Timeout },
        { new StoreBodyException("broke off"), StoreOutcomes.Reset },
        { new StoreUnreadableAnswerException("lengths disagree"), "invalid_answer" },
        { new HttpRequestException(HttpRequestError.ResponseEnded), StoreOutcomes.Reset },
        { new HttpRequestException(HttpRequestError.ConnectionError), StoreOutcomes.ConnectionError },
        { new OperationCanceledException(), StoreOutcomes.Cancelled },
        { new InvalidOperationException(), null },
    };

    [Theory]
    [MemberData(nameof(Failures))]
    public void StoreOutcome_OfAnException_SaysHowTheCallEnded(Exception exception, string? outcome) =>
        Assert.Equal(outcome, StoreOutcomes.Of(exception));

    [Theory]
    [InlineData(null, "http/protobuf", true)]
    [InlineData("http://collector:4318", "http/protobuf", true)]
    [InlineData("https://collector:4317", "grpc", true)]
    [InlineData("collector:4318", "http/protobuf", false)]
    [InlineData("ftp://collector", "http/protobuf", false)]
    [InlineData("http://collector:4318", "http/json", false)]
    public void TelemetryOptions_AreCheckedOnlyWhenAnEndpointIsSet(string? endpoint, string protocol, bool valid)
    {
        var result = new TelemetryOptionsValidator().Validate(null, new TelemetryOptions { Endpoint = endpoint, Protocol = protocol });
        Assert.Equal(valid, result.Succeeded);
        if (!valid) Assert.Contains("OTEL_EXPORTER_OTLP_", result.FailureMessage, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null, true)]
    [InlineData("", true)]
    [InlineData("api-key=s3cret", true)]
    [InlineData("api-key=s3cret,x-tenant=games", true)]
    [InlineData("api-key=", true)]
    [InlineData("garbage", false)]
    [InlineData("=s3cret", false)]
    [InlineData(" =s3cret", false)]
    [InlineData("api-key=s3cret,", false)]
    [InlineData("api-key=s3cret,broken", false)]
    public void OtlpHeaders_AreKeyValuePairs_AndARefusalNamesTheKeyWithoutTheValue(string? headers, bool valid)
    {
        var result = new TelemetryOptionsValidator().Validate(null, new TelemetryOptions { Endpoint = "http://collector:4318", Headers = headers });
        Assert.Equal(valid, result.Succeeded);
        if (valid) return;
        Assert.Contains("OTEL_EXPORTER_OTLP_HEADERS", result.FailureMessage, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret", result.FailureMessage, StringComparison.Ordinal);
    }
}
