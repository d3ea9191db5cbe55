using System.Text;
using EntitlementGateway.Emulator;

namespace EntitlementGateway.UnitTests.Emulator;

public class StoreRequestLogTests
{
    private static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static StoreRequestRecord Record(int i) => new("POST", "/p/" + i, 10, null, "application/json", null, null, null,
        "Bearer", false, "ignored", 200, Start.AddMilliseconds(i));

    private static byte[] Body(int i, int length) =>
        Encoding.UTF8.GetBytes(("{\"n\":" + i + ",\"pad\":\"").PadRight(length - 2, 'p') + "\"}");

    [Fact]
    public void Snapshot_PastCapacity_KeepsTheLastRequestsOldestFirst_EachWithItsOwnBody()
    {
        var log = new StoreRequestLog();
        for (var i = 0; i < StoreRequestLog.Capacity + 3; i++) log.Add(Record(i), Body(i, 100 + i));

        var records = log.Snapshot();

        Assert.Equal(StoreRequestLog.Capacity, records.Count);
        Assert.Equal(Enumerable.Range(3, StoreRequestLog.Capacity).Select(i => "/p/" + i), records.Select(r => r.Path));
        Assert.Equal(Enumerable.Range(3, StoreRequestLog.Capacity).Select(i => Encoding.UTF8.GetString(Body(i, 100 + i))), records.Select(r => r.Body));
    }

    [Fact]
    public void Snapshot_BeforeTheRingIsFull_HasOnlyWhatWasAdded()
    {
        var log = new StoreRequestLog();
        log.Add(Record(1), Body(1, 50));
        log.Add(Record(2), "{}"u8);

        Assert.Equal(["/p/1", "/p/2"], log.Snapshot().Select(r => r.Path));
        Assert.Equal("{}", log.Snapshot()[1].Body);
    }

    [Fact]
    public void Add_ASmallBodyInTheSlotOfALargeOne_KeepsNoneOfTheLargeOnesBytes()
    {
        var log = new StoreRequestLog();
        log.Add(Record(0), Body(0, 10_000));
        for (var i = 1; i < StoreRequestLog.Capacity; i++) log.Add(Record(i), Body(i, 20));
        // The ring has wrapped: this one takes the first request's slot.
        log.Add(Record(StoreRequestLog.Capacity), "[1]"u8);
        log.Add(Record(StoreRequestLog.Capacity + 1), ""u8);

        var records = log.Snapshot();
        Assert.Equal("[1]", records[^2].Body);
        Assert.Equal("", records[^1].Body);
    }

    [Fact]
    public void Add_ABodyOverTheBound_KeepsItsFirst64KB()
    {
        var log = new StoreRequestLog();
        var body = Body(7, StoreRequestLog.MaxBodyBytes + 100);

        log.Add(Record(7), body);

        Assert.Equal(Encoding.UTF8.GetString(body, 0, StoreRequestLog.MaxBodyBytes), Assert.Single(log.Snapshot()).Body);
    }

    [Fact]
    public void Add_OnceTheRingIsFull_ReusesEachSlotsBodyArray()
    {
        // A new body array (or string) per Store call lived for 500 calls and died in the old generation.
        var log = new StoreRequestLog();
        var body = Body(1, 1_500);
        var records = Enumerable.Range(0, StoreRequestLog.Capacity).Select(Record).ToArray();
        foreach (var r in records) log.Add(r, body);

        var before = GC.GetAllocatedBytesForCurrentThread();
        foreach (var r in records) log.Add(r, body);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.True(allocated < body.Length, $"{StoreRequestLog.Capacity} requests allocated {allocated} bytes");
    }

    [Fact]
    public void Add_AfterALargeBody_DoesNotKeepItsArrayForASmallOne()
    {
        var log = new StoreRequestLog();
        log.Add(Record(0), Body(0, 60_000));
        for (var i = 1; i < StoreRequestLog.Capacity; i++) log.Add(Record(i), Body(i, 20));

        // The first slot again, with a body far smaller than its array: a right-sized array replaces it.
        var (record, body) = (Record(StoreRequestLog.Capacity), Body(9, 3_000));
        var before = GC.GetAllocatedBytesForCurrentThread();
        log.Add(record, body);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.InRange(allocated, 3_000, 10_000);
    }

    [Fact]
    public void Clear_EmptiesTheLog()
    {
        var log = new StoreRequestLog();
        for (var i = 0; i < 5; i++) log.Add(Record(i), Body(i, 30));

        log.Clear();
        log.Add(Record(9), "{}"u8);

        Assert.Equal(["/p/9"], log.Snapshot().Select(r => r.Path));
    }
}
