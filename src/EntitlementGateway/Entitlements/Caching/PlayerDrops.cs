using Microsoft.Extensions.Caching.Memory;

namespace EntitlementGateway.Entitlements.Caching;

/// <summary>
/// When each player's cached answers were last dropped (an operator's drop, a consume, a refund). An answer fetched at or
/// before that instant is not served any more, fresh or stale. Marks live as long as an answer can (Cache:MaxStale), so
/// the set stays small. Until the first drop, the check on the hit path reads one flag: a cache's count takes every lock
/// of its dictionaries, so asking it on every hit made all hits contend for them (more locks, the more cores).
/// </summary>
internal sealed class PlayerDrops(int maxMarks) : IDisposable
{
    private readonly MemoryCache _marks = new(new MemoryCacheOptions { SizeLimit = maxMarks, CompactionPercentage = 0.1 });
    private volatile bool _anyMark;

    public void Mark(string playerKey, DateTimeOffset droppedAt, TimeSpan lifetime)
    {
        // A later drop wins; an older one arriving late (another replica's message) changes nothing.
        if (lifetime <= TimeSpan.Zero || (_marks.TryGetValue(playerKey, out DateTimeOffset known) && known >= droppedAt)) return;
        // Raised before the mark is stored: whoever finds the mark has seen the flag.
        _anyMark = true;
        _marks.Set(playerKey, droppedAt, new MemoryCacheEntryOptions { Size = 1, AbsoluteExpirationRelativeToNow = lifetime });
    }

    /// <summary>Whether an answer for <paramref name="playerKey"/> fetched at <paramref name="fetchedAt"/> was dropped since.</summary>
    public bool Dropped(string playerKey, DateTimeOffset fetchedAt) =>
        _anyMark && _marks.TryGetValue(playerKey, out DateTimeOffset droppedAt) && fetchedAt <= droppedAt;

    public void Dispose() => _marks.Dispose();
}
