using EntitlementGateway.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace EntitlementGateway.UnitTests.Hosting;

/// <summary>The request line: one per request, written even when the request fails, with the path as it is safe to log.</summary>
public class RequestLoggingMiddlewareTests
{
    private sealed class Lines : ILogger<RequestLoggingMiddleware>
    {
        public List<(EventId Id, string Text)> Written { get; } = [];

        public List<LogLevel> Levels { get; } = [];

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            Written.Add((eventId, formatter(state, exception)));
            Levels.Add(logLevel);
        }
    }

    private static DefaultHttpContext Request(string path) => new() { Request = { Method = "POST", Path = path } };

    private static async Task<(LogLevel Level, string Text)> LogOf(string method, string path, int status)
    {
        var log = new Lines();
        var middleware = new RequestLoggingMiddleware(c => { c.Response.StatusCode = status; return Task.CompletedTask; }, log);
        await middleware.InvokeAsync(new DefaultHttpContext { Request = { Method = method, Path = path } });
        return (Assert.Single(log.Levels), Assert.Single(log.Written).Text);
    }

    [Theory]
    [InlineData("GET", "/health/live")]
    [InlineData("HEAD", "/health/ready")]
    public async Task AHealthyProbe_IsWrittenAtDebug_StillAsTheRequestLine(string method, string path)
    {
        var (level, text) = await LogOf(method, path, 200);

        Assert.Equal(LogLevel.Debug, level);
        Assert.StartsWith($"HTTP {method} {path} responded 200 in ", text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/health/ready", 503)]
    [InlineData("/health/live", 405)]
    [InlineData("/health/live/x", 200)]
    [InlineData("/health", 200)]
    [InlineData("/v1/entitlements/query", 200)]
    public async Task EveryOtherRequest_AndAFailingProbe_IsWrittenAtInformation(string path, int status)
    {
        var (level, text) = await LogOf("GET", path, status);

        Assert.Equal(LogLevel.Information, level);
        Assert.StartsWith($"HTTP GET {path} responded {status} in ", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ARequest_IsOneLine_WithMethodPathAndStatus()
    {
        var log = new Lines();
        var context = Request("/v1/entitlements/query");
        var middleware = new RequestLoggingMiddleware(c => { c.Response.StatusCode = 201; return Task.CompletedTask; }, log);

        await middleware.InvokeAsync(context);

        var (id, text) = Assert.Single(log.Written);
        Assert.Equal(EntitlementGateway.Infrastructure.Logging.EventIds.RequestCompleted, id.Id);
        Assert.StartsWith("HTTP POST /v1/entitlements/query responded 201 in ", text, StringComparison.Ordinal);
        Assert.EndsWith(" ms", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ARequestWithAnEmptyPath_IsLoggedAsTheRoot()
    {
        var log = new Lines();
        var middleware = new RequestLoggingMiddleware(_ => Task.CompletedTask, log);

        await middleware.InvokeAsync(new DefaultHttpContext { Request = { Method = "GET", Path = PathString.Empty } });

        Assert.StartsWith("HTTP GET / responded 200 in ", Assert.Single(log.Written).Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ARequestThatThrows_IsStillLogged_AndThePathIsTheSafeOne()
    {
        var log = new Lines();
        var token = new string('t', 1500);
        var middleware = new RequestLoggingMiddleware(_ => throw new InvalidOperationException("boom"), log);

        await Assert.ThrowsAsync<InvalidOperationException>(() => middleware.InvokeAsync(Request("/v1/" + token + "\r\nx")));

        var (_, text) = Assert.Single(log.Written);
        Assert.StartsWith("HTTP POST /v1/[1503 characters, sha256 ", text, StringComparison.Ordinal);
        Assert.DoesNotContain("tttt", text, StringComparison.Ordinal);
    }
}
