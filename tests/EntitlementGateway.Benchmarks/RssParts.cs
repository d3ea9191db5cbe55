using System.Globalization;

namespace EntitlementGateway.Benchmarks;

/// <summary>
/// A process's resident memory by what holds it, read from <c>/proc/&lt;pid&gt;/smaps</c>: the managed heap, the mapped
/// assemblies, the JIT's code and the runtime's type data, native libraries, and the rest (malloc arenas, thread stacks).
/// </summary>
internal sealed record RssParts(long GcHeap, long Assemblies, long JitAndTypes, long NativeLibraries, long Other)
{
    public long Total => GcHeap + Assemblies + JitAndTypes + NativeLibraries + Other;

    /// <summary>The parts of process <paramref name="pid"/> now; null when its smaps cannot be read.</summary>
    public static RssParts? Read(int pid)
    {
        try
        {
            return Parse(File.ReadLines($"/proc/{pid}/smaps"), File.ResolveLinkTarget($"/proc/{pid}/exe", returnFinalTarget: true)?.FullName);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>The parts in <paramref name="smaps"/>; the mappings of <paramref name="executable"/> count as code files
    /// beside the assemblies, since a native AOT build holds its code and type data there.</summary>
    internal static RssParts Parse(IEnumerable<string> smaps, string? executable = null)
    {
        var maps = new List<Mapping>();
        foreach (var line in smaps)
        {
            if (Mapping.TryParseHeader(line) is { } mapping) maps.Add(mapping);
            else if (line.StartsWith("Rss:", StringComparison.Ordinal) && maps.Count > 0)
                maps[^1] = maps[^1] with { RssBytes = long.Parse(line[4..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024 };
        }

        // The GC reserves one large anonymous range for its regions and commits them piece by piece, which splits it into
        // adjacent mappings: the run around the largest anonymous reservation is the managed heap.
        var heap = new HashSet<int>();
        var largest = -1;
        for (var i = 0; i < maps.Count; i++)
            if (maps[i].Anonymous && (largest < 0 || maps[i].Size > maps[largest].Size)) largest = i;
        if (largest >= 0)
        {
            heap.Add(largest);
            for (var i = largest - 1; i >= 0 && maps[i].Anonymous && maps[i].End == maps[i + 1].Start; i--) heap.Add(i);
            for (var i = largest + 1; i < maps.Count && maps[i].Anonymous && maps[i].Start == maps[i - 1].End; i++) heap.Add(i);
        }

        long gc = 0, assemblies = 0, jit = 0, native = 0, other = 0;
        for (var i = 0; i < maps.Count; i++)
        {
            var (path, rss) = (maps[i].Path, maps[i].RssBytes);
            if (heap.Contains(i)) gc += rss;
            // With W^X on (the default), the JIT's code and the loader heaps live in a memfd mapped twice.
            else if (path.Contains("doublemapper", StringComparison.Ordinal)) jit += rss;
            else if (path.EndsWith(".dll", StringComparison.Ordinal) || (executable is not null && path == executable)) assemblies += rss;
            else if (path.Contains(".so", StringComparison.Ordinal)) native += rss;
            else other += rss;
        }
        return new RssParts(gc, assemblies, jit, native, other);
    }

    public string Describe()
    {
        static string Mb(long bytes) => (bytes / 1048576.0).ToString("F0", CultureInfo.InvariantCulture);
        return $"{Mb(Total),5} MB: GC heap {Mb(GcHeap)}, assemblies or executable {Mb(Assemblies)}, JIT code and type data {Mb(JitAndTypes)}, native libraries {Mb(NativeLibraries)}, other {Mb(Other)}";
    }

    private sealed record Mapping(ulong Start, ulong End, string Path, long RssBytes)
    {
        public ulong Size => End - Start;
        public bool Anonymous => Path.Length == 0 || Path.StartsWith("[anon", StringComparison.Ordinal);

        /// <summary>A mapping's first line: <c>start-end perms offset dev inode [path]</c>; null for the field lines.</summary>
        public static Mapping? TryParseHeader(string line)
        {
            var fields = line.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length < 5 || fields[0].Contains(':', StringComparison.Ordinal)) return null;
            var range = fields[0].Split('-');
            if (range.Length != 2 ||
                !ulong.TryParse(range[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var start) ||
                !ulong.TryParse(range[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var end)) return null;
            return new Mapping(start, end, fields.Length == 6 ? fields[5].Trim() : "", 0);
        }
    }
}
