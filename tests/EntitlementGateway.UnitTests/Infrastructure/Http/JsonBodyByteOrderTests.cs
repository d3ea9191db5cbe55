using System.Text;
using EntitlementGateway.Infrastructure.Http;

namespace EntitlementGateway.UnitTests.Infrastructure.Http;

public class JsonBodyByteOrderTests
{
    private const string Json = """{"userCollectionsId":"é"}""";

    private static Encoding Utf16(bool bigEndian) => new UnicodeEncoding(bigEndian, byteOrderMark: false);

    private static Encoding Utf32(bool bigEndian) => new UTF32Encoding(bigEndian, byteOrderMark: false);

    private static string Read(Encoding declared, byte[] body)
    {
        var (encoding, skip) = JsonBody.ByteOrder(declared, body);
        return encoding.GetString(body, skip, body.Length - skip);
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(false, true)]
    [InlineData(true, false)]
    [InlineData(true, true)]
    public void ByteOrder_AUtf16BodyWithoutAMark_IsReadInTheOrderItsFirstCharacterShows(bool labelBigEndian, bool writtenBigEndian)
    {
        var body = Utf16(writtenBigEndian).GetBytes(Json);

        Assert.Equal(Json, Read(Utf16(labelBigEndian), body));
        Assert.Equal(0, JsonBody.ByteOrder(Utf16(labelBigEndian), body).Skip);
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(false, true)]
    [InlineData(true, false)]
    [InlineData(true, true)]
    public void ByteOrder_AUtf32BodyWithoutAMark_IsReadInTheOrderItsFirstCharacterShows(bool labelBigEndian, bool writtenBigEndian)
    {
        var body = Utf32(writtenBigEndian).GetBytes(Json);

        Assert.Equal(Json, Read(Utf32(labelBigEndian), body));
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
    [InlineData(false)]
    [InlineData(true)]
    public void ByteOrder_AUtf32Mark_GivesTheOrder_AndIsSkipped(bool bigEndian)
    {
        var written = new UTF32Encoding(bigEndian, byteOrderMark: true);
        byte[] body = [.. written.GetPreamble(), .. written.GetBytes(Json)];

        var (encoding, skip) = JsonBody.ByteOrder(Utf32(!bigEndian), body);

        Assert.Equal((bigEndian ? 12001 : 12000, 4), (encoding.CodePage, skip));
    }

    [Fact]
    public void ByteOrder_AMarkWins_OverTheFirstCharacter()
    {
        // The mark says big-endian; the bytes after it would look little-endian only if the mark were read as text.
        byte[] body = [0xFE, 0xFF, .. Encoding.BigEndianUnicode.GetBytes(Json)];

        var (encoding, skip) = JsonBody.ByteOrder(Encoding.Unicode, body);

        Assert.Equal((1201, 2), (encoding.CodePage, skip));
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
        Assert.Equal(12001, JsonBody.ByteOrder(Utf32(bigEndian: true), body).Encoding.CodePage);
        Assert.Equal(12000, JsonBody.ByteOrder(Utf32(bigEndian: false), body).Encoding.CodePage);
    }
}
