using System.Net;
using System.Net.Http.Headers;
using EntitlementGateway.Store;

namespace EntitlementGateway.UnitTests.Store;

public class StoreRetryAfterTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 29, 12, 0, 0, TimeSpan.Zero);

    private static HttpResponseMessage Answer(string? retryAfter, DateTimeOffset? date = null)
    {
        var response = new HttpResponseMessage(HttpStatusCode.TooManyRequests);
        if (retryAfter is not null) response.Headers.TryAddWithoutValidation("Retry-After", retryAfter);
        if (date is { } d) response.Headers.Date = d;
        return response;
    }

    [Fact]
    public void Parse_DeltaSeconds_IsThatWait()
    {
        using var response = Answer("17");
        Assert.Equal(TimeSpan.FromSeconds(17), StoreRetryAfter.Parse(response, Now));
    }

    [Fact]
    public void Parse_HttpDate_IsMeasuredAgainstTheAnswersOwnDate_NotThisHostsClock()
    {
        // The Store's clock is 10 minutes behind ours: its Date and its Retry-After date are 30 s apart.
        var storeNow = Now.AddMinutes(-10);
        using var response = Answer(storeNow.AddSeconds(30).ToString("r"), storeNow);
        Assert.Equal(TimeSpan.FromSeconds(30), StoreRetryAfter.Parse(response, Now));
    }

    [Fact]
    public void Parse_HttpDateWithoutADateHeader_IsMeasuredAgainstNow()
    {
        using var response = Answer(Now.AddSeconds(45).ToString("r"));
        Assert.Equal(TimeSpan.FromSeconds(45), StoreRetryAfter.Parse(response, Now));
    }

    [Fact]
    public void Parse_AnHttpDateInThePast_IsZero()
    {
        using var response = Answer(Now.AddSeconds(-45).ToString("r"));
        Assert.Equal(TimeSpan.Zero, StoreRetryAfter.Parse(response, Now));
    }

    [Theory]
    [InlineData("86400")]
    [InlineData("2147483648")]
    [InlineData("99999999999999999999999")]
    [InlineData("Fri, 31 Dec 9999 23:59:59 GMT")]
    public void Parse_AWaitBeyondAnHour_IsCappedAtAnHour(string value)
    {
        using var response = Answer(value);
        Assert.Equal(StoreRetryAfter.Max, StoreRetryAfter.Parse(response, Now));
        Assert.Equal(TimeSpan.FromHours(1), StoreRetryAfter.Max);
    }

    [Fact]
    public void Parse_ExactlyAnHour_IsKept()
    {
        using var response = Answer("3600");
        Assert.Equal(TimeSpan.FromHours(1), StoreRetryAfter.Parse(response, Now));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("soon")]
    [InlineData("-5")]
    [InlineData("12a")]
    [InlineData("")]
    public void Parse_NoneOrUnreadable_IsNull(string? value)
    {
        using var response = Answer(value);
        Assert.Null(StoreRetryAfter.Parse(response, Now));
    }

    [Fact]
    public void Parse_TwoRetryAfterHeaders_IsNull_EvenWhenEachIsHuge()
    {
        using var response = Answer("2147483648");
        response.Headers.TryAddWithoutValidation("Retry-After", "2147483648");
        Assert.Null(StoreRetryAfter.Parse(response, Now));
    }

    [Fact]
    public void Parse_WithoutAnAnswer_Throws() => Assert.Throws<ArgumentNullException>(() => StoreRetryAfter.Parse(null!, Now));

    [Fact]
    public void Parse_Zero_IsZero()
    {
        using var response = Answer("0");
        Assert.Equal(TimeSpan.Zero, StoreRetryAfter.Parse(response, Now));
    }
}
