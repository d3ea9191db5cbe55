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
/// A token is held once, as its ASCII bytes (a UCID is base64url and dots): half of what it takes as a .NET string, and
/// the claims it remembers hold no copy of it. A request whose token was found by its characters carries its own copy
/// (<see cref="Entry.For"/>); one found by the UTF-8 bytes of its JSON body carries none: its token becomes a string only
/// if something needs it (a Store call), so a cache hit never makes one (<see cref="Entry.Remembered"/>).
/// Bounded by entries and by token bytes in two generations: when the newer is full the older is dropped, and an entry
/// found in the older moves to the newer, so players who keep asking stay.
/// </summary>
public sealed class AcceptedUcids(int maxEntries = AcceptedUcids.DefaultMaxEntries, long maxChars = AcceptedUcids.DefaultMaxChars)
{
    /// <summary>Players remembered at most (two generations of half each).</summary>
    public const int DefaultMaxEntries = 20_000;

    /// <summary>
    /// Token characters held at most: 40 million, 40 MB as ASCII bytes, so <see cref="DefaultMaxEntries"/> tokens of up to
    /// 2,000 characters fit (real UCIDs are about 1,500). A lower bound made the generations rotate under a few thousand
    /// players, and every rotation sent players who were still asking back to the full parse.
    /// </summary>
    public const long DefaultMaxChars = 40_000_000;

    private readonly Lock _rotation = new();
    private Generation _newer = new();
    private Generation _older = new();

    /// <summary>
    /// A UCID's claims (without the token), the lower-case hex SHA-256 of its UTF-8 text, and the token's ASCII bytes to
    /// find it by. Made for every parsed UCID; remembered once the Store has answered for it.
    /// </summary>
    public sealed class Entry
    {
        public Entry(UserCollectionsId ucid)
        {
            ArgumentNullException.ThrowIfNull(ucid);
            Hash = HashOf(ucid.Value);
            var token = new byte[ucid.Value.Length];
            Token = System.Text.Ascii.FromUtf16(ucid.Value, token, out _) == System.Buffers.OperationStatus.Done ? token : null;
            Claims = ucid with { Value = string.Empty };
        }

        /// <summary>The token as ASCII; null when it is not ASCII (never remembered: a UCID that parses always is).</summary>
        internal byte[]? Token { get; }

        /// <summary>The claims, with an empty <see cref="UserCollectionsId.Value"/>: the token itself is not kept here.</summary>
        public UserCollectionsId Claims { get; }

        public string Hash { get; }

        /// <summary>The UCID of a request that sent <paramref name="token"/>, the token this entry was made from.</summary>
        public UserCollectionsId For(string token) => Claims with { Value = token };

        /// <summary>The UCID of a request that sent this entry's token as bytes: its text is made from the entry's bytes on first use.</summary>
        public UserCollectionsId Remembered() => Claims.WithAsciiToken(Token!);
    }

    public int Count => Volatile.Read(ref _newer).Entries.Count + Volatile.Read(ref _older).Entries.Count;

    /// <summary>The remembered entry for exactly this token, or null.</summary>
    public Entry? Find(string? token)
    {
        if (token is null) return null;
        var newer = Volatile.Read(ref _newer);
        if (newer.Lookup.TryGetValue(token, out var entry)) return entry;
        if (!Volatile.Read(ref _older).Lookup.TryGetValue(token, out entry)) return null;
        Add(entry);
        return entry;
    }

    /// <summary>Whether the Store has answered for exactly this UCID (it is remembered).</summary>
    public bool Holds(UserCollectionsId? ucid) => ucid is not null && Find(ucid.Value) is not null;

    /// <summary>
    /// The remembered entry for exactly this token as UTF-8 bytes (a JSON string's raw value, without escapes), or null.
    /// </summary>
    public Entry? Find(ReadOnlySpan<byte> utf8Token)
    {
        var newer = Volatile.Read(ref _newer);
        if (newer.BytesLookup.TryGetValue(utf8Token, out var entry)) return entry;
        if (!Volatile.Read(ref _older).BytesLookup.TryGetValue(utf8Token, out entry)) return null;
        Add(entry);
        return entry;
    }

    /// <summary>Remembers a UCID the Store answered for (a no-op when it is already the newest).</summary>
    public void Remember(Entry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        // Every answered query remembers its UCID again: a lookup of the token's tail and one comparison when it is held.
        if (entry.Token is not null) Add(entry);
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
        if (!newer.Entries.TryAdd(entry.Token!, entry)) return;
        var count = Interlocked.Increment(ref newer.Count);
        var chars = Interlocked.Add(ref newer.Chars, entry.Token!.Length);
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
        public readonly ConcurrentDictionary<byte[], Entry> Entries;
        public readonly ConcurrentDictionary<byte[], Entry>.AlternateLookup<ReadOnlySpan<char>> Lookup;
        public readonly ConcurrentDictionary<byte[], Entry>.AlternateLookup<ReadOnlySpan<byte>> BytesLookup;
        public int Count;
        public long Chars;

        public Generation()
        {
            Entries = new(TokenComparer.Instance);
            Lookup = Entries.GetAlternateLookup<ReadOnlySpan<char>>();
            BytesLookup = Entries.GetAlternateLookup<ReadOnlySpan<byte>>();
        }
    }

    /// <summary>
    /// Ordinal equality of the whole token, held as ASCII bytes and looked up by a request's characters or UTF-8 bytes; the hash covers
    /// the length and the last 64 characters only (a JWT's signature, random for every token the Store issues), not all
    /// 1,500. Only tokens the Store accepted are held, so nobody can fill a bucket.
    /// </summary>
    private sealed class TokenComparer : IEqualityComparer<byte[]>, IAlternateEqualityComparer<ReadOnlySpan<char>, byte[]>,
        IAlternateEqualityComparer<ReadOnlySpan<byte>, byte[]>
    {
        private const int Tail = 64;

        public static readonly TokenComparer Instance = new();

        public bool Equals(byte[]? x, byte[]? y) => x.AsSpan().SequenceEqual(y);

        public int GetHashCode(byte[] token) => GetHashCode((ReadOnlySpan<byte>)token);

        // The same hash as the characters': the tail widened to UTF-16 (a non-ASCII byte, which no held token has, stops it).
        public int GetHashCode(ReadOnlySpan<byte> alternate)
        {
            Span<char> tail = stackalloc char[Tail];
            System.Text.Ascii.ToUtf16(alternate[Math.Max(0, alternate.Length - Tail)..], tail, out var written);
            return Combine(alternate.Length, tail[..written]);
        }

        public bool Equals(ReadOnlySpan<byte> alternate, byte[] other) => alternate.SequenceEqual(other);

        public byte[] Create(ReadOnlySpan<byte> alternate) => throw new NotSupportedException();

        // False for any character outside ASCII: no held token has one.
        public bool Equals(ReadOnlySpan<char> alternate, byte[] other) => System.Text.Ascii.Equals(other, alternate);

        public int GetHashCode(ReadOnlySpan<char> alternate) => Combine(alternate.Length, alternate[Math.Max(0, alternate.Length - Tail)..]);

        // Entries are only added from an Entry's own bytes, never through a lookup by characters.
        public byte[] Create(ReadOnlySpan<char> alternate) => throw new NotSupportedException();

        private static int Combine(int length, ReadOnlySpan<char> tail) =>
            HashCode.Combine(length, string.GetHashCode(tail, StringComparison.Ordinal));
    }
}
