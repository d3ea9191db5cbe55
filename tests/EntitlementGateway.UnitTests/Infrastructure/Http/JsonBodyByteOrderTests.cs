using System.Text;
using EntitlementGateway.Infrastructure.Http;

namespace EntitlementGateway.UnitTests.Infrastructure.Http;

public class JsonBodyByteOrderTests
{
    private const string Json = """{"userCollectionsId":"é"}""";

    private static Encoding Unicode(int width, bool bigEndian, bool mark = false) =>
        width == 2 ? new UnicodeEncoding(bigEndian, mark) : new UTF32Encoding(bigEndian, mark);

    [Theory]
    [InlineData(2, false, false)]
    [InlineData(2, false, true)]
    [InlineData(2, true, false)]
    [InlineData(2, true, true)]
    [InlineData(4, false, false)]
    [InlineData(4, false, true)]
    [InlineData(4, true, false)]
    [InlineData(4, true, true)]
    public void ByteOrder_ABodyWithoutAMark_IsReadInTheOrderItsFirstCharacterShows(int width, bool labelBigEndian, bool writtenBigEndian)
    {
        var body = Unicode(width, writtenBigEndian).GetBytes(Json);

        var (encoding, skip) = JsonBody.ByteOrder(Unicode(width, labelBigEndian), body);

        Assert.Equal(Json, encoding.GetString(body));
        Assert.Equal(0, skip);
    }

    [Theory]
    [InlineData(" {}")]
    [InlineData("\t[]")]
    [InlineData("\"x\"")]
    [InlineData("1")]
    public void ByteOrder_ABigEndianBodyLabelledPlainUtf16_StartingWithAnyJsonCharacter_IsReadBigEndian(string json)
    {
        // .NET's "utf-16" is little-endian; the charset's own definition reads an unmarked "UTF-16" big-endian.
        var body = Encoding.BigEndianUnicode.GetBytes(json);

        var (encoding, _) = JsonBody.ByteOrder(Encoding.GetEncoding("utf-16"), body);

        Assert.Equal(1201, encoding.CodePage);
    }

    [Theory]
    [InlineData(2, false, 1200)]
    [InlineData(2, true, 1201)]
    [InlineData(4, false, 12000)]
    [InlineData(4, true, 12001)]
    public void ByteOrder_AMarkGivesTheOrder_OverTheLabelAndTheFirstCharacter_AndIsSkipped(int width, bool bigEndian, int codePage)
    {
        // Labelled with the other order: the mark, not the label, gives the order, and is not part of the text.
        var written = Unicode(width, bigEndian, mark: true);
        byte[] body = [.. written.GetPreamble(), .. written.GetBytes(Json)];

        var (encoding, skip) = JsonBody.ByteOrder(Unicode(width, !bigEndian), body);

        Assert.Equal((codePage, width), (encoding.CodePage, skip));
    }

    [Theory]
    [InlineData(new byte[] { 0x00, 0x00 })]
    [InlineData(new byte[] { 0xE9, 0x00 })]
    [InlineData(new byte[] { 0x80, 0x00 })]
    [InlineData(new byte[] { 0x7B, 0x22 })]
    [InlineData(new byte[] { 0x7B })]
    [InlineData(new byte[0])]
    public void ByteOrder_AFirstCodeUnitThatIsNoAsciiCharacterInEitherOrder_KeepsTheLabelsOrder(byte[] body)
    {
        Assert.Equal(1201, JsonBody.ByteOrder(Encoding.BigEndianUnicode, body).Encoding.CodePage);
        Assert.Equal(1200, JsonBody.ByteOrder(Encoding.Unicode, body).Encoding.CodePage);
    }

    [Fact]
    public void ByteOrder_ABodyOfOneCodeUnit_IsEnoughToTellTheOrder()
    {
        Assert.Equal(1200, JsonBody.ByteOrder(Encoding.BigEndianUnicode, [0x7B, 0x00]).Encoding.CodePage);
        Assert.Equal(12001, JsonBody.ByteOrder(Encoding.UTF32, [0x00, 0x00, 0x00, 0x7B]).Encoding.CodePage);
    }

    [Theory]
    [InlineData(new byte[] { 0x7B, 0x00, 0x00, 0x01 })]
    [InlineData(new byte[] { 0x01, 0x00, 0x00, 0x7B })]
    [InlineData(new byte[] { 0x80, 0x00, 0x00, 0x00 })]
    [InlineData(new byte[] { 0x7B, 0x00, 0x00 })]
    public void ByteOrder_AUtf32FirstUnitWithAnyOtherNonZeroByte_KeepsTheLabelsOrder(byte[] body)
    {
        Assert.Equal(12001, JsonBody.ByteOrder(Unicode(4, bigEndian: true), body).Encoding.CodePage);
        Assert.Equal(12000, JsonBody.ByteOrder(Unicode(4, bigEndian: false), body).Encoding.CodePage);
    }
}
