using System.Text;

namespace EntitlementGateway.IntegrationTests.Infrastructure;

/// <summary>One HTTP/1.1 request read off a raw connection by the tests' hand-written Stores.</summary>
public static class RawHttp11Request
{
    /// <summary>Reads a request's head and its Content-Length body; the head's lines, or null when the peer closed the
    /// connection first.</summary>
    public static async Task<string[]?> ReadAsync(Stream stream)
    {
        var head = new List<byte>();
        var one = new byte[1];
        while (head.Count < 4 || head[^4] != '\r' || head[^3] != '\n' || head[^2] != '\r' || head[^1] != '\n')
        {
            if (await stream.ReadAsync(one) == 0) return null;
            head.Add(one[0]);
        }
        var lines = Encoding.ASCII.GetString([.. head]).Split("\r\n");
        var length = 0;
        foreach (var line in lines)
            if (line.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase))
                length = int.Parse(line[15..].Trim(), System.Globalization.CultureInfo.InvariantCulture);
        await stream.ReadExactlyAsync(new byte[length]);
        return lines;
    }
}
