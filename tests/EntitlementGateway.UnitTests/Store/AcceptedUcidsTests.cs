using EntitlementGateway.Store;
using EntitlementGateway.UnitTests.Infrastructure;
using Microsoft.Extensions.Options;

namespace EntitlementGateway.UnitTests.Store;

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
        Assert.Equal(UcidProblem.None, _validator.Check(token, out var entry, out _));
        _validator.Accepted(entry!);
        return entry!;
    }

    [Fact]
    public void Check_WhenTheStoreAcceptedTheSameToken_ReturnsTheRememberedEntryWithoutParsingAgain()
    {
        var token = TestUcid.Create(Now);
        var first = Accept(token);

        Assert.Equal(UcidProblem.None, _validator.Check(new string(token.AsSpan()), out var again, out _));

        Assert.Same(first, again);
        Assert.Equal(1, _accepted.Count);
    }

    [Fact]
    public void Check_WhenNotYetAccepted_ParsesEveryTime()
    {
        var token = TestUcid.Create(Now);
        _validator.Check(token, out var first, out _);
        _validator.Check(token, out var second, out _);

        Assert.NotSame(first, second);
        Assert.Equal(0, _accepted.Count);
    }

    [Fact]
    public void Check_ForgedTokenThatDiffersFromAnAcceptedOneOnlyInItsSignature_IsParsedOnItsOwn()
    {
        var token = TestUcid.Create(Now, userId: "victim");
        var accepted = Accept(token);
        var forged = token[..token.LastIndexOf('.')] + ".Zm9yZ2Vk";

        Assert.Equal(UcidProblem.None, _validator.Check(forged, out var entry, out _));

        Assert.NotSame(accepted, entry);
        Assert.Equal(forged, entry!.Ucid.Value);
        Assert.Null(_accepted.Find(forged));
    }

    [Fact]
    public void Check_RememberedToken_IsStillRefusedOnceItExpires()
    {
        var token = TestUcid.Create(Now, expiresIn: TimeSpan.FromMinutes(10));
        Accept(token);

        _time.Advance(TimeSpan.FromMinutes(10));

        Assert.Equal(UcidProblem.Expired, _validator.Check(token, out _, out var detail));
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

        Assert.Equal(UcidProblem.Invalid, other.Check(token, out _, out var detail));
        Assert.Contains("client id", detail);
    }

    [Fact]
    public void Entry_Hash_IsTheSha256OfTheWholeToken()
    {
        var token = TestUcid.Create(Now);
        var entry = Accept(token);

        Assert.Equal(AcceptedUcids.HashOf(token), entry.Hash);
        Assert.Matches("^[0-9a-f]{64}$", entry.Hash);
        Assert.StartsWith(entry.Ucid.Fingerprint, entry.Hash, StringComparison.Ordinal);
    }

    [Fact]
    public void Remember_PastTheEntryBound_KeepsAtMostTheBoundAndThePlayersWhoKeepAsking()
    {
        var accepted = new AcceptedUcids(maxEntries: 4);
        var regular = Entry("regular");
        accepted.Remember(regular);
        for (var i = 0; i < 20; i++)
        {
            accepted.Remember(Entry("once-" + i));
            Assert.Same(regular, accepted.Find(regular.Ucid.Value));
            Assert.True(accepted.Count <= 4, $"{accepted.Count} entries");
        }
        Assert.Null(accepted.Find(Entry("once-0").Ucid.Value));
    }

    [Fact]
    public void Remember_PastTheCharacterBound_DropsTheOldestGeneration()
    {
        var first = Entry("first");
        var accepted = new AcceptedUcids(maxEntries: 1_000, maxChars: first.Ucid.Value.Length * 4L);
        accepted.Remember(first);
        for (var i = 0; i < 4; i++) accepted.Remember(Entry("next-" + i));

        Assert.Null(accepted.Find(first.Ucid.Value));
        Assert.True(accepted.Count <= 4, $"{accepted.Count} entries");
    }

    [Fact]
    public void Remember_UnderTheDefaultBounds_KeepsNineThousandPlayersWithRealSizedTokens()
    {
        // Real UCIDs are about 1,500 characters: the default bounds must hold a launch-day crowd without rotating, or
        // players still asking are parsed again on every rotation.
        var accepted = new AcceptedUcids();
        var padding = new string('x', 600);
        var entries = Enumerable.Range(0, 9_000).Select(i => Entry($"player-{i}-{padding}")).ToList();
        Assert.InRange(entries.Min(e => e.Ucid.Value.Length), 1_500, 2_000);
        Assert.InRange(entries.Max(e => e.Ucid.Value.Length), 1_500, 2_000);

        foreach (var entry in entries) accepted.Remember(entry);

        Assert.Equal(9_000, accepted.Count);
        Assert.Equal(9_000, entries.Count(e => ReferenceEquals(e, accepted.Find(e.Ucid.Value))));
    }

    [Fact]
    public void Find_WhenTokenIsNull_ReturnsNull() => Assert.Null(_accepted.Find(null));

    private static AcceptedUcids.Entry Entry(string userId) =>
        new(UserCollectionsId.TryParse(TestUcid.Create(Now, userId: userId), out _)!);
}
