using System.Text;
using System.Text.Json;
using EntitlementGateway.Api;
using EntitlementGateway.Store;
using EntitlementGateway.UnitTests.Infrastructure;

namespace EntitlementGateway.UnitTests.Api;

public class UcidTextTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 22, 12, 0, 0, TimeSpan.Zero);
    private readonly AcceptedUcids _accepted = new();
    private readonly string _token = TestUcid.Create(Now, userId: "player-1");
    private readonly AcceptedUcids.Entry _entry;

    public UcidTextTests()
    {
        _entry = new AcceptedUcids.Entry(UserCollectionsId.TryParse(_token, out _)!);
        _accepted.Remember(_entry);
    }

    private EntitlementQueryRequest ReadForThisGateway(string json) =>
        JsonSerializer.Deserialize(Encoding.UTF8.GetBytes(json), new EntitlementQueryJson(_accepted).Request)!;

    [Fact]
    public void QueryBody_WithAnAcceptedToken_IsTheRememberedEntry_FoundByTheBodysBytes()
    {
        var request = ReadForThisGateway($$"""{"userCollectionsId":"{{_token}}","products":[{"productId":"9N30KZZF4BR9"}]}""");

        Assert.Same(_entry, request.UserCollectionsId!.Remembered);
        Assert.False(request.UserCollectionsId.IsBlank);
        Assert.Equal(_token, request.UserCollectionsId.Text);
        Assert.Equal("9N30KZZF4BR9", Assert.Single(request.Products!).ProductId);
    }

    [Fact]
    public void QueryBody_WithANewToken_OrAnAcceptedOneWrittenWithEscapes_IsReadAsText()
    {
        var other = TestUcid.Create(Now, userId: "player-2");
        // \u0065 is 'e': the same token, so it must still be recognised, by its text, once unescaped.
        var escaped = "\\u00" + ((int)_token[0]).ToString("x2", System.Globalization.CultureInfo.InvariantCulture) + _token[1..];

        var fresh = ReadForThisGateway($$"""{"userCollectionsId":"{{other}}"}""").UserCollectionsId!;
        var unescaped = ReadForThisGateway($$"""{"userCollectionsId":"{{escaped}}"}""").UserCollectionsId!;

        Assert.Null(fresh.Remembered);
        Assert.Equal(other, fresh.Text);
        Assert.Null(unescaped.Remembered);
        Assert.Equal(_token, unescaped.Text);
        Assert.Same(_entry, _accepted.Find(unescaped.Text));
    }

    [Fact]
    public void QueryBody_ReadWithoutThisGatewaysTokens_IsText()
    {
        var request = JsonSerializer.Deserialize(Encoding.UTF8.GetBytes($$"""{"userCollectionsId":"{{_token}}"}"""),
            ApiJsonContext.Default.EntitlementQueryRequest)!;

        Assert.Null(request.UserCollectionsId!.Remembered);
        Assert.Equal(_token, request.UserCollectionsId.Text);
    }

    [Theory]
    [InlineData("""{"userCollectionsId":42}""")]
    [InlineData("""{"userCollectionsId":["a.b.c"]}""")]
    [InlineData("""{"userCollectionsId":{"token":"a.b.c"}}""")]
    [InlineData("""{"userCollectionsId":true}""")]
    public void QueryBody_WithAUcidThatIsNotAString_FailsNamingThePath(string json)
    {
        var error = Assert.Throws<JsonException>(() => ReadForThisGateway(json));

        Assert.Equal("$.userCollectionsId", error.Path);
        Assert.StartsWith("userCollectionsId must be a string.", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Converter_WritingNothingOrNowhere_IsRefusedByName()
    {
        using var stream = new MemoryStream();
        using var writer = new Utf8JsonWriter(stream);
        var converter = new UcidTextConverter();

        Assert.Equal("writer", Assert.Throws<ArgumentNullException>(() => converter.Write(null!, "a.b.c"!, JsonSerializerOptions.Default)).ParamName);
        Assert.Equal("value", Assert.Throws<ArgumentNullException>(() => converter.Write(writer, null!, JsonSerializerOptions.Default)).ParamName);
    }

    [Fact]
    public void QueryBody_WithAUcidThatCannotBeText_FailsAsJsonNamingThePath()
    {
        // Invalid UTF-8 and an escaped lone surrogate: read as text, both must be a JsonException (a 400), never another error.
        byte[] invalidUtf8 = [.. "{\"userCollectionsId\":\"ab"u8, 0xFF, 0xFE, .. "cd\"}"u8];
        var lone = Encoding.UTF8.GetBytes("""{"userCollectionsId":"ab\ud800cd"}""");
        var options = new EntitlementQueryJson(_accepted).Request;

        Assert.Equal("$.userCollectionsId", Assert.Throws<JsonException>(() => JsonSerializer.Deserialize(invalidUtf8, options)).Path);
        Assert.Equal("$.userCollectionsId", Assert.Throws<JsonException>(() => JsonSerializer.Deserialize(lone, options)).Path);
    }

    [Fact]
    public void QueryBody_WithANullUcid_HasNone()
    {
        Assert.Null(ReadForThisGateway("""{"userCollectionsId":null}""").UserCollectionsId);
        Assert.Null(ReadForThisGateway("{}").UserCollectionsId);
    }

    [Fact]
    public void QueryBody_IsWrittenWithTheUcidAsAString()
    {
        var remembered = ReadForThisGateway($$"""{"userCollectionsId":"{{_token}}"}""");

        var json = JsonSerializer.Serialize(remembered, ApiJsonContext.Default.EntitlementQueryRequest);
        var asText = JsonSerializer.Serialize(new EntitlementQueryRequest("a.b.c", null, null, null), ApiJsonContext.Default.EntitlementQueryRequest);

        Assert.Equal(_token, JsonDocument.Parse(json).RootElement.GetProperty("userCollectionsId").GetString());
        Assert.Equal("a.b.c", JsonDocument.Parse(asText).RootElement.GetProperty("userCollectionsId").GetString());
    }

    [Theory]
    [InlineData("", true)]
    [InlineData("   ", true)]
    [InlineData("\t\n", true)]
    [InlineData("a.b.c", false)]
    [InlineData(" a ", false)]
    public void IsBlank_IsTrueOnlyForEmptyOrWhiteSpaceText(string text, bool blank) =>
        Assert.Equal(blank, new UcidText(text).IsBlank);

    [Fact]
    public void Text_ConvertsFromAStringAndComparesByText()
    {
        UcidText? none = (string?)null;
        UcidText? some = "a.b.c";
        var remembered = ReadForThisGateway($$"""{"userCollectionsId":"{{_token}}"}""").UserCollectionsId!;

        Assert.Null(none);
        Assert.Equal("a.b.c", some!.Text);
        Assert.Equal("a.b.c", some.ToString());
        Assert.Equal(new UcidText(_token), remembered);
        Assert.Equal(new UcidText(_token).GetHashCode(), remembered.GetHashCode());
        Assert.NotEqual(new UcidText("a.b.d"), some);
        Assert.False(some.Equals("a.b.c"));
        Assert.Equal("text", Assert.Throws<ArgumentNullException>(() => new UcidText((string)null!)).ParamName);
        Assert.Equal("remembered", Assert.Throws<ArgumentNullException>(() => new UcidText(null!, [])).ParamName);
        Assert.Equal("ascii", Assert.Throws<ArgumentNullException>(() => new UcidText(_entry, null!)).ParamName);
    }
}
