using System.Buffers;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using EntitlementGateway.Infrastructure.Logging;

namespace EntitlementGateway.Hosting;

/// <summary>
/// One line per request: method, path (never the query string), status, elapsed. A probe that finds the gateway healthy
/// is written at Debug: orchestrators probe every few seconds per replica, and those lines would bury the real traffic.
/// A failing probe stays at Information, because it marks a change an operator wants to see.
/// </summary>
public sealed partial class RequestLoggingMiddleware(RequestDelegate next, ILogger<RequestLoggingMiddleware> logger)
{
    /// <summary>No route of the gateway has a longer segment than this; a longer one is logged as its length and hash.</summary>
    internal const int MaxLoggedSegment = 64;

    // Control characters (a decoded %0D%0A would start a forged log line; ESC would drive a terminal), Unicode line
    // separators and the bidirectional overrides that make a line read otherwise than it is.
    private static readonly SearchValues<char> Suspect = SearchValues.Create(
        [.. Enumerable.Range(0, 0x20).Select(c => (char)c), (char)0x7F, .. Enumerable.Range(0x80, 0x20).Select(c => (char)c),
         '\u2028', '\u2029', .. Enumerable.Range(0x202A, 5).Select(c => (char)c), .. Enumerable.Range(0x2066, 4).Select(c => (char)c)]);

    public async Task InvokeAsync(HttpContext context)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            await next(context);
        }
        finally
        {
            var path = context.Request.Path.Value;
            var status = context.Response.StatusCode;
            var elapsedMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            LogRequest(logger, IsHealthyProbe(path, status) ? LogLevel.Debug : LogLevel.Information, context.Request.Method,
                LoggedPath(string.IsNullOrEmpty(path) ? "/" : path), status, elapsedMs);
        }
    }

    /// <summary>A probe of the gateway's own health endpoints that answered 200 (exact paths: nothing else is hidden).</summary>
    internal static bool IsHealthyProbe(string? path, int status) =>
        status == StatusCodes.Status200OK && path is "/health/live" or "/health/ready";

    /// <summary>
    /// The path as it is safe to log: any bytes a client sends can be a token (a UCID pasted into the URL) or a line
    /// break, so a segment longer than <see cref="MaxLoggedSegment"/> becomes its length and a short hash, and control
    /// characters are written percent-encoded. The gateway's own paths pass unchanged, without a copy.
    /// </summary>
    internal static string LoggedPath(string path)
    {
        if (path.Length <= MaxLoggedSegment && !path.AsSpan().ContainsAny(Suspect)) return path;
        var logged = new StringBuilder(Math.Min(path.Length, 256));
        var segments = path.Split('/');
        for (var i = 0; i < segments.Length; i++)
        {
            var segment = segments[i];
            if (i > 0) logged.Append('/');
            if (segment.Length > MaxLoggedSegment)
            {
                logged.Append('[').Append(segment.Length).Append(" characters, sha256 ")
                    .Append(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(segment)))[..12]).Append(']');
                continue;
            }
            foreach (var c in segment)
            {
                if (Suspect.Contains(c)) logged.Append(Uri.EscapeDataString(c.ToString()));
                else logged.Append(c);
            }
        }
        return logged.ToString();
    }

    [LoggerMessage(EventId = EventIds.RequestCompleted, EventName = nameof(EventIds.RequestCompleted), Message = "HTTP {Method} {Path} responded {StatusCode} in {ElapsedMs:0.0} ms")]
    private static partial void LogRequest(ILogger logger, LogLevel level, string method, string path, int statusCode, double elapsedMs);
}
