using EntitlementGateway.Budget;

namespace EntitlementGateway.UnitTests.Budget;

public sealed class BudgetKeysTests
{
    [Fact]
    public void For_PutsTheUserKeyInOneHashTag_SharedByBothKeys()
    {
        var (log, blocked) = BudgetKeys.For("player-42");

        Assert.Equal("eg:budget:{player-42}", log);
        Assert.Equal("eg:budget:{player-42}:blocked", blocked);
    }

    [Theory]
    [InlineData("}")]
    [InlineData("a{b}c")]
    [InlineData("")]
    public void For_HashesKeysThatWouldBreakTheHashTag(string userKey)
    {
        var (log, _) = BudgetKeys.For(userKey);

        Assert.Matches("^eg:budget:\\{sha256:[0-9a-f]{64}\\}$", log);
        Assert.NotEqual(log, BudgetKeys.For(userKey + "x").Log);
    }

    [Fact]
    public void For_HashesLongKeys_Deterministically()
    {
        var longKey = new string('k', 500);

        Assert.Equal(BudgetKeys.For(longKey), BudgetKeys.For(longKey));
        Assert.True(BudgetKeys.For(longKey).Log.Length < 100);
    }

    [Fact]
    public void Tag_KeepsAKeyOfTheLongestPlainLength_AndHashesOneCharacterMore()
    {
        var longest = new string('k', 128);

        Assert.Equal(longest, BudgetKeys.Tag(longest));
        Assert.StartsWith("sha256:", BudgetKeys.Tag(longest + "k"), StringComparison.Ordinal);
    }

    [Fact]
    public void Tag_RefusesNoKey() => Assert.Throws<ArgumentNullException>(() => BudgetKeys.Tag(null!));
}
