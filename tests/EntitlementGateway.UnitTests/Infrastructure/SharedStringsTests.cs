using EntitlementGateway.Infrastructure;

namespace EntitlementGateway.UnitTests.Infrastructure;

/// <summary>
/// The table is process-wide: the tests that assert two reads share one instance do not run beside the one that floods
/// every slot (which would replace the first instance between the two reads).
/// </summary>
// Alone, not only one at a time: any other test's code may share a string into the slot a test is about to read again
// (seen once in CI: "Durable" replaced between two filter calls).
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SharedStringsCollection
{
    public const string Name = "SharedStrings";
}

[Collection(SharedStringsCollection.Name)]
public class SharedStringsTests
{
    // A copy with the same characters that is not the same instance (as every JSON read makes).
    private static string Copy(string value) => new(value.AsSpan());

    [Fact]
    public void Share_AnEqualValueAgain_ReturnsTheFirstInstance()
    {
        var first = Copy("9N30KZZF4BR9-" + Guid.NewGuid().ToString("N"));
        var second = Copy(first);
        Assert.NotSame(first, second);

        Assert.Same(first, SharedStrings.Share(first));
        Assert.Same(first, SharedStrings.Share(second));
    }

    [Fact]
    public void Share_ValuesUpToMaxLength_AreShared_LongerOnesAreReturnedAsTheyAre()
    {
        var longest = Copy(new string('a', SharedStrings.MaxLength - 36) + Guid.NewGuid().ToString());
        Assert.Equal(SharedStrings.MaxLength, longest.Length);
        SharedStrings.Share(longest);
        Assert.Same(longest, SharedStrings.Share(Copy(longest)));

        var tooLong = Copy(longest + "b");
        Assert.Same(tooLong, SharedStrings.Share(tooLong));
        var again = Copy(tooLong);
        Assert.Same(again, SharedStrings.Share(again));
    }

    [Fact]
    public void Share_Null_IsNull()
    {
        Assert.Null(SharedStrings.Share(null));
    }

    [Fact]
    public void Share_ManyDistinctValues_EveryAnswerEqualsItsValue()
    {
        // Far more values than slots: they collide, and a collision must never return another value.
        var values = Enumerable.Range(0, SharedStrings.Slots * 8).Select(i => $"product-{i}-{Guid.NewGuid():N}").ToArray();
        foreach (var value in values) Assert.Equal(value, SharedStrings.Share(value));
        foreach (var value in values) Assert.Equal(value, SharedStrings.Share(Copy(value)));
    }
}
