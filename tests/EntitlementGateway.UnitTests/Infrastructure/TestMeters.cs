using System.Diagnostics.Metrics;

namespace EntitlementGateway.UnitTests.Infrastructure;

/// <summary>A meter factory for one test: its meters are disposed with it, so listeners of other tests never see them.</summary>
public sealed class TestMeters : IMeterFactory
{
    private readonly List<Meter> _created = [];

    public Meter Create(MeterOptions options)
    {
        var meter = new Meter(options);
        lock (_created) _created.Add(meter);
        return meter;
    }

    /// <summary>Whether <paramref name="meter"/> is one of this factory's: a listener sees every meter in the process,
    /// those of tests running in parallel too.</summary>
    public bool Created(Meter meter)
    {
        lock (_created) return _created.Contains(meter);
    }

    public void Dispose()
    {
        lock (_created)
            foreach (var meter in _created) meter.Dispose();
    }
}
