using EntitlementGateway.Store;

namespace EntitlementGateway.UnitTests.Store;

public class StoreCorrelationIdsTests
{
    [Fact]
    public void NewCorrelationId_IsARandomVersion4Guid_NeverTheSameTwice()
    {
        var ids = Enumerable.Range(0, 20_000).Select(_ => StoreWire.NewCorrelationId()).ToList();

        Assert.All(ids, id =>
        {
            Assert.Equal(4, id.Version);
            // RFC 9562 variant: the two high bits of the clock-sequence byte are 10.
            Assert.Equal(0x80, id.ToByteArray()[8] & 0xC0);
            Assert.Matches("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$", id.ToString());
        });
        Assert.Equal(ids.Count, ids.Distinct().Count());
        // Every other bit is random: each hex digit outside the fixed ones takes many values across the ids.
        var text = ids.Select(id => id.ToString("N")).ToList();
        for (var i = 0; i < 32; i++)
        {
            if (i is 12 or 16) continue; // the version digit, and the variant digit (four values)
            Assert.Equal(16, text.Select(t => t[i]).Distinct().Count());
        }
        Assert.Equal(4, text.Select(t => t[16]).Distinct().Count());
    }

    [Fact]
    public void NewCorrelationVector_Is22Base64CharactersWithoutPlusOrSlash_NeverTheSameTwice()
    {
        var vectors = Enumerable.Range(0, 20_000).Select(_ => StoreWire.NewCorrelationVector()).ToList();

        Assert.All(vectors, v => Assert.Matches("^[A-Za-z0-9]{22}$", v));
        Assert.Equal(vectors.Count, vectors.Distinct().Count());
        // The characters a '+' or '/' would have been are written as 'A' and 'B': both still appear in every position,
        // and so does every other letter and digit (the last position holds the last 2 bits: 4 values).
        for (var i = 0; i < 21; i++) Assert.Equal(62, vectors.Select(v => v[i]).Distinct().Count());
        Assert.Equal(4, vectors.Select(v => v[21]).Distinct().Count());
    }
}
