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

    [Fact]
    public async Task RunAsync_FlightsThatEnded_NoLongerCountAgainstTheBound()
    {
        var flights = new SingleFlight<int>(maxFlights: 1);
        await flights.RunAsync("a", () => Task.FromResult(1), CancellationToken.None);
        var release = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var runs = 0;
        Func<Task<int>> work = () =>
        {
            Interlocked.Increment(ref runs);
            return release.Task;
        };

        var first = flights.RunAsync("b", work, CancellationToken.None);
        var second = flights.RunAsync("b", work, CancellationToken.None);
        release.SetResult(2);

        var answers = await Task.WhenAll(first, second);
        Assert.Equal([2, 2], answers);
        Assert.Equal(1, runs);
    }

    [Fact]
    public async Task RunAsync_ReturnsToTheCallerBeforeTheWorkStarts()
    {
        // Work run inline would hold the flight's lock, and this caller, until it ended.
        var flights = new SingleFlight<bool>();
        using var returned = new ManualResetEventSlim();

        var flight = flights.RunAsync("k", () => Task.FromResult(returned.Wait(TimeSpan.FromSeconds(5))), CancellationToken.None);
        returned.Set();

        Assert.True(await flight);
    }

    [Fact]
    public void RunAsync_WithoutWork_IsRefused() =>
        Assert.Throws<ArgumentNullException>(() => { _ = new SingleFlight<int>().RunAsync("k", null!, CancellationToken.None); });
}
