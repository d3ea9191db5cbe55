using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using EntitlementGateway.Store;

namespace EntitlementGateway.Api;

/// <summary>
/// A <c>userCollectionsId</c> as a client sent it: its text, or, when the query body was read by
/// <see cref="EntitlementQueryJson"/> and the token is one the Store has accepted, the remembered entry found by the
/// body's own bytes, with a copy of those bytes. A cache hit then makes no string of the token (2.8 KB for a
/// 1,400-character UCID, against 1.4 KB for the bytes). In the API description it is a string.
/// </summary>
[JsonConverter(typeof(UcidTextConverter))]
public sealed class UcidText
{
    private string? _text;

    public UcidText(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        _text = text;
    }

    internal UcidText(AcceptedUcids.Entry remembered, byte[] ascii)
    {
        ArgumentNullException.ThrowIfNull(remembered);
        ArgumentNullException.ThrowIfNull(ascii);
        Remembered = remembered;
        _ascii = ascii;
    }

    private readonly byte[]? _ascii;

    /// <summary>The accepted token this text is, found by the body's bytes; null when it was read as text.</summary>
    public AcceptedUcids.Entry? Remembered { get; }

    /// <summary>The token's text (made from the body's bytes on first use).</summary>
    public string Text => _text ??= System.Text.Encoding.ASCII.GetString(_ascii!);

    /// <summary>The remembered entry's claims with this request's token (its text made only when something needs it).</summary>
    internal UserCollectionsId RememberedUcid() => Remembered!.Remembered(_ascii!);

    /// <summary>Empty or white space: no UCID was sent. A remembered token never is.</summary>
    public bool IsBlank => Remembered is null && string.IsNullOrWhiteSpace(_text);

    public static implicit operator UcidText?(string? text) => text is null ? null : new UcidText(text);

    public override string ToString() => Text;

    public override bool Equals(object? obj) => obj is UcidText other && Text == other.Text;

    public override int GetHashCode() => Text.GetHashCode(StringComparison.Ordinal);
}

/// <summary>
/// Reads a <see cref="UcidText"/> from a JSON string. With <paramref name="accepted"/> the value is first looked up by its
/// raw UTF-8 bytes among the accepted tokens; anything else (escapes, a new token) is read as text and checked as before.
/// </summary>
public sealed class UcidTextConverter(AcceptedUcids? accepted) : JsonConverter<UcidText>
{
    public UcidTextConverter() : this(null) { }

    public override UcidText Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.String) throw new JsonException("userCollectionsId must be a string.");
        // The raw bytes: an escaped value holds a '\', which no accepted token has, and a value split across buffers has an
        // empty ValueSpan; neither is found, and both are read as text below.
        if (accepted?.Find(reader.ValueSpan) is { } remembered) return new UcidText(remembered, reader.ValueSpan.ToArray());
        return new UcidText(reader.GetString()!);
    }

    public override void Write(Utf8JsonWriter writer, UcidText value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(value);
        writer.WriteStringValue(value.Text);
    }
}

/// <summary>
/// The query body's JSON metadata for this gateway: the source-generated contract, with userCollectionsId looked up among
/// this gateway's accepted tokens as it is read (<see cref="UcidTextConverter"/>).
/// </summary>
public sealed class EntitlementQueryJson
{
    public EntitlementQueryJson(AcceptedUcids accepted)
    {
        var options = new JsonSerializerOptions(ApiJsonContext.Default.Options);
        options.Converters.Add(new UcidTextConverter(accepted));
        Request = new ApiJsonContext(options).EntitlementQueryRequest;
    }

    public JsonTypeInfo<EntitlementQueryRequest> Request { get; }
}
