using EntitlementGateway.Clawback;

namespace EntitlementGateway.UnitTests.Clawback;

/// <summary>When the clawback queue's SAS is asked for again: the documents name only the sastoken answer's <c>uri</c>.</summary>
public sealed class SasExpiryTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 3, 12, 0, 0, TimeSpan.Zero);
    private static readonly Uri Signed = new("https://q.example/queue/clawback?sv=2019-12-12&se=2026-12-03T18%3A00%3A00Z&sp=rp&sig=abc");

    [Fact]
    public void TheAnswersExpiresOn_Wins() =>
        Assert.Equal(Now.AddHours(1), ClawbackSasClient.ExpiryOf(Now.AddHours(1), Signed, Now));

    [Fact]
    public void WithoutExpiresOn_TheSignedExpiryInTheSas() =>
        Assert.Equal(new DateTimeOffset(2026, 12, 3, 18, 0, 0, TimeSpan.Zero), ClawbackSasClient.ExpiryOf(null, Signed, Now));

    [Theory]
    [InlineData("https://q.example/queue/clawback?sv=2019-12-12&sp=rp&sig=abc")]
    [InlineData("https://q.example/queue/clawback?se=soon&sig=abc")]
    public void WithNeither_AQuarterOfAnHourFromNow(string uri)
    {
        Assert.Equal(TimeSpan.FromMinutes(15), ClawbackSasClient.AssumedLifetime);
        Assert.Equal(Now + ClawbackSasClient.AssumedLifetime, ClawbackSasClient.ExpiryOf(null, new Uri(uri), Now));
    }

    [Fact]
    public void ASignedExpiryWithoutAZone_IsUtc() =>
        Assert.Equal(new DateTimeOffset(2026, 12, 3, 18, 0, 0, TimeSpan.Zero),
            ClawbackSasClient.ExpiryOf(null, new Uri("https://q.example/queue/clawback?se=2026-12-03T18%3A00%3A00&sig=abc"), Now));
}
