using System.Text.Json.Nodes;
using EntitlementGateway.Infrastructure;

namespace EntitlementGateway.UnitTests.Infrastructure;

public sealed class EffectiveConfigurationTests
{
    [Theory]
    [InlineData("clientSecret")]
    [InlineData("CertificatePassword")]
    [InlineData("apiKey")]
    [InlineData("headers")]
    [InlineData("refreshToken")]
    [InlineData("signingPrivateKey")]
    public void Redact_ReplacesTextSecrets(string name)
    {
        var redacted = EffectiveConfiguration.Redact(new JsonObject { [name] = "s3cret", ["tenantId"] = "contoso" })!;
        Assert.Equal(EffectiveConfiguration.Redacted, redacted[name]!.GetValue<string>());
        Assert.Equal("contoso", redacted["tenantId"]!.GetValue<string>());
    }

    [Fact]
    public void Redact_KeepsUnsetSecrets_FlagsAndNumbers_AndGoesIntoNestedObjectsAndArrays()
    {
        var source = new JsonObject
        {
            ["clientSecret"] = null,
            ["apiKey"] = "",
            ["trustForwardedHeaders"] = true,
            ["tokenCount"] = 3,
            ["faults"] = new JsonObject { ["password"] = "inner" },
            ["list"] = new JsonArray(new JsonObject { ["secret"] = "in-array" }, "plain"),
        };
        var redacted = EffectiveConfiguration.Redact(source)!;
        Assert.Null(redacted["clientSecret"]);
        Assert.Equal("", redacted["apiKey"]!.GetValue<string>());
        Assert.True(redacted["trustForwardedHeaders"]!.GetValue<bool>());
        Assert.Equal(3, redacted["tokenCount"]!.GetValue<int>());
        Assert.Equal(EffectiveConfiguration.Redacted, redacted["faults"]!["password"]!.GetValue<string>());
        Assert.Equal(EffectiveConfiguration.Redacted, redacted["list"]![0]!["secret"]!.GetValue<string>());
        Assert.Equal("plain", redacted["list"]![1]!.GetValue<string>());
        Assert.Equal("inner", source["faults"]!["password"]!.GetValue<string>()); // the source is not changed
    }

    [Theory]
    [InlineData("redis:6379,abortConnect=false", "redis:6379,abortConnect=false")]
    [InlineData("redis:6379,password=p@ss,ssl=true", "redis:6379,password=***redacted***,ssl=true")]
    [InlineData("a:1,b:2,user=admin,Password=x", "a:1,b:2,user=***redacted***,Password=***redacted***")]
    public void RedactConnectionString_KeepsHostsAndOptions_DropsCredentials(string given, string expected) =>
        Assert.Equal(expected, EffectiveConfiguration.RedactConnectionString(given));

    [Fact]
    public void Redact_AConnectionStringProperty_RedactsOnlyItsCredentials() =>
        Assert.Equal("h:1,password=***redacted***",
            EffectiveConfiguration.Redact(new JsonObject { ["connectionString"] = "h:1,password=x" })!["connectionString"]!.GetValue<string>());
}
