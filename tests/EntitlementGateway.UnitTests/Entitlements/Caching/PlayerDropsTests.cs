using EntitlementGateway.Entitlements.Caching;

namespace EntitlementGateway.UnitTests.Entitlements.Caching;

public sealed class PlayerDropsTests : IDisposable
{
    private static readonly DateTimeOffset At = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(5);
    private readonly PlayerDrops _drops = new(1_000);

    public void Dispose() => _drops.Dispose();

    [Fact]
    public void WithoutADrop_NoAnswerIsDropped()
    {
        Assert.False(_drops.Dropped("user-1", At));
    }

    [Fact]
    public void ADrop_DropsWhatWasFetchedAtOrBeforeIt_OnlyForThatPlayer()
    {
        _drops.Mark("user-1", At, Lifetime);

        Assert.True(_drops.Dropped("user-1", At.AddSeconds(-1)));
        Assert.True(_drops.Dropped("user-1", At));
        Assert.False(_drops.Dropped("user-1", At.AddTicks(1)));
        Assert.False(_drops.Dropped("user-2", At.AddSeconds(-1)));
    }

    [Fact]
    public void ALaterDrop_Wins()
    {
        _drops.Mark("user-1", At, Lifetime);
        _drops.Mark("user-1", At.AddMinutes(1), Lifetime);

        Assert.True(_drops.Dropped("user-1", At.AddSeconds(30)));
    }

    [Fact]
    public void AnOlderDropArrivingLate_ChangesNothing()
    {
        // Another replica's message about an earlier drop must not shorten what the later drop covers.
        _drops.Mark("user-1", At.AddMinutes(1), Lifetime);
        _drops.Mark("user-1", At, Lifetime);

        Assert.True(_drops.Dropped("user-1", At.AddSeconds(30)));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public void ADropWithNoLifetime_IsNotKept(int seconds)
    {
        // No answer outlives Cache:MaxStale; with none, there is nothing to drop.
        _drops.Mark("user-1", At, TimeSpan.FromSeconds(seconds));

        Assert.False(_drops.Dropped("user-1", At.AddSeconds(-1)));
    }

    [Fact]
    public void TheMarks_AreBoundedByTheirLimit()
    {
        using var drops = new PlayerDrops(2);
        foreach (var player in new[] { "a", "b", "c", "d" }) drops.Mark(player, At, Lifetime);

        Assert.InRange(new[] { "a", "b", "c", "d" }.Count(p => drops.Dropped(p, At)), 1, 2);
    }

    [Fact]
    public void TheSameDropArrivingAgain_DoesNotKeepItsMarkLonger()
    {
        _drops.Mark("p", At, TimeSpan.FromMilliseconds(500));
        _drops.Mark("p", At, Lifetime);

        Thread.Sleep(800);
        Assert.False(_drops.Dropped("p", At));
    }
}
