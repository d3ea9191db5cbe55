using EntitlementGateway.Security;

namespace EntitlementGateway.UnitTests.Security;

/// <summary>Whether /ops is served: Ops:Enabled when set, otherwise whether an ops credential is configured.</summary>
public class OpsOptionsTests
{
    private const string Key = "ops-key-0123456789-0123456789-0123456789";

    [Theory]
    [InlineData(null, null, null, false)]
    [InlineData(Key, null, null, true)]
    [InlineData(null, "https://login.example.test/tenant/v2.0", null, true)]
    [InlineData(Key, null, false, false)]
    [InlineData(Key, null, true, true)]
    [InlineData(null, null, false, false)]
    public void IsEnabled_FollowsTheSetting_OrElseTheCredential(string? apiKey, string? authority, bool? enabled, bool served) =>
        Assert.Equal(served, new OpsOptions { ApiKey = apiKey, Authority = authority, Enabled = enabled }.IsEnabled);

    [Fact]
    public void EnabledWithoutACredential_IsRefused_UnsetOrOffIsNot()
    {
        var validator = new OpsOptionsValidator();

        var refused = validator.Validate(null, new OpsOptions { Enabled = true });
        Assert.True(refused.Failed);
        Assert.Contains("Ops:Enabled is true but none of", refused.FailureMessage, StringComparison.Ordinal);
        Assert.True(validator.Validate(null, new OpsOptions()).Succeeded);
        Assert.True(validator.Validate(null, new OpsOptions { Enabled = false }).Succeeded);
    }
}
