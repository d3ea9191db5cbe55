using EntitlementGateway.Store;

namespace EntitlementGateway.UnitTests.Store;

/// <summary>The HTTP/2 error code a failed attempt carries, wherever the client wrapped it.</summary>
public class StoreHttp2ErrorTests
{
    [Fact]
    public void TheCode_IsFoundAtAnyDepth()
    {
        var reset = new HttpProtocolException(0xb, "calm down", null);

        Assert.Equal(0xb, StoreWire.Http2ErrorOf(reset));
        Assert.Equal(0xb, StoreWire.Http2ErrorOf(new HttpRequestException(HttpRequestError.HttpProtocolError, "failed", reset)));
        Assert.Equal(0xb, StoreWire.Http2ErrorOf(new InvalidOperationException("outer", new HttpRequestException("middle", new IOException("inner", reset)))));
    }

    [Fact]
    public void AFailureWithoutAnHttp2Error_HasNoCode()
    {
        Assert.Null(StoreWire.Http2ErrorOf(new HttpRequestException(HttpRequestError.ResponseEnded)));
        Assert.Null(StoreWire.Http2ErrorOf(new HttpRequestException("failed", new IOException("reset"))));
    }

    [Theory]
    [InlineData(0x7, true)] // REFUSED_STREAM
    [InlineData(0x0, false)] // NO_ERROR
    [InlineData(0x8, false)] // CANCEL
    [InlineData(0xb, false)] // ENHANCE_YOUR_CALM
    public void OnlyRefusedStream_SaysTheRequestWasNotProcessed(long code, bool refused) =>
        Assert.Equal(refused, StoreWire.IsRefusedStream(new HttpRequestException("failed", new HttpProtocolException(code, "reset", null))));
}
