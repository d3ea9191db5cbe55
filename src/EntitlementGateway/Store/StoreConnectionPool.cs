using System.Net;
using EntitlementGateway.Infrastructure.Logging;
using EntitlementGateway.Store.Resilience;
using Microsoft.Extensions.Options;

namespace EntitlementGateway.Store;

/// <summary>
/// The Collections calls' connections, replaced when they stop answering. Over HTTP/2 every call shares one pooled
/// connection, and an attempt timeout resets only its own stream: a connection that stalls while staying open (a peer
/// that stopped reading or writing, a flow-control window never opened), or one whose peer resets every new stream while
/// keeping it open (a front end at a per-connection memory or stream limit), would take every later call, retries
/// included, until its lifetime ends. So <see cref="FailuresBeforeRenewal"/> attempts in a row that timed out or whose
/// stream was reset on the current pool, with no answer from it between them, start a new pool; the old one is disposed
/// once every call that could still be on it has ended. A single slow or reset answer, among others that arrive, changes nothing.
/// </summary>
public sealed partial class StoreConnectionPool : IDisposable
{
    /// <summary>Two: one timeout or reset can be that call's; a second one in a row, with nothing answered between them, is
    /// the connection. With the default two retries the last attempt then goes out on a new connection.</summary>
    internal const int FailuresBeforeRenewal = 2;

    /// <summary>How long the calls stay on HTTP/1.1 after an HTTP/2 protocol error, before HTTP/2 is tried again (the
    /// front end may have changed).</summary>
    internal static readonly TimeSpan Http11Spell = TimeSpan.FromMinutes(10);

    private static readonly HttpRequestOptionsKey<Pool> SentOn = new("EntitlementGateway.StoreConnectionPool");

    private readonly Func<SocketsHttpHandler> _create;
    private readonly TimeSpan _drain;
    private readonly TimeProvider _time;
    private readonly ILogger<StoreConnectionPool> _logger;
    private readonly Lock _renewal = new();
    private Pool _current;
    private int _renewals;
    private long _http11Until;

    public StoreConnectionPool(IStoreLocator endpoints, IOptions<ResilienceOptions> resilience, TimeProvider time, ILogger<StoreConnectionPool> logger)
        : this(() => StoreTls.CreateHandler(endpoints), resilience.Value.TotalTimeout + TimeSpan.FromSeconds(5), time, logger)
    {
    }

    /// <summary>A pool made by <paramref name="create"/>; a replaced one is kept for <paramref name="drain"/>, the longest a
    /// call still on it can last.</summary>
    internal StoreConnectionPool(Func<SocketsHttpHandler> create, TimeSpan drain, TimeProvider time, ILogger<StoreConnectionPool> logger)
    {
        _create = create;
        _drain = drain;
        _time = time;
        _logger = logger;
        _current = new Pool(create());
    }

    /// <summary>How long a replaced pool is kept for the calls still on it.</summary>
    internal TimeSpan Drain => _drain;

    /// <summary>How many times the connections were replaced.</summary>
    public int Renewals
    {
        get { lock (_renewal) return _renewals; }
    }

    /// <summary>Whether the calls go over HTTP/1.1 whatever they ask for, after an HTTP/2 protocol error.</summary>
    public bool OnHttp11 => _time.GetUtcNow().UtcTicks < Interlocked.Read(ref _http11Until);

    /// <summary>
    /// An HTTP/2 attempt ended in a protocol error (PROTOCOL_ERROR): the Store's front end speaks HTTP/2 in a way this
    /// client does not take. The one known case is a frame of a type HTTP/2 does not define (an extension such as
    /// ORIGIN), which the protocol says to ignore but .NET's client ends the connection on, so every call over HTTP/2
    /// would fail the same way. The calls go over HTTP/1.1 for <see cref="Http11Spell"/>, retries of this one included.
    /// </summary>
    public void Http2ProtocolError(HttpRequestMessage request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Version < HttpVersion.Version20) return;
        var now = _time.GetUtcNow().UtcTicks;
        var previous = Interlocked.Exchange(ref _http11Until, now + Http11Spell.Ticks);
        if (previous <= now) LogOnHttp11(_logger, Http11Spell.TotalMinutes);
    }

    /// <summary>The primary handler of the Collections client: each request goes out on the current pool.</summary>
    public HttpMessageHandler CreateHandler() => new Sender(this);

    /// <summary>The Store answered <paramref name="request"/> (any status): the connection it went out on works.</summary>
    public static void Answered(HttpRequestMessage request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Options.TryGetValue(SentOn, out var pool)) Volatile.Write(ref pool.FailuresInARow, 0);
    }

    /// <summary>
    /// An attempt of <paramref name="request"/> timed out, or its stream was reset, before an answer; the second in a row
    /// on one pool replaces it. Returns whether the pool it went out on was still the one in use: when it was replaced
    /// already, the failure is the old connection's.
    /// </summary>
    public bool FailedWithoutAnswer(HttpRequestMessage request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!request.Options.TryGetValue(SentOn, out var pool)) return true;
        var inARow = Interlocked.Increment(ref pool.FailuresInARow);
        if (inARow < FailuresBeforeRenewal) return Volatile.Read(ref _current) == pool;
        lock (_renewal)
        {
            // Only the pool in use is replaced: later failures of calls still on an old one change nothing.
            if (_current != pool) return false;
            Volatile.Write(ref _current, new Pool(_create()));
            _renewals++;
        }
        LogRenewed(_logger, inARow);
        _ = RetireAsync(pool);
        return true;
    }

    private async Task RetireAsync(Pool pool)
    {
        try
        {
            await Task.Delay(_drain, _time);
        }
        finally
        {
            pool.Dispose();
        }
    }

    public void Dispose() => Volatile.Read(ref _current).Dispose();

    /// <summary>One pool of connections; the invoker disposes its handler, and with it the connections.</summary>
    private sealed class Pool(SocketsHttpHandler handler) : IDisposable
    {
        public readonly HttpMessageInvoker Invoker = new(handler, disposeHandler: true);
        public int FailuresInARow;

        public void Dispose() => Invoker.Dispose();
    }

    private sealed class Sender(StoreConnectionPool owner) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var pool = Volatile.Read(ref owner._current);
            request.Options.Set(SentOn, pool);
            if (request.Version >= HttpVersion.Version20 && owner.OnHttp11)
            {
                request.Version = HttpVersion.Version11;
                request.VersionPolicy = HttpVersionPolicy.RequestVersionOrLower;
            }
            return pool.Invoker.SendAsync(request, cancellationToken);
        }
    }

    [LoggerMessage(EventId = EventIds.StoreConnectionsRenewed, EventName = nameof(EventIds.StoreConnectionsRenewed), Level = LogLevel.Warning,
        Message = "Store connections replaced: {FailuresInARow} attempts in a row timed out or were reset on them with no answer between; calls still on the old ones keep them until they end")]
    private static partial void LogRenewed(ILogger logger, int failuresInARow);

    [LoggerMessage(EventId = EventIds.StoreOnHttp11, EventName = nameof(EventIds.StoreOnHttp11), Level = LogLevel.Warning,
        Message = "The Store's HTTP/2 connection broke the protocol as this client reads it (a frame of a type it does not know, or PROTOCOL_ERROR): Collections calls go over HTTP/1.1 for the next {Minutes} minutes")]
    private static partial void LogOnHttp11(ILogger logger, double minutes);
}
