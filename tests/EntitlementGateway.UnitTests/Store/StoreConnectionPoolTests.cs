using System.Net;
using System.Net.Sockets;
using EntitlementGateway.Store;
using EntitlementGateway.Store.Resilience;
using EntitlementGateway.UnitTests.Infrastructure;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EntitlementGateway.UnitTests.Store;

/// <summary>
/// The Collections calls' connection pool: which pool a request went out on, and when a pool is replaced. Requests go to
/// a loopback port where nothing listens (refused at once): the pool only has to have sent them.
/// </summary>
public sealed class StoreConnectionPoolTests : IDisposable
{
    private readonly List<SocketsHttpHandler> _made = [];
    private readonly WrittenLog<StoreConnectionPool> _log = new();
    private readonly StoreConnectionPool _pool;
    private readonly HttpMessageInvoker _client;
    private readonly Uri _nowhere = new($"http://127.0.0.1:{ClosedPort()}/");

    public StoreConnectionPoolTests()
    {
        _pool = new StoreConnectionPool(Make, TimeSpan.FromHours(1), TimeProvider.System, _log);
        _client = new HttpMessageInvoker(_pool.CreateHandler());
    }

    public void Dispose()
    {
        _client.Dispose();
        _pool.Dispose();
    }

    private SocketsHttpHandler Make()
    {
        var handler = new SocketsHttpHandler();
        lock (_made) _made.Add(handler);
        return handler;
    }

    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>A request sent through the pool (refused: nothing listens), as an attempt that went out on it.</summary>
    private async Task<HttpRequestMessage> SentAsync(HttpMessageInvoker? via = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, _nowhere);
        await Assert.ThrowsAsync<HttpRequestException>(() => (via ?? _client).SendAsync(request, CancellationToken.None));
        return request;
    }

    /// <summary>Whether a handler was disposed: a disposed one refuses to send instead of trying the port.</summary>
    private async Task<bool> DisposedAsync(SocketsHttpHandler handler)
    {
        using var invoker = new HttpMessageInvoker(handler, disposeHandler: false);
        try
        {
            await SentAsync(invoker);
            return false;
        }
        catch (Xunit.Sdk.ThrowsException e) when (e.InnerException is ObjectDisposedException)
        {
            return true;
        }
    }

    [Fact]
    public async Task Two_timeouts_in_a_row_replace_the_pool_once_and_say_so()
    {
        _pool.FailedWithoutAnswer(await SentAsync());
        Assert.Equal(0, _pool.Renewals);
        Assert.Single(_made);

        _pool.FailedWithoutAnswer(await SentAsync());

        Assert.Equal(1, _pool.Renewals);
        Assert.Equal(2, _made.Count);
        var line = Assert.Single(_log.Written);
        Assert.Equal(LogLevel.Warning, line.Level);
        Assert.Contains("2 attempts in a row timed out", line.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_failure_says_whether_its_pool_was_still_in_use()
    {
        var first = await SentAsync();
        var second = await SentAsync();
        var third = await SentAsync();

        Assert.True(_pool.FailedWithoutAnswer(first));
        Assert.True(_pool.FailedWithoutAnswer(second)); // the one that replaces it
        Assert.False(_pool.FailedWithoutAnswer(third)); // sent on the pool replaced meanwhile
        Assert.False(_pool.FailedWithoutAnswer(first));
        Assert.True(_pool.FailedWithoutAnswer(await SentAsync())); // the new pool's first
        Assert.Equal(1, _pool.Renewals);
        // A request that went out some other way is not known to be an old connection's.
        using var unsent = new HttpRequestMessage();
        Assert.True(_pool.FailedWithoutAnswer(unsent));
    }

    [Fact]
    public async Task An_answer_between_two_timeouts_keeps_the_pool()
    {
        _pool.FailedWithoutAnswer(await SentAsync());
        StoreConnectionPool.Answered(await SentAsync());
        _pool.FailedWithoutAnswer(await SentAsync());

        Assert.Equal(0, _pool.Renewals);
        Assert.Single(_made);
        Assert.Empty(_log.Written);
    }

    [Fact]
    public async Task Requests_after_a_renewal_go_out_on_the_new_pool_which_counts_its_own_timeouts()
    {
        var old = await SentAsync();
        _pool.FailedWithoutAnswer(old);
        _pool.FailedWithoutAnswer(old);

        _pool.FailedWithoutAnswer(await SentAsync()); // the new pool's first
        Assert.Equal(1, _pool.Renewals);
        _pool.FailedWithoutAnswer(await SentAsync());

        Assert.Equal(2, _pool.Renewals);
        Assert.Equal(3, _made.Count);
    }

    [Fact]
    public async Task Later_timeouts_of_calls_on_a_replaced_pool_change_nothing()
    {
        var first = await SentAsync();
        var second = await SentAsync();
        _pool.FailedWithoutAnswer(first);
        _pool.FailedWithoutAnswer(second);

        _pool.FailedWithoutAnswer(first);
        _pool.FailedWithoutAnswer(second);

        Assert.Equal(1, _pool.Renewals);
        Assert.Equal(2, _made.Count);
    }

    [Fact]
    public async Task An_answer_on_a_replaced_pool_does_not_reset_the_new_pools_count()
    {
        var old = await SentAsync();
        _pool.FailedWithoutAnswer(old);
        _pool.FailedWithoutAnswer(old);
        _pool.FailedWithoutAnswer(await SentAsync());

        StoreConnectionPool.Answered(old);
        _pool.FailedWithoutAnswer(await SentAsync());

        Assert.Equal(2, _pool.Renewals);
    }

    [Fact]
    public void A_request_that_never_went_out_through_the_pool_counts_for_nothing()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, _nowhere);

        _pool.FailedWithoutAnswer(request);
        _pool.FailedWithoutAnswer(request);
        StoreConnectionPool.Answered(request);

        Assert.Equal(0, _pool.Renewals);
        Assert.Single(_made);
    }

    [Fact]
    public async Task A_replaced_pool_is_disposed_after_the_drain_and_not_before()
    {
        using var pool = new StoreConnectionPool(Make, TimeSpan.FromMilliseconds(300), TimeProvider.System, _log);
        using var client = new HttpMessageInvoker(pool.CreateHandler());
        var request = await SentAsync(client);
        var old = _made[^1];
        pool.FailedWithoutAnswer(request);
        pool.FailedWithoutAnswer(request);

        Assert.False(await DisposedAsync(old));
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!await DisposedAsync(old) && DateTime.UtcNow < deadline) await Task.Delay(20);
        Assert.True(await DisposedAsync(old));
        Assert.False(await DisposedAsync(_made[^1]));
    }

    [Fact]
    public async Task Disposing_the_pool_disposes_its_current_connections()
    {
        var current = _made[^1];
        Assert.False(await DisposedAsync(current));

        _pool.Dispose();

        Assert.True(await DisposedAsync(current));
    }

    [Fact]
    public void A_replaced_pool_is_kept_as_long_as_a_call_can_last()
    {
        // The pipeline's total timeout, and the 5 s HttpClient's own timeout adds behind it.
        var resilience = new ResilienceOptions { TotalTimeoutSeconds = 7 };
        var store = new LiveStoreLocator(Options.Create(new StoreOptions { CollectionsBaseUrl = "https://store.example/", ClientId = "app" }));
        using var pool = new StoreConnectionPool(store, Options.Create(resilience), TimeProvider.System, _log);

        Assert.Equal(TimeSpan.FromSeconds(12), pool.Drain);
    }

    /// <summary>A pool on a clock the test moves, its client, and what it logs.</summary>
    private (StoreConnectionPool Pool, HttpMessageInvoker Client, ManualTimeProvider Time, WrittenLog<StoreConnectionPool> Log) OnManualClock()
    {
        var time = new ManualTimeProvider();
        var log = new WrittenLog<StoreConnectionPool>();
        var pool = new StoreConnectionPool(Make, TimeSpan.FromHours(1), time, log);
        return (pool, new HttpMessageInvoker(pool.CreateHandler()), time, log);
    }

    /// <summary>The version a request asking for <paramref name="version"/> goes out with.</summary>
    private async Task<Version> SentVersionAsync(HttpMessageInvoker client, Version version)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, _nowhere) { Version = version, VersionPolicy = HttpVersionPolicy.RequestVersionOrLower };
        await Assert.ThrowsAsync<HttpRequestException>(() => client.SendAsync(request, CancellationToken.None));
        return request.Version;
    }

    [Fact]
    public async Task An_HTTP2_protocol_error_sends_the_calls_over_HTTP11_for_ten_minutes_and_says_so_once()
    {
        var (pool, client, time, log) = OnManualClock();
        using var _ = pool;
        using var __ = client;
        Assert.Equal(HttpVersion.Version20, await SentVersionAsync(client, HttpVersion.Version20));
        Assert.False(pool.OnHttp11);

        pool.Http2ProtocolError(new HttpRequestMessage { Version = HttpVersion.Version20 });
        pool.Http2ProtocolError(new HttpRequestMessage { Version = HttpVersion.Version20 });

        Assert.True(pool.OnHttp11);
        Assert.Equal(HttpVersion.Version11, await SentVersionAsync(client, HttpVersion.Version20));
        Assert.Equal(HttpVersion.Version10, await SentVersionAsync(client, HttpVersion.Version10)); // never raised
        var warning = Assert.Single(log.Events);
        Assert.Equal((EntitlementGateway.Infrastructure.Logging.EventIds.StoreOnHttp11, LogLevel.Warning), (warning.Id, warning.Level));
        Assert.Contains("HTTP/1.1 for the next 10 minutes", warning.Text, StringComparison.Ordinal);

        // The spell counts from the latest error; once it is over, HTTP/2 is asked for again, and a new error says so again.
        time.Advance(StoreConnectionPool.Http11Spell - TimeSpan.FromTicks(1));
        Assert.True(pool.OnHttp11);
        time.Advance(TimeSpan.FromTicks(1));
        Assert.False(pool.OnHttp11);
        Assert.Equal(HttpVersion.Version20, await SentVersionAsync(client, HttpVersion.Version20));
        pool.Http2ProtocolError(new HttpRequestMessage { Version = HttpVersion.Version20 });
        Assert.Equal(2, log.Events.Count);
        Assert.Equal(TimeSpan.FromMinutes(10), StoreConnectionPool.Http11Spell);
    }

    [Fact]
    public void A_protocol_error_on_a_request_that_did_not_ask_for_HTTP2_changes_nothing()
    {
        var (pool, client, _, log) = OnManualClock();
        using var _ = pool;
        using var __ = client;

        pool.Http2ProtocolError(new HttpRequestMessage { Version = HttpVersion.Version11 });

        Assert.False(pool.OnHttp11);
        Assert.Empty(log.Events);
    }

    [Fact]
    public void Null_requests_are_refused()
    {
        Assert.Throws<ArgumentNullException>(() => _pool.Http2ProtocolError(null!));
        Assert.Throws<ArgumentNullException>(() => _pool.FailedWithoutAnswer(null!));
        Assert.Throws<ArgumentNullException>(() => StoreConnectionPool.Answered(null!));
    }
}
