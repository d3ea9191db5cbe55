using System.Runtime.CompilerServices;
using EntitlementGateway.Store;
using EntitlementGateway.UnitTests.Infrastructure;
using Microsoft.Extensions.Options;

namespace EntitlementGateway.UnitTests.Store;

[Collection(ProcessMemoryCollection.Name)]
public class AcceptedUcidsTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 22, 12, 0, 0, TimeSpan.Zero);
    private readonly ManualTimeProvider _time = new(Now);
    private readonly AcceptedUcids _accepted = new();
    private readonly UcidValidator _validator;

    public AcceptedUcidsTests() => _validator = new UcidValidator(
        new LiveStoreLocator(Options.Create(new StoreOptions { ClientId = TestUcid.ClientId, ClientSecret = "s", TenantId = "t" })),
        _time, _accepted);

    private AcceptedUcids.Entry Accept(string token)
    {
        Assert.Equal(UcidProblem.None, _validator.Check(token, out var entry, out _, out _));
        _validator.Accepted(entry!);
        return entry!;
    }

    [Fact]
    public void Check_WhenTheStoreAcceptedTheSameToken_ReturnsTheRememberedEntryWithoutParsingAgain()
    {
        var token = TestUcid.Create(Now);
        var first = Accept(token);

        Assert.Equal(UcidProblem.None, _validator.Check(new string(token.AsSpan()), out var again, out _, out _));

        Assert.Same(first, again);
        Assert.Equal(1, _accepted.Count);
    }

    [Fact]
    public void Check_WhenNotYetAccepted_ParsesEveryTime()
    {
        var (first, second) = CheckTwice(TestUcid.Create(Now));

        Assert.NotSame(first, second);
        Assert.Equal(0, _accepted.Count);
    }

    [Fact]
    public void Check_ForgedTokenThatDiffersFromAnAcceptedOneOnlyInItsSignature_IsParsedOnItsOwn()
    {
        var token = TestUcid.Create(Now, userId: "victim");
        var accepted = Accept(token);
        var forged = token[..token.LastIndexOf('.')] + ".Zm9yZ2Vk";

        Assert.Equal(UcidProblem.None, _validator.Check(forged, out var entry, out var ucid, out _));

        Assert.NotSame(accepted, entry);
        Assert.Equal(forged, ucid!.Value);
        Assert.Equal(AcceptedUcids.HashOf(forged), entry!.Hash);
        Assert.Null(_accepted.Find(forged));
    }

    [Fact]
    public void Check_RememberedToken_IsStillRefusedOnceItExpires()
    {
        var token = TestUcid.Create(Now, expiresIn: TimeSpan.FromMinutes(10));
        Accept(token);

        _time.Advance(TimeSpan.FromMinutes(10));

        Assert.Equal(UcidProblem.Expired, _validator.Check(token, out _, out _, out var detail));
        Assert.Contains("expired", detail);
    }

    [Fact]
    public void Check_RememberedToken_IsStillRefusedForAnotherServicesClientId()
    {
        var token = TestUcid.Create(Now);
        Accept(token);
        var other = new UcidValidator(
            new LiveStoreLocator(Options.Create(new StoreOptions { ClientId = "99999999-0000-0000-0000-000000000000", ClientSecret = "s", TenantId = "t" })),
            _time, _accepted);

        Assert.Equal(UcidProblem.Invalid, other.Check(token, out _, out _, out var detail));
        Assert.Contains("client id", detail);
    }

    [Fact]
    public void Entry_Hash_IsTheSha256OfTheWholeToken()
    {
        var token = TestUcid.Create(Now);
        var entry = Accept(token);

        Assert.Equal(AcceptedUcids.HashOf(token), entry.Hash);
        Assert.Matches("^[0-9a-f]{64}$", entry.Hash);
        Assert.StartsWith(UserCollectionsId.FingerprintOf(token), entry.Hash, StringComparison.Ordinal);
    }

    [Fact]
    public void Remember_PastTheEntryBound_KeepsAtMostTheBoundAndThePlayersWhoKeepAsking()
    {
        var accepted = new AcceptedUcids(maxEntries: 4);
        var regular = Held("regular");
        accepted.Remember(regular.Entry);
        for (var i = 0; i < 20; i++)
        {
            accepted.Remember(Held("once-" + i).Entry);
            Assert.Same(regular.Entry, accepted.Find(regular.Token));
            Assert.True(accepted.Count <= 4, $"{accepted.Count} entries");
        }
        Assert.Null(accepted.Find(Held("once-0").Token));
    }

    [Fact]
    public void Remember_UnderTheDefaultBounds_KeepsNineThousandPlayersWithRealSizedTokens()
    {
        // Real UCIDs are about 1,500 characters: the default bounds must hold a launch-day crowd without rotating, or
        // players still asking are parsed again on every rotation.
        var accepted = new AcceptedUcids();
        var padding = new string('x', 600);
        var entries = Enumerable.Range(0, 9_000).Select(i => Held($"player-{i}-{padding}")).ToList();
        Assert.InRange(entries.Min(e => e.Token.Length), 1_500, 2_000);
        Assert.InRange(entries.Max(e => e.Token.Length), 1_500, 2_000);

        foreach (var (entry, _) in entries) accepted.Remember(entry);

        Assert.Equal(9_000, accepted.Count);
        Assert.Equal(9_000, entries.Count(e => ReferenceEquals(e.Entry, accepted.Find(e.Token))));
    }

    [Fact]
    public void Find_TokensThatShareTheirLast64Characters_AreStillTokensOfTheirOwn()
    {
        // Tokens that end alike (the same signature) are still found by their whole text.
        var first = Held("player-a");
        var second = Held("player-b");
        Assert.Equal(first.Token[^64..], second.Token[^64..]);
        Assert.NotEqual(first.Token, second.Token);
        _accepted.Remember(first.Entry);

        Assert.Null(_accepted.Find(second.Token));
        _accepted.Remember(second.Entry);
        Assert.Same(first.Entry, _accepted.Find(new string(first.Token.AsSpan())));
        Assert.Same(second.Entry, _accepted.Find(new string(second.Token.AsSpan())));
        Assert.Equal(2, _accepted.Count);
    }

    [Fact]
    public void Remember_AnEntryFoundAgain_IsNotAddedTwice()
    {
        var token = TestUcid.Create(Now);
        Accept(token);
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(UcidProblem.None, _validator.Check(token, out var again, out _, out _));
            _validator.Accepted(again!);
        }

        Assert.Equal(1, _accepted.Count);
    }

    [Fact]
    public void Check_RememberedToken_AnswersWithTheRequestsOwnTokenAndTheRememberedClaims()
    {
        var token = TestUcid.Create(Now, userId: "player-1");
        var first = Accept(token);
        var sent = new string(token.AsSpan());

        Assert.Equal(UcidProblem.None, _validator.Check(sent, out var again, out var ucid, out _));

        Assert.Same(first, again);
        Assert.Same(sent, ucid!.Value);
        Assert.Equal("player-1", ucid.UserId);
        Assert.Equal(UserCollectionsId.TryParse(token, out _)!, ucid);
    }

    [Fact]
    public void Entry_KeepsTheClaimsButNoCopyOfTheToken()
    {
        var (entry, token) = Held("player-1");

        Assert.Equal(string.Empty, entry.Claims.Value);
        Assert.Equal("player-1", entry.Claims.UserId);
        Assert.Equal(UserCollectionsId.TryParse(token, out _)!, entry.For(token));
    }

    [Fact]
    public void Remember_DoesNotHoldTheTokenString()
    {
        var accepted = new AcceptedUcids();
        var (token, entry) = RememberAndForget(accepted);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();

        Assert.False(token.IsAlive, "the remembered entry keeps the token string alive");
        Assert.Same(entry, accepted.Find(TestUcid.Create(Now, userId: "kept")));
    }

    [Fact]
    public void Remember_TwoEntriesParsedFromTheSameToken_HoldsOne()
    {
        var token = TestUcid.Create(Now);
        var (first, second) = CheckTwice(token);
        Assert.NotSame(first, second);

        _validator.Accepted(first);
        _validator.Accepted(second);

        Assert.Equal(1, _accepted.Count);
        Assert.Same(first, _accepted.Find(token));
    }

    [Fact]
    public void Find_ATokenThatDiffersByANonAsciiCharacterOutsideItsTail_IsNotFound()
    {
        var (entry, token) = Held("player-1");
        _accepted.Remember(entry);
        // Same length and last 64 characters: only the whole token tells them apart.
        var altered = token[..10] + "\u00e9" + token[11..];

        Assert.Null(_accepted.Find(altered));
        Assert.Same(entry, _accepted.Find(token));
    }

    [Fact]
    public void Remember_AnEntryWhoseTokenIsNotAscii_IsNotHeld()
    {
        var parsed = UserCollectionsId.TryParse(TestUcid.Create(Now), out _)!;
        var entry = new AcceptedUcids.Entry(parsed with { Value = parsed.Value + "\u00e9" });

        _accepted.Remember(entry);

        Assert.Equal(0, _accepted.Count);
    }

    [Fact]
    public void Remember_TheSameEntryAgainAndAgain_CountsItOnceTowardsTheBound()
    {
        var accepted = new AcceptedUcids(maxEntries: 4);
        var regular = Held("regular");
        for (var i = 0; i < 10; i++) accepted.Remember(regular.Entry);
        accepted.Remember(Held("second").Entry);
        accepted.Remember(Held("third").Entry);

        Assert.Same(regular.Entry, accepted.Find(regular.Token));
    }

    [Fact]
    public void Remember_WhenAGenerationReachesExactlyHalfTheEntryBound_StartsANewOne()
    {
        var first = Held("player-1");
        var second = Held("player-2");
        var third = Held("player-3");
        var accepted = new AcceptedUcids(maxEntries: 4);

        accepted.Remember(first.Entry);
        accepted.Remember(second.Entry);
        Assert.Equal(2, accepted.Count);
        accepted.Remember(third.Entry);
        accepted.Remember(Held("player-4").Entry);

        // The first two filled a generation (half of 4), the next two another: the first generation is gone.
        Assert.Null(accepted.Find(first.Token));
        Assert.Null(accepted.Find(second.Token));
        Assert.Same(third.Entry, accepted.Find(third.Token));
    }

    [Fact]
    public void Remember_FiveThousandRealSizedTokens_HoldsNoneOfTheirCharacters()
    {
        // The point of the digest: 5,000 tokens of 1,500 characters held as bytes took 7.5 MB; entries without them take a
        // few hundred bytes each (the claims, the SHA-256 text, the dictionary's node).
        var padding = new string('x', 600);
        var entries = Enumerable.Range(0, 5_000).Select(i => Held($"player-{i}-{padding}").Entry).ToList();
        GC.Collect();
        var before = GC.GetTotalMemory(forceFullCollection: true);

        var accepted = new AcceptedUcids();
        foreach (var entry in entries) accepted.Remember(entry);
        var held = GC.GetTotalMemory(forceFullCollection: true) - before;

        Assert.Equal(5_000, accepted.Count);
        Assert.InRange(held, 0, 5_000 * 200);
        GC.KeepAlive(accepted);
    }

    [Fact]
    public void NullArguments_AreRefusedByName()
    {
        Assert.Equal("ucid", Assert.Throws<ArgumentNullException>(() => new AcceptedUcids.Entry(null!)).ParamName);
        Assert.Equal("entry", Assert.Throws<ArgumentNullException>(() => _accepted.Remember(null!)).ParamName);
    }

    [Fact]
    public void Find_WhenTokenIsNull_ReturnsNull() => Assert.Null(_accepted.Find((string?)null));

    [Fact]
    public void FindByUtf8Bytes_AnAcceptedToken_IsTheEntryFoundByItsCharacters()
    {
        var token = TestUcid.Create(Now, userId: "player-1");
        var entry = Accept(token);

        Assert.Same(entry, _accepted.Find(System.Text.Encoding.UTF8.GetBytes(token)));
        Assert.Null(_accepted.Find(System.Text.Encoding.UTF8.GetBytes(TestUcid.Create(Now, userId: "player-2"))));
        Assert.Null(_accepted.Find(ReadOnlySpan<byte>.Empty));
    }

    [Fact]
    public void FindByUtf8Bytes_TokensThatShareTheirTail_OrDifferByOneByte_AreNotFound()
    {
        // Same length and last 64 characters: only the whole token tells them apart.
        var first = Held("player-a");
        var second = Held("player-b");
        Assert.Equal(first.Token[^64..], second.Token[^64..]);
        _accepted.Remember(first.Entry);
        var altered = System.Text.Encoding.UTF8.GetBytes(first.Token);
        altered[10] = (byte)(altered[10] == (byte)'A' ? 'B' : 'A');

        Assert.Null(_accepted.Find(System.Text.Encoding.UTF8.GetBytes(second.Token)));
        Assert.Null(_accepted.Find(altered));
        Assert.Null(_accepted.Find(System.Text.Encoding.UTF8.GetBytes(first.Token[..10] + "\u00e9" + first.Token[11..])));
        Assert.Same(first.Entry, _accepted.Find(System.Text.Encoding.UTF8.GetBytes(first.Token)));
    }

    [Fact]
    public void FindByUtf8Bytes_PastTheEntryBound_KeepsThePlayersWhoKeepAsking()
    {
        // Found in the older generation, an entry moves to the newer one, as a lookup by characters does.
        var accepted = new AcceptedUcids(maxEntries: 4);
        var regular = Held("regular");
        var bytes = System.Text.Encoding.UTF8.GetBytes(regular.Token);
        accepted.Remember(regular.Entry);
        for (var i = 0; i < 20; i++)
        {
            accepted.Remember(Held("once-" + i).Entry);
            Assert.Same(regular.Entry, accepted.Find(bytes));
        }
    }

    [Fact]
    public void Remembered_IsTheEntrysClaimsWithItsToken_MadeIntoTextOnlyWhenAsked()
    {
        var (entry, token) = Held("player-1");

        var ucid = entry.Remembered(System.Text.Encoding.ASCII.GetBytes(token));

        Assert.Equal(UserCollectionsId.TryParse(token, out _)!, ucid);
        Assert.Equal(UserCollectionsId.TryParse(token, out _)!.GetHashCode(), ucid.GetHashCode());
        Assert.Equal(token, ucid.Value);
        Assert.Same(ucid.Value, ucid.Value);
        Assert.Equal(string.Empty, entry.Claims.Value);
        Assert.Equal(token, (ucid with { UserId = "other" }).Value);
        Assert.Equal("x.y.z", (ucid with { Value = "x.y.z" }).Value);
        Assert.NotEqual(ucid, ucid with { Value = "x.y.z" });
        Assert.NotEqual(ucid, ucid with { Expires = ucid.Expires!.Value.AddSeconds(1) });
        Assert.False(ucid.Equals(null));
    }

    [Fact]
    public void CheckRemembered_ARememberedEntry_IsCheckedAgainstTheClockWithoutParsing()
    {
        var token = TestUcid.Create(Now, expiresIn: TimeSpan.FromMinutes(10));
        var entry = Accept(token);
        var ucid = entry.Remembered(System.Text.Encoding.ASCII.GetBytes(token));

        Assert.Equal(UcidProblem.None, _validator.CheckRemembered(ucid, out _));
        Assert.Equal(token, ucid.Value);
        _time.Advance(TimeSpan.FromMinutes(11));
        Assert.Equal(UcidProblem.Expired, _validator.CheckRemembered(ucid, out var detail));
        Assert.Contains("expired", detail, StringComparison.Ordinal);
        Assert.Equal("ucid", Assert.Throws<ArgumentNullException>(() => _validator.CheckRemembered(null!, out _)).ParamName);
        Assert.Equal("token", Assert.Throws<ArgumentNullException>(() => entry.Remembered(null!)).ParamName);
    }

    [Fact]
    public void Find_ATokenLongerThanAUcidCanBe_IsNotFound_ByCharactersOrBytes()
    {
        var tooLong = new string('a', UserCollectionsId.MaxLength + 1);

        Assert.Null(_accepted.Find(tooLong));
        Assert.Null(_accepted.Find(System.Text.Encoding.ASCII.GetBytes(tooLong)));
        Assert.Null(AcceptedUcids.DigestOf(tooLong));
        Assert.NotNull(AcceptedUcids.DigestOf(tooLong.AsSpan(1)));
    }

    [Fact]
    public void DigestOf_IsTheSameForATokensCharactersAndBytes_AndDiffersForAnyOtherToken()
    {
        var token = TestUcid.Create(Now, userId: "player-1");
        var entry = new AcceptedUcids.Entry(UserCollectionsId.TryParse(token, out _)!);

        Assert.Equal(AcceptedUcids.DigestOf(token), entry.Digest);
        Assert.NotEqual(AcceptedUcids.DigestOf(token[..^1] + (token[^1] == 'A' ? 'B' : 'A')), entry.Digest);
        Assert.NotEqual(AcceptedUcids.DigestOf(token.AsSpan(1)), entry.Digest);
        Assert.Null(AcceptedUcids.DigestOf(token + "\u00e9"));
    }

    private (AcceptedUcids.Entry First, AcceptedUcids.Entry Second) CheckTwice(string token)
    {
        Assert.Equal(UcidProblem.None, _validator.Check(token, out var first, out _, out _));
        Assert.Equal(UcidProblem.None, _validator.Check(token, out var second, out _, out _));
        return (first!, second!);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static (WeakReference Token, AcceptedUcids.Entry Entry) RememberAndForget(AcceptedUcids accepted)
    {
        var token = TestUcid.Create(Now, userId: "kept");
        var entry = new AcceptedUcids.Entry(UserCollectionsId.TryParse(token, out _)!);
        accepted.Remember(entry);
        return (new WeakReference(token), entry);
    }

    /// <summary>A parsed UCID's entry and the token it was made from (the entry does not keep the token).</summary>
    private static (AcceptedUcids.Entry Entry, string Token) Held(string userId)
    {
        var token = TestUcid.Create(Now, userId: userId);
        return (new AcceptedUcids.Entry(UserCollectionsId.TryParse(token, out _)!), token);
    }
}
