using System.Diagnostics.CodeAnalysis;

namespace EntitlementGateway.Infrastructure;

/// <summary>
/// One instance for values that repeat across players (product and SKU ids, kinds, a UCID's client id, audience and
/// refresh URI), so each cached player holds a reference instead of a copy. A fixed table keeping the last value seen
/// per slot: whatever values arrive, it holds at most <see cref="Slots"/> strings of at most <see cref="MaxLength"/>
/// characters. Races between threads only cost a missed share.
/// </summary>
public static class SharedStrings
{
    public const int Slots = 1024;

    /// <summary>Longer values are returned as they are: they are not the repeating kind, and the table stays small.</summary>
    public const int MaxLength = 256;

    private static readonly string?[] Table = new string?[Slots];

    /// <summary>The held instance equal to <paramref name="value"/>, or <paramref name="value"/> itself (now held).</summary>
    [return: NotNullIfNotNull(nameof(value))]
    public static string? Share(string? value)
    {
        if (value is null || value.Length > MaxLength) return value;
        ref var slot = ref Table[value.GetHashCode() & (Slots - 1)];
        var held = Volatile.Read(ref slot);
        if (held is not null && string.Equals(held, value, StringComparison.Ordinal)) return held;
        Volatile.Write(ref slot, value);
        return value;
    }
}
