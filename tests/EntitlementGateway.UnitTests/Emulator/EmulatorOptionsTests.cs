using EntitlementGateway.Emulator;

namespace EntitlementGateway.UnitTests.Emulator;

public class EmulatorOptionsTests
{
    [Fact]
    public void Validate_TheDefaults_AreUsable() => Assert.Empty(new EmulatorOptions().Validate());

    public static TheoryData<string, Action<EmulatorOptions>> BadSettings => new()
    {
        { "Emulator:ClientId", o => o.ClientId = " " },
        { "Emulator:ClientSecret", o => o.ClientSecret = "" },
        { "Emulator:RateLimit", o => o.RateLimit = 0 },
        { "Emulator:RateLimitWindowSeconds", o => o.RateLimitWindowSeconds = 86_401 },
        { "Emulator:UcidLifetimeDays", o => o.UcidLifetimeDays = 0 },
        { "Emulator:PageSizeLimit", o => o.PageSizeLimit = 101 },
        { "Emulator:LatencyMs", o => o.LatencyMs = -1 },
        { "Emulator:HttpsPort", o => o.HttpsPort = 65_536 },
        { "Emulator:HttpPort", o => o.HttpPort = -1 },
        { "Emulator:Faults", o => o.Faults = new FaultSettings { FailureRate = 2 } },
    };

    [Theory]
    [MemberData(nameof(BadSettings))]
    public void Validate_ABadValue_IsNamed_AndStopsTheStart(string key, Action<EmulatorOptions> spoil)
    {
        var options = new EmulatorOptions();
        spoil(options);

        Assert.Contains(options.Validate(), e => e.StartsWith(key, StringComparison.Ordinal));
        Assert.Contains(key, Assert.Throws<InvalidOperationException>(options.ThrowIfInvalid).Message);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(100)]
    public void Validate_PageSizeLimitsWithinTheStoresPage_AreUsable(int limit) =>
        Assert.Empty(new EmulatorOptions { PageSizeLimit = limit, RateLimit = 1, UcidLifetimeDays = 3650, HttpPort = 65_535 }.Validate());
}
