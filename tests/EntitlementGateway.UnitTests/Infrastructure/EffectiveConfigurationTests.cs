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

    [Theory]
    [InlineData("h:1, password =x", "h:1,password=***redacted***")]
    [InlineData("h:1,clientSecret=abc,ssl=true", "h:1,clientSecret=***redacted***,ssl=true")]
    [InlineData("h:1,USER=admin", "h:1,USER=***redacted***")]
    [InlineData("h:1,name=password", "h:1,name=password")]
    [InlineData("h:1,=password", "h:1,=password")]
    public void RedactConnectionString_JudgesTheOptionsName_TrimmedAndInAnyCase_NotItsValue(string given, string expected) =>
        Assert.Equal(expected, EffectiveConfiguration.RedactConnectionString(given));

    [Fact]
    public void Redact_ConnectionStrings_ByNameEnding_InAnyCase_AndOnlyWhenText()
    {
        var redacted = EffectiveConfiguration.Redact(new JsonObject
        {
            ["redisconnectionstring"] = "h:1,password=x",
            ["connectionStringFormat"] = "h:1,password=x",
            ["otherConnectionString"] = null,
            ["countConnectionString"] = 5,
        })!;
        Assert.Equal("h:1,password=***redacted***", redacted["redisconnectionstring"]!.GetValue<string>());
        Assert.Equal("h:1,password=x", redacted["connectionStringFormat"]!.GetValue<string>());
        Assert.Null(redacted["otherConnectionString"]);
        Assert.Equal(5, redacted["countConnectionString"]!.GetValue<int>());
    }

    [Fact]
    public void Redact_ASecretNamedObjectOrArray_IsRedactedInside_NotReplacedWhole()
    {
        var redacted = EffectiveConfiguration.Redact(new JsonObject
        {
            ["secrets"] = new JsonObject { ["name"] = "shown", ["password"] = "hidden" },
            ["tokens"] = new JsonArray("a"),
        })!;
        Assert.Equal("shown", redacted["secrets"]!["name"]!.GetValue<string>());
        Assert.Equal(EffectiveConfiguration.Redacted, redacted["secrets"]!["password"]!.GetValue<string>());
        Assert.Equal("a", redacted["tokens"]![0]!.GetValue<string>());
    }

    [Fact]
    public void Redact_Null_IsNull_AndAValueIsACopy()
    {
        Assert.Null(EffectiveConfiguration.Redact(null));
        var value = JsonValue.Create("plain");
        var copy = EffectiveConfiguration.Redact(value)!;
        Assert.Equal("plain", copy.GetValue<string>());
        Assert.NotSame(value, copy);
        Assert.Null(copy.Parent);
    }

    [Theory]
    [InlineData("tenantId", false)]
    [InlineData("serviceTOKEN", true)]
    [InlineData("PASSWORD", true)]
    [InlineData("managedIdentityHeader", true)]
    [InlineData("", false)]
    public void IsSecret_MatchesTheSecretWords_InAnyCase(string name, bool expected) =>
        Assert.Equal(expected, EffectiveConfiguration.IsSecret(name));

    [Theory]
    [InlineData("https://hooks.example.com/h?code=abc", "https://hooks.example.com/h?***redacted***")]
    [InlineData("https://user:pass@login.example.com/t", "https://***redacted***@login.example.com/t")]
    [InlineData("https://user@login.example.com/t?x=1", "https://***redacted***@login.example.com/t?***redacted***")]
    [InlineData("https://login.example.com/tenant", "https://login.example.com/tenant")]
    [InlineData("not a url ?x=1", "not a url ?x=1")]
    [InlineData("/var/run/gateway.sock?x=1", "/var/run/gateway.sock?x=1")]
    [InlineData("mailto:ops@example.com?subject=x", "mailto:ops@example.com?subject=x")]
    [InlineData("-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----", "***redacted***")]
    [InlineData("-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----", "-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----")]
    public void RedactText_HidesUrlCredentialsAndQueries_AndPrivateKeys(string value, string shown)
    {
        Assert.Equal(shown, EffectiveConfiguration.RedactText(value));
        var redacted = EffectiveConfiguration.Redact(new JsonObject { ["webhookUrl"] = value, ["list"] = new JsonArray(value) })!;
        Assert.Equal(shown, redacted["webhookUrl"]!.GetValue<string>());
        Assert.Equal(shown, redacted["list"]![0]!.GetValue<string>());
    }
}
