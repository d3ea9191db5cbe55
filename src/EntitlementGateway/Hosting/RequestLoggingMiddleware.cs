using System.Buffers;
using System.Collections.Frozen;
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

    /// <summary>A short segment that would take the logged path past this many characters is, with the rest of the path,
    /// one length and hash: a token split into short segments would otherwise be logged whole, a segment at a time.</summary>
    internal const int MaxLoggedPath = 128;

    // Any token is a valid HTTP method to Kestrel, so a UCID sent as the method would be logged whole; only these are
    // logged as they are (in their usual letter case), anything else as "_OTHER", the name OpenTelemetry gives it.
    private static readonly FrozenSet<string> StandardMethods = FrozenSet.Create(StringComparer.OrdinalIgnoreCase,
        HttpMethods.Get, HttpMethods.Head, HttpMethods.Post, HttpMethods.Put, HttpMethods.Delete, HttpMethods.Patch,
        HttpMethods.Options, HttpMethods.Trace, HttpMethods.Connect);

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
            LogRequest(logger, IsHealthyProbe(path, status) ? LogLevel.Debug : LogLevel.Information, LoggedMethod(context.Request.Method),
                LoggedPath(string.IsNullOrEmpty(path) ? "/" : path), status, elapsedMs);
        }
    }

    /// <summary>A probe of the gateway's own health endpoints that answered 200 (exact paths: nothing else is hidden).</summary>
    internal static bool IsHealthyProbe(string? path, int status) =>
        status == StatusCodes.Status200OK && path is "/health/live" or "/health/ready";

    /// <summary>The request's method as it is safe to log and to name a span with: a standard one, or "_OTHER".</summary>
    internal static string LoggedMethod(string method) => StandardMethods.TryGetValue(method, out var standard) ? standard : "_OTHER";

    /// <summary>
    /// The path as it is safe to log: any bytes a client sends can be a token (a UCID pasted into the URL) or a line
    /// break, so a segment longer than <see cref="MaxLoggedSegment"/> becomes its length and a short hash, and control
    /// characters are written percent-encoded, and past <see cref="MaxLoggedPath"/> characters the rest is one length and
    /// hash. The gateway's own paths pass unchanged, without a copy.
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
                AppendHash(logged, segment);
                continue;
            }
            if (logged.Length + segment.Length > MaxLoggedPath)
            {
                AppendHash(logged, string.Join('/', segments[i..]));
                break;
            }
            foreach (var c in segment)
            {
                if (Suspect.Contains(c)) logged.Append(Uri.EscapeDataString(c.ToString()));
                else logged.Append(c);
            }
        }
        return logged.ToString();
    }

    private static void AppendHash(StringBuilder logged, string text) =>
        logged.Append('[').Append(text.Length).Append(" characters, sha256 ")
            .Append(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..12]).Append(']');

    [LoggerMessage(EventId = EventIds.RequestCompleted, EventName = nameof(EventIds.RequestCompleted), Message = "HTTP {Method} {Path} responded {StatusCode} in {ElapsedMs:0.0} ms")]
    private static partial void LogRequest(ILogger logger, LogLevel level, string method, string path, int statusCode, double elapsedMs);
}
