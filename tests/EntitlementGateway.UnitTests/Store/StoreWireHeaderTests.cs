using System.Reflection;
using EntitlementGateway.Store;

namespace EntitlementGateway.UnitTests.Store;

public class StoreWireHeaderTests
{
    [Fact]
    public void UserAgent_NamesTheServiceAndItsProductVersion_WithoutTheCommitSuffix()
    {
        var informational = typeof(StoreWire).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()!.InformationalVersion;

        Assert.Equal("EntitlementGateway", StoreWire.UserAgent.Product!.Name);
        Assert.Equal(StoreWire.ProductName, StoreWire.UserAgent.Product.Name);
        Assert.Equal(typeof(StoreWire).Assembly.GetName().Version!.ToString(3), StoreWire.UserAgent.Product.Version);
        Assert.StartsWith(StoreWire.UserAgent.Product.Version + "+", informational + "+");
        Assert.DoesNotContain('+', StoreWire.UserAgent.Product.Version!);
        Assert.Equal($"EntitlementGateway/{StoreWire.UserAgent.Product.Version}", StoreWire.UserAgent.ToString());
    }

    [Theory]
    [InlineData("1.2.3+952136ae01e9a6b479e3538e73cc7d23b66a5dfe", "1.2.3")]
    [InlineData("1.2.3-beta.1+abc", "1.2.3-beta.1")]
    [InlineData("1.2.3", "1.2.3")]
    [InlineData(null, "0.0.0")]
    public void ProductVersion_LeavesOffTheCommit(string? informational, string expected) =>
        Assert.Equal(expected, StoreWire.ProductVersion(informational));

    [Fact]
    public void Header_IsTheFirstValueAsReceived_OrNullWhenAbsent()
    {
        using var response = new HttpResponseMessage(System.Net.HttpStatusCode.OK);
        response.Headers.TryAddWithoutValidation(StoreWire.RequestIdHeader, "first id");
        response.Headers.TryAddWithoutValidation(StoreWire.RequestIdHeader, "second");
        response.Headers.TryAddWithoutValidation(StoreWire.CorrelationVectorHeader, "BW/uJSvAbU6p3rbS.0");

        Assert.Equal("first id", StoreWire.Header(response, StoreWire.RequestIdHeader));
        Assert.Equal("BW/uJSvAbU6p3rbS.0", StoreWire.Header(response, StoreWire.CorrelationVectorHeader));
        Assert.Null(StoreWire.Header(response, StoreWire.CorrelationIdHeader));
    }

    [Fact]
    public void Checks_OfAMissingAnswerOrError_RefuseNull()
    {
        Assert.Throws<ArgumentNullException>(() => StoreWire.ContentLengthFaultOf(null!));
        Assert.Throws<ArgumentNullException>(() => StoreWire.ErrorOf(null!));
    }
}
