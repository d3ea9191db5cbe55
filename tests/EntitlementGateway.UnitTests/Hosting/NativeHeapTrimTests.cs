using System.Runtime.InteropServices;
using EntitlementGateway.Hosting;
using EntitlementGateway.UnitTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace EntitlementGateway.UnitTests.Hosting;

public class NativeHeapTrimTests
{
    private const int Block = 16 * 1024;
    private const int Blocks = 2048;

    [DllImport("libc.so.6", EntryPoint = "mincore", SetLastError = true)]
    private static extern int MinCore(nint address, nuint length, byte[] pages);

    /// <summary>Of the whole pages inside each block, the share the kernel has resident.</summary>
    private static double ResidentShare(IReadOnlyList<nint> blocks)
    {
        var page = Environment.SystemPageSize;
        long resident = 0, total = 0;
        foreach (var block in blocks)
        {
            var first = (block + page - 1) / page * page;
            var count = (int)((block + Block - first) / page);
            var vector = new byte[count];
            Assert.Equal(0, MinCore(first, (nuint)(count * page), vector));
            resident += vector.Count(v => (v & 1) != 0);
            total += count;
        }
        return (double)resident / total;
    }

    [Fact]
    public void TryTrim_GivesTheSystemBackThePagesFreedInsideTheHeap()
    {
        var blocks = new nint[Blocks];
        var pattern = Enumerable.Repeat((byte)0xA5, Block).ToArray();
        for (var i = 0; i < Blocks; i++)
        {
            blocks[i] = Marshal.AllocHGlobal(Block); // malloc
            Marshal.Copy(pattern, 0, blocks[i], Block);
        }
        // The last block stays allocated, so the freed ones sit below it: glibc itself gives back only an arena's top.
        var freed = blocks[..^1];
        foreach (var block in freed) Marshal.FreeHGlobal(block);
        try
        {
            var before = ResidentShare(freed);

            var trimmed = NativeHeap.TryTrim();

            var after = ResidentShare(freed);
            Assert.True(before > 0.9, $"before the trim {before:P0} of the freed pages were resident");
            Assert.True(trimmed);
            Assert.True(after < 0.25, $"after the trim {after:P0} of the freed pages were still resident");
        }
        finally
        {
            Marshal.FreeHGlobal(blocks[^1]);
        }
    }

    [Fact]
    public void TryTrim_WithoutGlibcOrItsFunction_IsNull_AndOtherFailuresAreNotHidden()
    {
        Assert.Null(NativeHeap.TryTrim(_ => throw new DllNotFoundException("libc.so.6")));
        Assert.Null(NativeHeap.TryTrim(_ => throw new EntryPointNotFoundException("malloc_trim")));
        Assert.Throws<InvalidOperationException>(() => NativeHeap.TryTrim(_ => throw new InvalidOperationException()));
    }

    [Theory]
    [InlineData(1, true)]
    [InlineData(0, false)]
    public void TryTrim_SaysWhetherAnythingWasReturned_AskingToKeepNoPadding(int result, bool expected)
    {
        nuint? pad = null;

        var trimmed = NativeHeap.TryTrim(p => { pad = p; return result; });

        Assert.Equal(expected, trimmed);
        Assert.Equal((nuint)0, pad);
    }

    [Fact]
    public async Task Trimmer_WithoutGlibc_SaysSoOnceAtDebug()
    {
        var lines = new WrittenLog<NativeHeapTrimmer>();
        using var trimmer = new NativeHeapTrimmer(TimeSpan.FromMilliseconds(10), () => null, lines);

        await trimmer.StartAsync(CancellationToken.None);
        await trimmer.ExecuteTask!.WaitAsync(TimeSpan.FromSeconds(10));

        var line = Assert.Single(lines.Written);
        Assert.Equal(LogLevel.Debug, line.Level);
        Assert.Contains("No glibc heap to trim", line.Text, StringComparison.Ordinal);
    }

    [Fact]
    public void AddNativeHeapTrim_RegistersTheTrimmerAsAHostedService()
    {
        var services = new ServiceCollection().AddNativeHeapTrim();

        var descriptor = Assert.Single(services);
        Assert.Equal(typeof(IHostedService), descriptor.ServiceType);
        Assert.Equal(typeof(NativeHeapTrimmer), descriptor.ImplementationType);
        Assert.Throws<ArgumentNullException>(() => NativeHeapTrimSetup.AddNativeHeapTrim(null!));
    }

    private static async Task WaitUntil(Func<bool> condition)
    {
        for (var waited = 0; !condition(); waited += 10)
        {
            Assert.True(waited < 10_000, "the condition did not hold within 10 s");
            await Task.Delay(10);
        }
    }

    [Fact]
    public async Task Trimmer_TrimsAtEveryIntervalUntilStopped()
    {
        var calls = 0;
        using var trimmer = new NativeHeapTrimmer(TimeSpan.FromMilliseconds(10), () => { Interlocked.Increment(ref calls); return true; }, NullLogger.Instance);

        await trimmer.StartAsync(CancellationToken.None);
        await WaitUntil(() => Volatile.Read(ref calls) >= 3);
        await trimmer.StopAsync(CancellationToken.None);
        var atStop = Volatile.Read(ref calls);
        await Task.Delay(100);

        Assert.Equal(atStop, Volatile.Read(ref calls));
        Assert.True(trimmer.ExecuteTask!.IsCompleted);
    }

    [Fact]
    public async Task Trimmer_WithoutGlibc_TriesOnceAndStops()
    {
        var calls = 0;
        using var trimmer = new NativeHeapTrimmer(TimeSpan.FromMilliseconds(10), () => { Interlocked.Increment(ref calls); return null; }, NullLogger.Instance);

        await trimmer.StartAsync(CancellationToken.None);
        await trimmer.ExecuteTask!.WaitAsync(TimeSpan.FromSeconds(10));
        await Task.Delay(50);

        Assert.Equal(1, Volatile.Read(ref calls));
        Assert.True(trimmer.ExecuteTask.IsCompletedSuccessfully);
        await trimmer.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task Trimmer_WithAZeroInterval_NeverTrims()
    {
        var calls = 0;
        using var trimmer = new NativeHeapTrimmer(TimeSpan.Zero, () => { Interlocked.Increment(ref calls); return true; }, NullLogger.Instance);

        await trimmer.StartAsync(CancellationToken.None);
        await trimmer.ExecuteTask!.WaitAsync(TimeSpan.FromSeconds(10)); // it ends on its own

        Assert.True(trimmer.ExecuteTask.IsCompletedSuccessfully);
        Assert.Equal(0, Volatile.Read(ref calls));
        await trimmer.StopAsync(CancellationToken.None);
    }

    [Theory]
    [InlineData(-1, false)]
    [InlineData(0, true)]
    [InlineData(3600, true)]
    [InlineData(3601, false)]
    public void Options_TrimSeconds_From0To3600(int seconds, bool valid)
    {
        var result = new HostingOptionsValidator().Validate(null, new HostingOptions { NativeHeapTrimSeconds = seconds });

        Assert.Equal(valid, result.Succeeded);
        if (!valid) Assert.Contains("Hosting:NativeHeapTrimSeconds", result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Options_TrimEvery30SecondsByDefault() => Assert.Equal(30, new HostingOptions().NativeHeapTrimSeconds);
}
