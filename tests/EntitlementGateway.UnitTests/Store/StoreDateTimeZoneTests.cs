using System.Text;
using EntitlementGateway.Store;

namespace EntitlementGateway.UnitTests.Store;

[CollectionDefinition(nameof(LocalTimeZone), DisableParallelization = true)]
public sealed class LocalTimeZone;

/// <summary>
/// Store dates read on a host that does not run in UTC: the process's local zone is switched for each test (so the
/// collection runs alone), since a date without an offset read in the host's zone would move by that zone's offset.
/// </summary>
[Collection(nameof(LocalTimeZone))]
public sealed class StoreDateTimeZoneTests : IDisposable
{
    private readonly string? _zone = Environment.GetEnvironmentVariable("TZ");

    public StoreDateTimeZoneTests()
    {
        // +13:45 (+12:45 in winter) and -10:00: no rounding of hours hides either.
        Environment.SetEnvironmentVariable("TZ", "Pacific/Chatham");
        TimeZoneInfo.ClearCachedData();
    }

    public void Dispose()
    {
        Environment.SetEnvironmentVariable("TZ", _zone);
        TimeZoneInfo.ClearCachedData();
    }

    private static StoreCollectionItem Read(string startDate) =>
        StoreJson.ReadPage(Encoding.UTF8.GetBytes($$"""{"items":[{"productId":"9N30KZZF4BR9","startDate":"{{startDate}}"}]}"""))!.Items!.Single();

    [Theory]
    [InlineData("2021-08-30T21:53:08.1234567", 1234567)]
    [InlineData("2021-08-30T21:53:08", 0)]
    public void ADateWithoutAnOffset_IsUtc_NotTheHostsZone(string text, long fractionTicks)
    {
        Assert.NotEqual(TimeSpan.Zero, TimeZoneInfo.Local.GetUtcOffset(new DateTime(2021, 8, 30))); // the switch took

        var item = Read(text);

        Assert.Equal(new DateTimeOffset(2021, 8, 30, 21, 53, 8, TimeSpan.Zero).AddTicks(fractionTicks), item.StartDate);
        Assert.Equal(TimeSpan.Zero, item.StartDate!.Value.Offset);
    }

    [Theory]
    [InlineData("2021-08-30T21:53:08+02:00", 19)]
    [InlineData("2021-08-30T21:53:08Z", 21)]
    [InlineData("2021-08-30T21:53:08-10:00", 31)]
    public void ADateWithAnOffset_KeepsIt(string text, int utcHour)
    {
        var item = Read(text);

        Assert.Equal(new DateTimeOffset(2021, 8, 30, 21, 53, 8, TimeSpan.Zero).AddHours(utcHour - 21), item.StartDate);
    }
}
