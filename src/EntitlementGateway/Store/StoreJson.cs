using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace EntitlementGateway.Store;

/// <summary>Reads Store answers as the documentation shows them, without trusting their shape.</summary>
public static class StoreJson
{
    /// <summary>One page; null for a JSON <c>null</c> body. Null entries in <c>items</c> are dropped. Throws
    /// <see cref="JsonException"/> when the body is not JSON or a field has a type no documented variant has.</summary>
    public static B2bLicensePreviewResponse? ReadPage(ReadOnlySpan<byte> body)
    {
        if (body.IsEmpty) return null;
        var page = JsonSerializer.Deserialize(body, StoreJsonContext.Default.B2bLicensePreviewResponse);
        // The reader makes a List for the property: dropped in place, so a page without nulls is not copied.
        if (page?.Items is List<StoreCollectionItem?> items) items.RemoveAll(static item => item is null);
        return page;
    }

    /// <summary>
    /// A trial's remaining time in either documented form: <c>DD:HH:MM:SS.MS</c> (four fields) or <c>HH:MM:SS.fffffff</c>
    /// (three), the latter also with days as a timespan writes them past one day (<c>D.HH:MM:SS.fffffff</c>); null when it
    /// is none of them.
    /// </summary>
    public static TimeSpan? ParseTrialTimeRemaining(string? value)
    {
        if (string.IsNullOrWhiteSpace(value)) return null;
        var parts = value.Trim().Split(':');
        if (parts.Length is < 3 or > 4) return null;
        var days = 0;
        if (parts.Length == 4 && !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out days)) return null;
        var o = parts.Length - 3;
        var dot = parts.Length == 3 ? parts[0].IndexOf('.') : -1;
        var dotted = dot > 0;
        if (dotted)
        {
            if (!int.TryParse(parts[0].AsSpan(0, dot), NumberStyles.None, CultureInfo.InvariantCulture, out days)) return null;
            parts[0] = parts[0][(dot + 1)..];
        }
        if (!int.TryParse(parts[o], NumberStyles.None, CultureInfo.InvariantCulture, out var hours) ||
            !int.TryParse(parts[o + 1], NumberStyles.None, CultureInfo.InvariantCulture, out var minutes) ||
            !decimal.TryParse(parts[o + 2], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var seconds))
            return null;
        if (minutes > 59 || seconds >= 60 || days > 100_000 || hours > 2_400_000 || dotted && hours > 23) return null;
        return TimeSpan.FromDays(days) + TimeSpan.FromHours(hours) + TimeSpan.FromMinutes(minutes) + TimeSpan.FromTicks((long)(seconds * TimeSpan.TicksPerSecond));
    }
}

/// <summary>
/// Store dates: ISO 8601 with up to seven fractional digits, UTC when no offset is written. The "forever" end date
/// <c>9999-12-31T23:59:59.9999999</c> with any offset (which overflows <see cref="DateTimeOffset"/>) is read as
/// <see cref="DateTimeOffset.MaxValue"/>.
/// </summary>
internal sealed class StoreDateConverter : JsonConverter<DateTimeOffset?>
{
    public override DateTimeOffset? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.String) throw new JsonException("A Store date must be a string.");
        // The reader gives a date without an offset the host's own offset; a Store date without one means UTC, whatever
        // the zone the gateway runs in (its clock time as written, as a DateTime of unspecified kind).
        if (reader.TryGetDateTimeOffset(out var value))
            return reader.TryGetDateTime(out var written) && written.Kind == DateTimeKind.Unspecified ? new DateTimeOffset(written, TimeSpan.Zero) : value;
        var text = reader.GetString()!;
        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out value)) return value;
        if (text.StartsWith("9999-12-31", StringComparison.Ordinal)) return DateTimeOffset.MaxValue;
        if (text.StartsWith("0001-01-01", StringComparison.Ordinal)) return DateTimeOffset.MinValue;
        throw new JsonException("A Store date is not ISO 8601.");
    }

    // Nulls never reach a converter that does not handle them: the serializer writes them itself.
    public override void Write(Utf8JsonWriter writer, DateTimeOffset? value, JsonSerializerOptions options) => writer.WriteStringValue(value!.Value);
}

/// <summary>
/// A consume's quantities (the new balance, what each order gave): a whole JSON number or a numeric string, within the
/// range of <see cref="int"/>. Anything else is not the documented answer: a consume's receipt must be exact.
/// </summary>
internal sealed class StoreQuantityConverter : JsonConverter<int?>
{
    public override int? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.Number when reader.TryGetDecimal(out var d) && decimal.Truncate(d) == d && d is >= int.MinValue and <= int.MaxValue:
                return (int)d;
            case JsonTokenType.String when int.TryParse(reader.GetString(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var s):
                return s;
            case JsonTokenType.Number or JsonTokenType.String:
                throw new JsonException("A Store quantity must be a whole number within the 32-bit range.");
            default: throw new JsonException("A Store quantity must be a number.");
        }
    }

    public override void Write(Utf8JsonWriter writer, int? value, JsonSerializerOptions options) => writer.WriteNumberValue(value!.Value);
}

/// <summary>
/// A query item's <c>quantity</c>: read so that one odd item never costs the player the rest of the page, and never
/// reports more than the Store holds. A whole number is read as it is; a fraction is rounded down; a number past the
/// 32-bit range is held at its end (the balance of a consumable is then at least that much); a numeric string is read
/// the same way; anything else (<c>true</c>, an object, text) is read as missing. What the player is told is decided
/// from the item's kind (<see cref="Entitlements.EntitlementFilter"/>): 1 for what is not a consumable, never below 0.
/// </summary>
internal sealed class StoreBalanceConverter : JsonConverter<int?>
{
    public override int? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.Number:
                return reader.TryGetDecimal(out var d) ? Clamp(d) : reader.TryGetDouble(out var huge) ? Clamp(huge) : null;
            case JsonTokenType.String when decimal.TryParse(reader.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var s):
                return Clamp(s);
            default:
                reader.Skip();
                return null;
        }
    }

    private static int Clamp(decimal value) => (int)Math.Clamp(decimal.Floor(value), int.MinValue, int.MaxValue);

    // Past decimal's range (about 7.9e28) only the sign matters.
    private static int Clamp(double value) => double.IsNegative(value) ? int.MinValue : int.MaxValue;

    public override void Write(Utf8JsonWriter writer, int? value, JsonSerializerOptions options) => writer.WriteNumberValue(value!.Value);
}

/// <summary>A text field that a Store may write as a string or a bare number; anything else (an object, an array, a
/// boolean) is skipped and read as null.</summary>
internal sealed class StoreTextConverter : JsonConverter<string?>
{
    public override string? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.String: return reader.GetString();
            case JsonTokenType.Number:
                using (var doc = JsonDocument.ParseValue(ref reader)) return doc.RootElement.GetRawText();
            default:
                reader.Skip();
                return null;
        }
    }

    public override void Write(Utf8JsonWriter writer, string? value, JsonSerializerOptions options) => writer.WriteStringValue(value);
}
