using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;

namespace EntitlementGateway.Store;

/// <summary>
/// The parsed claims and SHA-256 of UCIDs the Store has accepted, so a player who asks again (a cache hit) costs neither
/// a JWT parse nor a hash of the whole token. Keyed by the whole token, compared ordinally: a token that differs in any
/// character, signature included, is parsed on its own, so a forged token never rides on an accepted one. Only tokens
/// the Store answered for are remembered, so tokens a client makes up cannot fill it. Nothing time-dependent is kept:
/// validity is checked against the clock on every request by <see cref="UcidValidator"/>.
/// Bounded by entries and by characters in two generations: when the newer is full the older is dropped, and an entry
/// found in the older moves to the newer, so players who keep asking stay.
/// </summary>
public sealed class AcceptedUcids(int maxEntries = AcceptedUcids.DefaultMaxEntries, long maxChars = AcceptedUcids.DefaultMaxChars)
{
    /// <summary>Players remembered at most (two generations of half each).</summary>
    public const int DefaultMaxEntries = 20_000;

    /// <summary>
    /// Token characters held at most: 40 million, 80 MB as .NET strings, so <see cref="DefaultMaxEntries"/> tokens of up to
    /// 2,000 characters fit (real UCIDs are about 1,500). A lower bound made the generations rotate under a few thousand
    /// players, and every rotation sent players who were still asking back to the full parse.
    /// </summary>
    public const long DefaultMaxChars = 40_000_000;

    private readonly Lock _rotation = new();
    private Generation _newer = new();
    private Generation _older = new();

    /// <summary>A UCID and, once asked for, the lower-case hex SHA-256 of its UTF-8 text.</summary>
    public sealed class Entry(UserCollectionsId ucid)
    {
        private string? _hash;

        /// <summary>The generation that holds this entry, so remembering it again costs no lookup of the whole token.</summary>
        internal object? Holder;

        public UserCollectionsId Ucid { get; } = ucid;

        public string Hash => _hash ??= HashOf(Ucid.Value);
    }

    public int Count => Volatile.Read(ref _newer).Entries.Count + Volatile.Read(ref _older).Entries.Count;

    /// <summary>The remembered entry for exactly this token, or null.</summary>
    public Entry? Find(string? token)
    {
        if (token is null) return null;
        var newer = Volatile.Read(ref _newer);
        if (newer.Entries.TryGetValue(token, out var entry)) return entry;
        if (!Volatile.Read(ref _older).Entries.TryGetValue(token, out entry)) return null;
        Add(entry);
        return entry;
    }

    /// <summary>Remembers a UCID the Store answered for (a no-op when it is already the newest).</summary>
    public void Remember(Entry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var newer = Volatile.Read(ref _newer);
        if (!ReferenceEquals(Volatile.Read(ref entry.Holder), newer) && !newer.Entries.ContainsKey(entry.Ucid.Value)) Add(entry);
    }

    /// <summary>Lower-case hex SHA-256 of the UTF-8 text.</summary>
    public static string HashOf(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        // Hashed per query where no hash is remembered (X-tokens, the Redis cache key): no byte array per call.
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(value.Length));
        try
        {
            var length = Encoding.UTF8.GetBytes(value, buffer);
            Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
            SHA256.HashData(buffer.AsSpan(0, length), digest);
            return Convert.ToHexStringLower(digest);
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private void Add(Entry entry)
    {
        var newer = Volatile.Read(ref _newer);
        if (!newer.Entries.TryAdd(entry.Ucid.Value, entry)) return;
        Volatile.Write(ref entry.Holder, newer);
        var count = Interlocked.Increment(ref newer.Count);
        var chars = Interlocked.Add(ref newer.Chars, entry.Ucid.Value.Length);
        if (count < maxEntries / 2 && chars < maxChars / 2) return;
        lock (_rotation)
        {
            if (!ReferenceEquals(newer, _newer)) return;
            Volatile.Write(ref _older, newer);
            Volatile.Write(ref _newer, new Generation());
        }
    }

    private sealed class Generation
    {
        public readonly ConcurrentDictionary<string, Entry> Entries = new(TokenComparer.Instance);
        public int Count;
        public long Chars;
    }

    /// <summary>
    /// Ordinal equality; the hash covers the length and the last 64 characters only (a JWT's signature, random for every
    /// token the Store issues), not all 1,500. Only tokens the Store accepted are held, so nobody can fill a bucket.
    /// </summary>
    private sealed class TokenComparer : IEqualityComparer<string>
    {
        public static readonly TokenComparer Instance = new();

        public bool Equals(string? x, string? y) => string.Equals(x, y, StringComparison.Ordinal);

        public int GetHashCode(string token) =>
            HashCode.Combine(token.Length, string.GetHashCode(token.AsSpan(Math.Max(0, token.Length - 64)), StringComparison.Ordinal));
    }
}
