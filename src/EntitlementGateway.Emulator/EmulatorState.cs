using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace EntitlementGateway.Emulator;

/// <summary>
/// Everything the emulator knows: users and their entitlements, signing keys, TLS certificate, stats,
/// rate-limit logs, call audit and faults. Thread-safe; one instance may back several hosts at once.
/// </summary>
public sealed class EmulatorState : IDisposable
{
    /// <summary>Claim-name prefix of Store collections keys.</summary>
    public const string ClaimPrefix = "http://schemas.microsoft.com/marketplace/2015/08/claims/key/";
    /// <summary>iss and aud of a UCID.</summary>
    public const string UcidAudience = "https://collections.mp.microsoft.com/v6.0/keys";
    /// <summary>The Store's fixed renew URL, the default refreshUri claim.</summary>
    public const string RenewUri = "https://collections.mp.microsoft.com/v6.0/b2b/keys/renew";
    /// <summary>aud of the service access token the Collections endpoints require.</summary>
    public const string StoreAudience = "https://onestore.microsoft.com";
    /// <summary>Lifetime of access tokens, as Entra reports it.</summary>
    public const int AccessTokenLifetimeSeconds = 3599;
    /// <summary>
    /// Emulator-only claim of access tokens: their issue order, so that a revocation refuses exactly the tokens issued
    /// before it (iat has whole seconds only).
    /// </summary>
    public const string TokenSequenceClaim = "emulator_seq";

    private readonly Lazy<JwtSigner> _signer = new(() => new JwtSigner());
    private readonly Lazy<X509Certificate2> _certificate;
    private readonly object _faultLock = new();
    // Each item as its UTF-8 JSON text, parsed afresh for every reader: parsed nodes kept the seed's document buffers and,
    // once read, a dictionary of nodes per item, about ten times the text (tens of MB for a few thousand seeded players).
    private ConcurrentDictionary<string, byte[][]> _users = new(StringComparer.Ordinal);
    private ConcurrentDictionary<string, long> _queries = new(StringComparer.Ordinal);
    private ConcurrentDictionary<string, long> _consumes = new(StringComparer.Ordinal);
    private ConcurrentDictionary<string, long> _operations = new(StringComparer.Ordinal);
    private ConcurrentDictionary<string, long> _delegatedCalls = new(StringComparer.Ordinal);
    private ConcurrentDictionary<string, SlidingWindowLog> _logs = new(StringComparer.Ordinal);
    private ConcurrentDictionary<byte[], byte[]> _sharedItems = new(SameBytes.Instance);
    private readonly StoreRequestLog _requests = new();
    private FaultSettings _faults;
    // The connection a RefuseStreams fault met first; null until then, and again when the faults are set.
    private string? _refusingConnection;
    private long _rateLimited, _tokensIssued, _renewals, _faultsInjected, _protocolErrors, _serviceTokenRejections;
    private long _tokenSequence, _revokedThroughSequence, _managedIdentityTokens, _clawbackSasTokens;
    private readonly List<string> _federatedAssertions = [];

    /// <summary>Creates the state; <paramref name="options"/> are copied by reference and read live.</summary>
    public EmulatorState(EmulatorOptions? options = null)
    {
        Options = options ?? new EmulatorOptions();
        _faults = Options.Faults.Clone();
        _certificate = new(() => string.IsNullOrWhiteSpace(Options.CertificatePath)
            ? EmulatorTls.CreateSelfSignedCertificate(Time)
            : EmulatorTls.LoadOrCreateCertificate(Options.CertificatePath, Time));
        ClawbackQueue = new ClawbackQueue(Time);
        QueueSas = new QueueSas(Time);
    }

    /// <summary>The clawback event queue (Azure Queue semantics) behind <c>/emulator/queue/clawback</c>.</summary>
    public ClawbackQueue ClawbackQueue { get; }

    /// <summary>Issues and checks the queue's shared access signatures.</summary>
    public QueueSas QueueSas { get; }

    /// <summary>SAS URIs issued by the Store's clawback sastoken endpoint.</summary>
    public long ClawbackSasTokensIssued => Interlocked.Read(ref _clawbackSasTokens);

    internal void CountClawbackSasToken() => Interlocked.Increment(ref _clawbackSasTokens);

    /// <summary>The options this state runs with.</summary>
    public EmulatorOptions Options { get; }

    /// <summary>The emulator's clock.</summary>
    public TimeProvider Time => Options.TimeProvider ?? TimeProvider.System;

    /// <summary>The self-signed TLS certificate every host of this state serves (created on first use).</summary>
    public X509Certificate2 Certificate => _certificate.Value;

    internal JwtSigner Signer => _signer.Value;

    /// <summary>Replaces a user's collection (order kept, duplicates allowed). Items are copied.</summary>
    public void SeedEntitlements(string userId, IEnumerable<JsonObject> items)
    {
        ArgumentNullException.ThrowIfNull(items);
        _users[userId] = items.Select(i => ItemText(JsonSerializer.SerializeToUtf8Bytes(i, EmulatorJson.Default.JsonObject))).ToArray();
    }

    /// <summary>Distinct item texts shared between users, at most this many (a game's catalog has far fewer).</summary>
    internal const int MaxSharedItems = 1024;

    /// <summary>Items at most this long are shared; a longer one is kept as its user's own.</summary>
    internal const int MaxSharedItemBytes = 2048;

    /// <summary>
    /// The one copy of an item's text that every user holding the same item shares: a load test seeds thousands of players
    /// with the same few items, and one copy each was most of the emulator's memory. Texts are never changed in place (a
    /// consume replaces them), so sharing is safe. Bounded in count and size, so a stream of distinct items (each kept as its
    /// user's own past the bound) cannot make the table grow for ever; <see cref="Reset"/> empties it.
    /// </summary>
    internal byte[] ItemText(byte[] text)
    {
        if (text.Length > MaxSharedItemBytes) return text;
        var shared = _sharedItems;
        if (shared.TryGetValue(text, out var kept)) return kept;
        return shared.Count < MaxSharedItems ? shared.GetOrAdd(text, text) : text;
    }

    /// <summary>Distinct item texts currently shared (for tests).</summary>
    internal int SharedItems => _sharedItems.Count;

    private sealed class SameBytes : IEqualityComparer<byte[]>
    {
        public static readonly SameBytes Instance = new();

        public bool Equals(byte[]? x, byte[]? y) => x.AsSpan().SequenceEqual(y);

        public int GetHashCode(byte[] bytes)
        {
            var hash = new HashCode();
            hash.AddBytes(bytes);
            return hash.ToHashCode();
        }
    }

    /// <summary>A copy of a user's collection (empty when never seeded): the caller may change it.</summary>
    public IReadOnlyList<JsonObject> GetEntitlements(string userId) =>
        _users.TryGetValue(userId, out var items) ? Array.ConvertAll(items, i => JsonSerializer.Deserialize(i, EmulatorJson.Default.JsonObject)!) : [];

    /// <summary>Issues an RS256 access token as the token endpoint does (counted in tokensIssued).</summary>
    public string IssueAccessToken(string audience, string? clientId = null, string issuer = "https://sts.windows.net/00000000-0000-0000-0000-0000000e0000/")
    {
        var now = Time.GetUtcNow().ToUnixTimeSeconds();
        var token = Signer.Sign(new JsonObject
        {
            ["aud"] = audience,
            ["iss"] = issuer,
            ["iat"] = now,
            ["nbf"] = now,
            ["exp"] = now + AccessTokenLifetimeSeconds,
            ["appid"] = clientId ?? Options.ClientId,
            ["appidacr"] = "1",
            ["idtyp"] = "app",
            ["oid"] = Guid.NewGuid().ToString(),
            ["tid"] = "00000000-0000-0000-0000-0000000e0000",
            ["ver"] = "1.0",
            [TokenSequenceClaim] = Interlocked.Increment(ref _tokenSequence),
        });
        Interlocked.Increment(ref _tokensIssued);
        return token;
    }

    /// <summary>Mints a UserCollectionsId with the Store's claim names, signed by this emulator.</summary>
    public string MintUserCollectionsId(string userId, UcidMintRequest? request = null)
    {
        var now = Time.GetUtcNow().ToUnixTimeSeconds();
        var lifetime = request?.LifetimeSeconds ?? (long)TimeSpan.FromDays(Options.UcidLifetimeDays).TotalSeconds;
        return Signer.Sign(new JsonObject
        {
            ["iat"] = now,
            ["iss"] = UcidAudience,
            ["aud"] = UcidAudience,
            ["exp"] = now + lifetime,
            ["nbf"] = now + (request?.NotBeforeSeconds ?? 0),
            [ClaimPrefix + "clientId"] = request?.ClientId ?? Options.ClientId,
            [ClaimPrefix + "payload"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(96)),
            [ClaimPrefix + "userId"] = userId,
            [ClaimPrefix + "refreshUri"] = request?.RefreshUri ?? RenewUri,
        });
    }

    /// <summary>Counters since start or the last <see cref="Reset"/>.</summary>
    internal StatsResponse GetStats() => new(
        new SortedDictionary<string, long>(_queries, StringComparer.Ordinal),
        new SortedDictionary<string, long>(_consumes, StringComparer.Ordinal),
        Interlocked.Read(ref _rateLimited), Interlocked.Read(ref _tokensIssued),
        Interlocked.Read(ref _renewals), Interlocked.Read(ref _faultsInjected),
        Interlocked.Read(ref _protocolErrors), Interlocked.Read(ref _serviceTokenRejections),
        new SortedDictionary<string, long>(_operations, StringComparer.Ordinal),
        new SortedDictionary<string, long>(_delegatedCalls, StringComparer.Ordinal),
        Interlocked.Read(ref _managedIdentityTokens), FederatedAssertionIds);

    /// <summary>Calls per Store operation (<see cref="StoreOperation.Name"/>) that passed the request framing checks.</summary>
    public IReadOnlyDictionary<string, long> Operations => new Dictionary<string, long>(_operations, StringComparer.Ordinal);

    /// <summary>Calls per user made with an accepted delegated X-token (any operation).</summary>
    public IReadOnlyDictionary<string, long> DelegatedCallsByUser => new Dictionary<string, long>(_delegatedCalls, StringComparer.Ordinal);

    /// <summary>Mints a delegated Xbox authorization (Authorization and Signature header values) for a user.</summary>
    public (string Authorization, string Signature) MintXboxToken(string userId) => XboxTokens.Mint(this, userId);

    /// <summary>Tokens issued by the managed-identity endpoint.</summary>
    public long ManagedIdentityTokens => Interlocked.Read(ref _managedIdentityTokens);

    /// <summary>The ids (<c>jti</c>) of the federated client assertions the token endpoint accepted, in order.</summary>
    public IReadOnlyList<string> FederatedAssertionIds
    {
        get { lock (_federatedAssertions) return _federatedAssertions.ToArray(); }
    }

    internal void CountManagedIdentityToken() => Interlocked.Increment(ref _managedIdentityTokens);

    internal void RecordFederatedAssertion(string id)
    {
        lock (_federatedAssertions) _federatedAssertions.Add(id);
    }

    /// <summary>Query calls per user that reached the rate-limit stage (admitted or 429).</summary>
    public IReadOnlyDictionary<string, long> QueriesByUser => new Dictionary<string, long>(_queries, StringComparer.Ordinal);

    /// <summary>Consume calls per user that reached the rate-limit stage (admitted or 429).</summary>
    public IReadOnlyDictionary<string, long> ConsumesByUser => new Dictionary<string, long>(_consumes, StringComparer.Ordinal);

    /// <summary>Store-managed consumable balances and the trackingIds consumed.</summary>
    internal ConsumeBook Consumables { get; } = new();

    /// <summary>Query calls answered 429 by the per-user limit.</summary>
    public long RateLimitedCount => Interlocked.Read(ref _rateLimited);

    /// <summary>Access tokens issued.</summary>
    public long TokensIssued => Interlocked.Read(ref _tokensIssued);

    /// <summary>Successful UCID renewals.</summary>
    public long Renewals => Interlocked.Read(ref _renewals);

    /// <summary>Calls failed on purpose by fault injection.</summary>
    public long FaultsInjected => Interlocked.Read(ref _faultsInjected);

    /// <summary>Store requests refused for their framing: 411 (chunked or no Content-Length) or 415 (not application/json).</summary>
    public long ProtocolErrors => Interlocked.Read(ref _protocolErrors);

    /// <summary>Store calls answered 401 because of their service access token (missing, invalid, revoked or rejected).</summary>
    public long ServiceTokenRejections => Interlocked.Read(ref _serviceTokenRejections);

    /// <summary>The last 500 requests to the Store endpoints, oldest first (refused ones included).</summary>
    public IReadOnlyList<StoreRequestRecord> GetRequests() => _requests.Snapshot();

    /// <summary>
    /// Refuses, from now on, every access token issued before this call (with 401 on the Store endpoints); tokens issued
    /// later are accepted. <see cref="Reset"/> lifts it.
    /// </summary>
    public void RevokeIssuedTokens()
    {
        var issued = Interlocked.Read(ref _tokenSequence);
        long seen;
        // Never moves back: a revocation racing an older one keeps the later cut-off.
        do seen = Interlocked.Read(ref _revokedThroughSequence);
        while (seen < issued && Interlocked.CompareExchange(ref _revokedThroughSequence, issued, seen) != seen);
    }

    /// <summary>Whether a token with these claims was issued before the last <see cref="RevokeIssuedTokens"/>.</summary>
    internal bool IsRevoked(JsonObject claims)
    {
        var revokedThrough = Interlocked.Read(ref _revokedThroughSequence);
        if (revokedThrough == 0) return false;
        return claims[TokenSequenceClaim] is not JsonValue v || !v.TryGetValue<long>(out var seq) || seq <= revokedThrough;
    }

    /// <summary>Timestamps (ms precision, UTC) of a user's admitted query calls, oldest first: the last
    /// <see cref="SlidingWindowLog.AuditCapacity"/> of them.</summary>
    public IReadOnlyList<DateTimeOffset> GetAdmittedCalls(string userId) =>
        _logs.TryGetValue(userId, out var log) ? log.Audit() : [];

    /// <summary>
    /// The most admitted calls any rolling window (t - window, t] held for a user: must never exceed the limit. For the
    /// limiter's own window (the default) this covers every call ever admitted; for another window, the calls
    /// <see cref="GetAdmittedCalls"/> still holds.
    /// </summary>
    public int MaxCallsInAnyWindow(string userId, TimeSpan? window = null)
    {
        var w = window ?? TimeSpan.FromSeconds(Options.RateLimitWindowSeconds);
        if (w == TimeSpan.FromSeconds(Options.RateLimitWindowSeconds))
            return _logs.TryGetValue(userId, out var log) ? log.MaxInWindow : 0;
        var calls = GetAdmittedCalls(userId);
        int max = 0, start = 0;
        for (var end = 0; end < calls.Count; end++)
        {
            while (calls[start] <= calls[end] - w) start++;
            max = Math.Max(max, end - start + 1);
        }
        return max;
    }

    /// <summary>The faults in force now (a copy).</summary>
    public FaultSettings Faults
    {
        get { lock (_faultLock) return _faults.Clone(); }
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            lock (_faultLock)
            {
                _faults = value.Clone();
                _refusingConnection = null;
            }
        }
    }

    /// <summary>
    /// Forgets users, stats, rate-limit logs, the call and request audits, token revocations and the clawback queue, and clears faults.
    /// Keys and certificate stay.
    /// </summary>
    public void Reset()
    {
        _users = new(StringComparer.Ordinal);
        _sharedItems = new(SameBytes.Instance);
        _queries = new(StringComparer.Ordinal);
        _consumes = new(StringComparer.Ordinal);
        Consumables.Clear();
        _operations = new(StringComparer.Ordinal);
        _delegatedCalls = new(StringComparer.Ordinal);
        _logs = new(StringComparer.Ordinal);
        Interlocked.Exchange(ref _rateLimited, 0);
        Interlocked.Exchange(ref _tokensIssued, 0);
        Interlocked.Exchange(ref _renewals, 0);
        Interlocked.Exchange(ref _faultsInjected, 0);
        Interlocked.Exchange(ref _protocolErrors, 0);
        Interlocked.Exchange(ref _serviceTokenRejections, 0);
        Interlocked.Exchange(ref _revokedThroughSequence, 0);
        Interlocked.Exchange(ref _managedIdentityTokens, 0);
        lock (_federatedAssertions) _federatedAssertions.Clear();
        Interlocked.Exchange(ref _clawbackSasTokens, 0);
        _requests.Clear();
        ClawbackQueue.Clear();
        Faults = new FaultSettings();
    }

    /// <summary>The per-user stage of a query: counts the call, then asks the sliding log.</summary>
    internal RateDecision TryAdmitQuery(string userId) => TryAdmit(userId, _queries);

    /// <summary>The per-user stage of a consume: counted apart, limited by the same log (the Store limits every operation together).</summary>
    internal RateDecision TryAdmitConsume(string userId) => TryAdmit(userId, _consumes);

    private RateDecision TryAdmit(string userId, ConcurrentDictionary<string, long> counts)
    {
        counts.AddOrUpdate(userId, 1, (_, n) => n + 1);
        var log = _logs.GetOrAdd(userId, _ => new SlidingWindowLog());
        var decision = log.TryAdmit(Time.GetUtcNow(), Options.RateLimit, TimeSpan.FromSeconds(Options.RateLimitWindowSeconds));
        if (!decision.Allowed) Interlocked.Increment(ref _rateLimited);
        return decision;
    }

    /// <summary>
    /// The faults in force for this call (a copy) and whether the call fails on purpose; failNext is consumed atomically.
    /// </summary>
    /// <param name="connectionId">The call's connection: <see cref="FaultMode.RefuseStreams"/> fails only calls on the
    /// connection it first met.</param>
    internal (FaultSettings Settings, bool Fail) TakeFault(string? connectionId = null)
    {
        lock (_faultLock)
        {
            var fail = false;
            var onThisConnection = _faults.Mode != FaultMode.RefuseStreams || (_refusingConnection ??= connectionId) == connectionId;
            if (_faults.FailNext > 0 && onThisConnection)
            {
                _faults.FailNext--;
                fail = true;
            }
            else if (_faults.FailNext == 0 && _faults.FailureRate > 0 && onThisConnection && Random.Shared.NextDouble() < _faults.FailureRate)
            {
                fail = true;
            }
            if (fail) Interlocked.Increment(ref _faultsInjected);
            return (_faults.Clone(), fail);
        }
    }

    internal void CountOperation(StoreOperation operation) => _operations.AddOrUpdate(operation.Name, 1, (_, n) => n + 1);

    internal void CountDelegatedCall(string userId) => _delegatedCalls.AddOrUpdate(userId, 1, (_, n) => n + 1);

    internal void CountRenewal() => Interlocked.Increment(ref _renewals);

    internal void CountProtocolError() => Interlocked.Increment(ref _protocolErrors);

    internal void CountServiceTokenRejection() => Interlocked.Increment(ref _serviceTokenRejections);

    /// <summary>Records a Store request; <paramref name="body"/> is its body's bytes (the record's own body is ignored).</summary>
    internal void RecordRequest(StoreRequestRecord record, ReadOnlySpan<byte> body) => _requests.Add(record, body);

    /// <summary>Disposes keys and the certificate if they were created.</summary>
    public void Dispose()
    {
        if (_signer.IsValueCreated) _signer.Value.Dispose();
        if (_certificate.IsValueCreated) _certificate.Value.Dispose();
    }
}
