using System.Diagnostics.Metrics;
using System.Text.RegularExpressions;

namespace EntitlementGateway.DeploymentTests.Infrastructure;

/// <summary>
/// The names Prometheus sees for an OpenTelemetry instrument, by the rules of the collector's Prometheus exporter
/// (metric suffixes on): every character outside [a-zA-Z0-9_:] becomes '_'; the unit, without {annotations}, is
/// appended in its Prometheus word (s → seconds, By → bytes, ...; the gateway uses no compound unit) unless the name already ends with it; a counter ends
/// in _total; a histogram is _bucket, _sum and _count.
/// </summary>
public static partial class PrometheusNames
{
    private static readonly Dictionary<string, string> Units = new(StringComparer.Ordinal)
    {
        ["s"] = "seconds", ["ms"] = "milliseconds", ["us"] = "microseconds", ["ns"] = "nanoseconds",
        ["min"] = "minutes", ["h"] = "hours", ["d"] = "days",
        ["By"] = "bytes", ["KiBy"] = "kibibytes", ["MiBy"] = "mebibytes", ["%"] = "percent",
    };

    public static IReadOnlyList<string> For(Instrument instrument)
    {
        ArgumentNullException.ThrowIfNull(instrument);
        var name = InvalidCharacters().Replace(instrument.Name, "_");
        var unit = Unit(instrument.Unit, instrument is ObservableGauge<int> or ObservableGauge<long> or ObservableGauge<double> or Gauge<int> or Gauge<long> or Gauge<double>);
        if (unit.Length > 0 && !name.EndsWith("_" + unit, StringComparison.Ordinal)) name += "_" + unit;
        var type = instrument.GetType().GetGenericTypeDefinition();
        if (type == typeof(Counter<>) || type == typeof(ObservableCounter<>)) return [name + "_total"];
        if (type == typeof(Histogram<>)) return [name + "_bucket", name + "_sum", name + "_count"];
        return [name];
    }

    private static string Unit(string? unit, bool gauge)
    {
        var plain = Annotation().Replace(unit ?? "", "").Trim();
        if (plain == "1") return gauge ? "ratio" : "";
        if (plain.Length == 0) return "";
        return Units.TryGetValue(plain, out var word) ? word : InvalidCharacters().Replace(plain, "_");
    }

    [GeneratedRegex("[^a-zA-Z0-9_:]")]
    private static partial Regex InvalidCharacters();

    [GeneratedRegex(@"\{[^}]*\}")]
    private static partial Regex Annotation();
}
