using System.Buffers;
using System.Collections.Concurrent;
using System.IO.Hashing;
using System.Security.Cryptography;
using System.Text;

namespace EntitlementGateway.Store;

/// <summary>
/// The parsed claims and SHA-256 of UCIDs the Store has accepted, so a player who asks again (a cache hit) costs neither
/// a JWT parse nor a SHA-256 of the whole token. Only tokens the Store answered for are remembered, so tokens a client
/// makes up cannot fill it. Nothing time-dependent is kept: validity is checked against the clock on every request by
/// <see cref="UcidValidator"/>.
/// A token is found by a 128-bit digest of its whole text (XXH3-128 under a secret seed drawn at start), and no copy of
/// the token is held: at 5,000 players that is 7 MB less than holding each token's 1,400 bytes. A token that differs in
/// any character, signature included, has another digest, so it is parsed on its own. Two different tokens share a
/// digest with a chance of about one in 2^128, and since the seed is secret and no digest is ever shown, nobody can aim a
/// token at another player's; a player who found a token that shares the digest of their own would get only their own
/// claims and answers. A request whose token was found carries its own copy (<see cref="Entry.For"/>, or the bytes of
/// its JSON body passed to <see cref="Entry.Remembered"/>).
/// Bounded by entries in two generations: when the newer is full the older is dropped, and an entry found in the older
/// moves to the newer, so players who keep asking stay.
/// </summary>
public sealed class AcceptedUcids(int maxEntries = AcceptedUcids.DefaultMaxEntries)
{
    /// <summary>Players remembered at most (two generations of half each).</summary>
    public const int DefaultMaxEntries = 20_000;

    // Drawn once per process and never shown: a digest cannot be predicted, so it cannot be aimed at.
    private static readonly long Seed = BitConverter.ToInt64(RandomNumberGenerator.GetBytes(sizeof(long)));

    private readonly Lock _rotation = new();
    private Generation _newer = new();
    private Generation _older = new();

    /// <summary>
    /// A UCID's claims (without the token), the lower-case hex SHA-256 of its UTF-8 text, and the digest to find it by.
    /// Made for every parsed UCID; remembered once the Store has answered for it.
    /// </summary>
    public sealed class Entry
    {
        public Entry(UserCollectionsId ucid)
        {
            ArgumentNullException.ThrowIfNull(ucid);
            Hash = HashOf(ucid.Value);
            Digest = DigestOf(ucid.Value.AsSpan());
            Claims = ucid with { Value = string.Empty };
        }

        /// <summary>The token's digest; null when it is not ASCII (never remembered: a UCID that parses always is).</summary>
        internal UInt128? Digest { get; }

        /// <summary>The claims, with an empty <see cref="UserCollectionsId.Value"/>: the token itself is not kept here.</summary>
        public UserCollectionsId Claims { get; }

        public string Hash { get; }

        /// <summary>The UCID of a request that sent <paramref name="token"/>, the token this entry was made from.</summary>
        public UserCollectionsId For(string token) => Claims with { Value = token };

        /// <summary>
        /// The UCID of a request that sent this entry's token as the ASCII bytes <paramref name="token"/> (a copy of its body's
        /// value, found by <see cref="Find(ReadOnlySpan{byte})"/>): its text is made from them on first use.
        /// </summary>
        public UserCollectionsId Remembered(byte[] token)
        {
            ArgumentNullException.ThrowIfNull(token);
            return Claims.WithAsciiToken(token);
        }
    }

    public int Count => Volatile.Read(ref _newer).Entries.Count + Volatile.Read(ref _older).Entries.Count;

    /// <summary>The remembered entry for exactly this token, or null.</summary>
    public Entry? Find(string? token) => token is not null && DigestOf(token.AsSpan()) is { } digest ? Find(digest) : null;

    /// <summary>Whether the Store has answered for exactly this UCID (it is remembered).</summary>
    public bool Holds(UserCollectionsId? ucid) => ucid is not null && Find(ucid.Value) is not null;

    /// <summary>
    /// The remembered entry for exactly this token as UTF-8 bytes (a JSON string's raw value, without escapes), or null.
    /// </summary>
    public Entry? Find(ReadOnlySpan<byte> utf8Token) => Find(DigestOf(utf8Token));

    private Entry? Find(UInt128 digest)
    {
        if (Volatile.Read(ref _newer).Entries.TryGetValue(digest, out var entry)) return entry;
        if (!Volatile.Read(ref _older).Entries.TryGetValue(digest, out entry)) return null;
        Add(digest, entry);
        return entry;
    }

    /// <summary>Remembers a UCID the Store answered for (a no-op when it is already the newest).</summary>
    public void Remember(Entry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        // Every answered query remembers its UCID again: one lookup of its digest when it is held.
        if (entry.Digest is { } digest) Add(digest, entry);
    }

    /// <summary>Lower-case hex SHA-256 of the UTF-8 text.</summary>
    public static string HashOf(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        // Hashed per query where no hash is remembered (X-tokens, the Redis cache key): no byte array per call.
        var buffer = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(value.Length));
        try
        {
            var length = Encoding.UTF8.GetBytes(value, buffer);
            Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
            SHA256.HashData(buffer.AsSpan(0, length), digest);
            return Convert.ToHexStringLower(digest);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>The digest of a token's ASCII characters; null for a token that is not ASCII or is too long to be a UCID.</summary>
    internal static UInt128? DigestOf(ReadOnlySpan<char> token)
    {
        if (token.Length > UserCollectionsId.MaxLength) return null;
        Span<byte> ascii = stackalloc byte[token.Length];
        return Ascii.FromUtf16(token, ascii, out _) == OperationStatus.Done ? DigestOf(ascii) : null;
    }

    private static UInt128 DigestOf(ReadOnlySpan<byte> token) => XxHash128.HashToUInt128(token, Seed);

    private void Add(UInt128 digest, Entry entry)
    {
        var newer = Volatile.Read(ref _newer);
        if (!newer.Entries.TryAdd(digest, entry)) return;
        if (Interlocked.Increment(ref newer.Count) < maxEntries / 2) return;
        lock (_rotation)
        {
            if (!ReferenceEquals(newer, _newer)) return;
            Volatile.Write(ref _older, newer);
            Volatile.Write(ref _newer, new Generation());
        }
    }

    private sealed class Generation
    {
        public readonly ConcurrentDictionary<UInt128, Entry> Entries = new();
        public int Count;
    }
}
