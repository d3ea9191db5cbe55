using EntitlementGateway.Store;

namespace EntitlementGateway.UnitTests.Store;

public class StoreContentLengthTests
{
    // Header lines separated by '|'.
    private static HttpResponseMessage Answer(string lines)
    {
        var contentLengths = lines.Length == 0 ? [] : lines.Split('|');
        var response = new HttpResponseMessage(System.Net.HttpStatusCode.OK) { Content = new StreamContent(Stream.Null) };
        foreach (var value in contentLengths) response.Content.Headers.TryAddWithoutValidation("Content-Length", value);
        return response;
    }

    [Theory]
    [InlineData("")]
    [InlineData("42")]
    [InlineData("42|42")]
    [InlineData("42, 42")]
    [InlineData("42,42| 42")]
    public void One_length_however_often_it_is_repeated_is_no_conflict(string values)
    {
        using var response = Answer(values);
        Assert.Null(StoreWire.ContentLengthFaultOf(response));
    }

    [Theory]
    [InlineData("42|32")]
    [InlineData("42|42|43")]
    [InlineData("42, 32")]
    [InlineData("42|42, 0")]
    [InlineData("42|042")]
    [InlineData("42|-1")]
    [InlineData("-1, 42")]
    [InlineData("42,")]
    public void Lengths_that_disagree_are_a_conflict(string values)
    {
        using var response = Answer(values);
        Assert.Equal(ContentLengthFault.Conflicting, StoreWire.ContentLengthFaultOf(response));
    }

    [Theory]
    [InlineData("")]
    [InlineData("0")]
    [InlineData("42")]
    [InlineData("042")]
    [InlineData("42, 42")]
    [InlineData("42| 42")]
    [InlineData("9223372036854775807")]
    public void A_length_of_digits_is_valid(string values)
    {
        using var response = Answer(values);
        Assert.Null(StoreWire.ContentLengthFaultOf(response));
    }

    [Theory]
    [InlineData("-1")]
    [InlineData("+42")]
    [InlineData("4 2")]
    [InlineData("42abc")]
    [InlineData("0x2A")]
    [InlineData("4.2")]
    [InlineData(",")]
    [InlineData("-1|-1")]
    [InlineData("9223372036854775808")]
    public void A_length_that_is_not_digits_or_past_the_range_is_invalid(string values)
    {
        using var response = Answer(values);
        Assert.Equal(ContentLengthFault.NotALength, StoreWire.ContentLengthFaultOf(response));
    }

    [Fact]
    public void ErrorOf_IsTheFirstKnownKind_OutsideIn()
    {
        Assert.Equal(HttpRequestError.InvalidResponse, StoreWire.ErrorOf(new HttpRequestException(HttpRequestError.InvalidResponse,
            inner: new HttpRequestException(HttpRequestError.ConnectionError))));
        Assert.Equal(HttpRequestError.ConfigurationLimitExceeded, StoreWire.ErrorOf(new HttpRequestException("sending failed",
            new IOException("aborted", new HttpRequestException(HttpRequestError.ConfigurationLimitExceeded)))));
        Assert.Equal(HttpRequestError.Unknown, StoreWire.ErrorOf(new HttpRequestException("sending failed", new IOException("aborted"))));
    }
}
