using EntitlementGateway.Clawback;

namespace EntitlementGateway.UnitTests.Clawback;

/// <summary>The forms a clawback's order id and a malformed message's text are kept in.</summary>
public sealed class ClawbackRecordFormsTests
{
    [Theory]
    [InlineData("70fd35f2-7e4a-4f27-8df3-a673a5a4d9d9")]
    [InlineData("70FD35F2-7E4A-4F27-8DF3-A673A5A4D9D9")]
    [InlineData("70fd35f27e4a4f278df3a673a5a4d9d9")]
    [InlineData("{70fd35f2-7e4a-4f27-8df3-a673a5a4d9d9}")]
    public void AGuidOrderId_InAnyOfItsForms_IsOneKey(string orderId) =>
        Assert.Equal("70fd35f2-7e4a-4f27-8df3-a673a5a4d9d9", OrderBook.Key(orderId));

    [Theory]
    [InlineData("o-odd")]
    [InlineData("ORDER-1")]
    [InlineData("12345")]
    public void AnyOtherOrderId_IsKeptAsWritten(string orderId) => Assert.Equal(orderId, OrderBook.Key(orderId));

    [Fact]
    public void AMalformedMessagesText_IsKeptWhole_UpToTheQueuesOwnLimit()
    {
        var whole = new string('a', ClawbackEventRecord.MaxMessageText);

        Assert.Equal(65_536, ClawbackEventRecord.MaxMessageText);
        Assert.Same(whole, ClawbackEventRecord.Bounded(whole));
        Assert.Equal(whole, ClawbackEventRecord.Bounded(whole + "b"));
        Assert.Equal("short", ClawbackEventRecord.Bounded("short"));
    }
}
