using EntitlementGateway.Entitlements.Caching;

namespace EntitlementGateway.UnitTests.Entitlements.Caching;

public class SingleFlightTests
{
    [Fact]
    public async Task RunAsync_ConcurrentCallersWithOneKey_ShareOneRun()
    {
        var flights = new SingleFlight<int>();
        var release = new TaskCompletionSource();
        var runs = 0;

        var callers = Enumerable.Range(0, 50).Select(_ => flights.RunAsync("k", async () =>
        {
            Interlocked.Increment(ref runs);
            await release.Task;
            return 42;
        }, CancellationToken.None)).ToArray();
        release.SetResult();

        Assert.All(await Task.WhenAll(callers), v => Assert.Equal(42, v));
        Assert.Equal(1, runs);
        Assert.Equal(0, flights.Count);
    }

    [Fact]
    public async Task RunAsync_AfterAFlightEnds_StartsANewOne()
    {
        var flights = new SingleFlight<int>();
        var runs = 0;
        await flights.RunAsync("k", () => Task.FromResult(Interlocked.Increment(ref runs)), CancellationToken.None);
        await flights.RunAsync("k", () => Task.FromResult(Interlocked.Increment(ref runs)), CancellationToken.None);
        Assert.Equal(2, runs);
    }

    [Fact]
    public async Task RunAsync_ACallerThatGivesUp_DoesNotCancelTheFlightForOthers()
    {
        var flights = new SingleFlight<string>();
        var release = new TaskCompletionSource();
        using var impatient = new CancellationTokenSource();
        Func<Task<string>> work = async () => { await release.Task; return "answer"; };

        var first = flights.RunAsync("k", work, impatient.Token);
        var second = flights.RunAsync("k", work, CancellationToken.None);
        await impatient.CancelAsync();
        release.SetResult();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first);
        Assert.Equal("answer", await second);
    }

    [Fact]
    public async Task RunAsync_AFailedFlight_FailsItsCallersAndIsForgotten()
    {
        var flights = new SingleFlight<int>();
        await Assert.ThrowsAsync<InvalidOperationException>(() =>
            flights.RunAsync("k", () => throw new InvalidOperationException("boom"), CancellationToken.None));
        Assert.Equal(7, await flights.RunAsync("k", () => Task.FromResult(7), CancellationToken.None));
    }
}
