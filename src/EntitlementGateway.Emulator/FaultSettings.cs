using System.Text.Json.Serialization;

namespace EntitlementGateway.Emulator;

/// <summary>How an injected failure shows itself to the caller.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<FaultMode>))]
public enum FaultMode
{
    /// <summary>
    /// Answer with <see cref="FaultSettings.FailureStatus"/>, with a <c>Retry-After</c> for 429/503 in the
    /// <see cref="FaultSettings.RetryAfterFormat"/>.
    /// </summary>
    Status,

    /// <summary>Abort the connection without a response.</summary>
    Drop,

    /// <summary>
    /// Wait <see cref="FaultSettings.LatencyMs"/> (forever when 0) or until the caller gives up, then answer
    /// <see cref="FaultSettings.FailureStatus"/>.
    /// </summary>
    Hang,

    /// <summary>
    /// Answer 200 <c>application/json; charset=utf-8</c> with a <c>Content-Length</c> larger than what is written, write
    /// the start of a body (<c>{"items":[</c>), flush, then stay silent until the caller gives up or the host stops (or
    /// for <see cref="FaultSettings.LatencyMs"/> when it is above 0, then abort the connection).
    /// </summary>
    StallBody,

    /// <summary>Answer 200 with its headers and the start of a body flushed, then reset the connection.</summary>
    ResetBody,

    /// <summary>
    /// Answer 200 <c>text/html</c> with a proxy's HTML error page (<c>502 Bad Gateway</c>) and its <c>Content-Length</c>,
    /// as an intermediary in front of the Store may.
    /// </summary>
    GarbageBody,

    /// <summary>Wait <see cref="FaultSettings.LatencyMs"/>, then answer the call normally (the real answer).</summary>
    SlowHeaders,

    /// <summary>
    /// Do the work (a query is counted and admitted, a consume is applied), then reset the connection before any answer:
    /// the caller cannot tell whether it happened.
    /// </summary>
    LoseAnswer,

    /// <summary>
    /// Answer <c>307 Temporary Redirect</c> with <c>Location</c> set to <see cref="FaultSettings.RedirectTo"/>, as a
    /// compromised or misrouted front end may: a client that follows it sends the request, body and bearer token there.
    /// </summary>
    Redirect,

    /// <summary>
    /// Answer 200 <c>application/json</c> without a <c>Content-Length</c> (chunked) and write <c>{"items":[</c> and then
    /// white space without end, until the caller gives up or the host stops: a body no bound on the caller's side ends.
    /// </summary>
    EndlessBody,

    /// <summary>Answer 200 <c>application/json</c> with the body <c>null</c>: valid JSON, but not the documented object.</summary>
    NullBody,

    /// <summary>The real answer with 80 KiB of extra headers before it, more than an HTTP client reads by default (64 KiB).</summary>
    HugeHeaders,

    /// <summary>
    /// Over HTTP/2, reset the call's stream before any answer (<c>RST_STREAM</c> with <see cref="FaultSettings.StreamErrorCode"/>),
    /// as a front end that refuses new streams while keeping its connection open does; over HTTP/1.1, abort the connection.
    /// Only calls on the connection the fault first met fail (and count against <see cref="FaultSettings.FailNext"/>): a
    /// call on any other connection is answered.
    /// </summary>
    RefuseStreams,

    /// <summary>
    /// The real answer compressed with gzip (<c>Content-Encoding: gzip</c>, the compressed length as its
    /// <c>Content-Length</c>), though the call named no coding it accepts: HTTP lets a server choose any coding when the
    /// request has no <c>Accept-Encoding</c>, and a front end that compresses JSON may. Query, consume and renew answers.
    /// </summary>
    CompressedBody,
}

/// <summary>How the token endpoint answers while <see cref="FaultSettings.TokenAnswer"/> is set.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<TokenAnswer>))]
public enum TokenAnswer
{
    /// <summary>A token as Entra issues it.</summary>
    Normal,

    /// <summary>200 JSON with <c>token_type</c> and <c>expires_in</c> but no <c>access_token</c>.</summary>
    NoAccessToken,

    /// <summary>200 <c>text/html</c>: a proxy's error page instead of JSON.</summary>
    NotJson,

    /// <summary>A valid token whose <c>expires_in</c> (10^14 s) lies past the calendar.</summary>
    EndlessExpiry,

    /// <summary><c>307 Temporary Redirect</c> to <see cref="FaultSettings.RedirectTo"/>, before the credentials are read.</summary>
    Redirect,

    /// <summary>A valid token in a 16 MiB answer (an extra property padded with spaces): a broken or hostile endpoint.</summary>
    Huge,
}

/// <summary>How the <c>Retry-After</c> of a 429 or 503 <see cref="FaultMode.Status"/> failure is written.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<RetryAfterFormat>))]
public enum RetryAfterFormat
{
    /// <summary>Delay in whole seconds: <c>Retry-After: 5</c>.</summary>
    Seconds,

    /// <summary>
    /// An RFC 1123 date, now + <see cref="FaultSettings.RetryAfterSeconds"/> (<c>Retry-After: Sun, 29 Nov 2026 09:30:05 GMT</c>),
    /// with a <c>Date</c> header of the same clock.
    /// </summary>
    HttpDate,

    /// <summary>No <c>Retry-After</c> header at all.</summary>
    None,
}

/// <summary>
/// Latency and fault injection for the Store endpoints (everything under <c>/emulator/store/</c>), set with
/// <c>PUT /emulator/faults</c> (JSON, camelCase names) or <see cref="EmulatorOptions.Faults"/> at start-up.
/// <see cref="FailNext"/> and <see cref="FailureRate"/> choose which calls fail; <see cref="Mode"/> says how.
/// <see cref="LoopContinuation"/>, <see cref="RejectServiceTokens"/>, <see cref="LiteralContentType"/>, <see cref="SasUriOnly"/> and <see cref="TokenAnswer"/> apply to every call while
/// they are set.
/// </summary>
public sealed class FaultSettings
{
    /// <summary>
    /// <c>latencyMs</c>: extra latency for every Store call. In <see cref="FaultMode.Hang"/>, <see cref="FaultMode.SlowHeaders"/>
    /// and <see cref="FaultMode.StallBody"/> it is instead the failed call's own wait, and the other calls are not delayed.
    /// </summary>
    public int LatencyMs { get; set; }

    /// <summary><c>failNext</c>: fail exactly the next N calls (deterministic, for tests).</summary>
    public int FailNext { get; set; }

    /// <summary><c>failureRate</c>: probability in [0, 1] that any other call fails.</summary>
    public double FailureRate { get; set; }

    /// <summary><c>failureStatus</c>: status of a <see cref="FaultMode.Status"/> (or <see cref="FaultMode.Hang"/>) failure; 4xx or 5xx.</summary>
    public int FailureStatus { get; set; } = 500;

    /// <summary><c>retryAfterSeconds</c>: the delay a 429 or 503 failure announces in <c>Retry-After</c>.</summary>
    public int RetryAfterSeconds { get; set; } = 5;

    /// <summary><c>retryAfterFormat</c>: <c>Seconds</c> (default), <c>HttpDate</c> or <c>None</c>.</summary>
    public RetryAfterFormat RetryAfterFormat { get; set; } = RetryAfterFormat.Seconds;

    /// <summary>
    /// <c>mode</c>: how a failure shows itself: <c>Status</c> (default), <c>Drop</c>, <c>Hang</c>, <c>StallBody</c>,
    /// <c>ResetBody</c>, <c>GarbageBody</c>, <c>SlowHeaders</c>, <c>LoseAnswer</c>, <c>Redirect</c>, <c>EndlessBody</c>,
    /// <c>NullBody</c>, <c>HugeHeaders</c> or <c>RefuseStreams</c>.
    /// </summary>
    public FaultMode Mode { get; set; } = FaultMode.Status;

    /// <summary>
    /// <c>loopContinuation</c>: every query page returns the continuation token the first page returned (a first page
    /// returns one even when everything fitted), so a client that follows tokens never reaches the end.
    /// </summary>
    public bool LoopContinuation { get; set; }

    /// <summary>
    /// <c>rejectServiceTokens</c>: every service access token (the query's Bearer token, renew's <c>serviceTicket</c>)
    /// is refused with 401, even a freshly issued one, as when the Store no longer accepts the application's credentials.
    /// </summary>
    public bool RejectServiceTokens { get; set; }

    /// <summary>
    /// <c>literalContentType</c>: a body's <c>Content-Type</c> must be exactly <c>application/json</c>, the header table's
    /// only supported value read word for word (any parameter, even <c>charset=utf-8</c>, is a 415), as a front end that
    /// compares the header to the table does.
    /// </summary>
    public bool LiteralContentType { get; set; }

    /// <summary>
    /// <c>sasUriOnly</c>: the clawback sastoken answer holds only <c>uri</c>, the one field the documents name (no
    /// <c>expiresOn</c>); the SAS in it still carries its signed expiry.
    /// </summary>
    public bool SasUriOnly { get; set; }

    /// <summary>
    /// <c>tokenAnswer</c>: how every token request is answered while it is set: <c>Normal</c> (default),
    /// <c>NoAccessToken</c>, <c>NotJson</c>, <c>EndlessExpiry</c>, <c>Huge</c> or <c>Redirect</c> (to <see cref="RedirectTo"/>).
    /// </summary>
    public TokenAnswer TokenAnswer { get; set; } = TokenAnswer.Normal;

    /// <summary>
    /// <c>consumeApplyMs</c>: every consume takes this long to apply (0: at once). It is applied after the wait even when
    /// its caller has gone, and while it is applied a consume with the same user and trackingId is answered 409
    /// <c>TrackingIdConflict</c> ("is being processed"), as an idempotency-keyed service answers an in-flight duplicate.
    /// </summary>
    public int ConsumeApplyMs { get; set; }

    /// <summary><c>renewedUserId</c>: every renewal answers a key for this user instead of the key's own, as a front end
    /// that mixes up answers would.</summary>
    public string? RenewedUserId { get; set; }

    /// <summary><c>renewedClientId</c>: every renewal answers a key naming this application instead of the key's own.</summary>
    public string? RenewedClientId { get; set; }

    /// <summary><c>renewedLifetimeSeconds</c>: every renewal answers a key with this lifetime from now (negative: one that
    /// has already expired, as a Store whose clock is wrong, or a cache in front of it, would hand out).</summary>
    public long? RenewedLifetimeSeconds { get; set; }

    /// <summary><c>redirectTo</c>: the absolute URL a <see cref="FaultMode.Redirect"/> failure points at.</summary>
    public string? RedirectTo { get; set; }

    /// <summary><c>streamErrorCode</c>: the HTTP/2 error code of a <see cref="FaultMode.RefuseStreams"/> reset: 7
    /// (<c>REFUSED_STREAM</c>, the default: the request was not processed) or another, such as 11 (<c>ENHANCE_YOUR_CALM</c>).</summary>
    public int StreamErrorCode { get; set; } = 7;

    /// <summary>A copy, so callers never share a mutable instance with the live state.</summary>
    public FaultSettings Clone() => (FaultSettings)MemberwiseClone();

    /// <summary>Whether <see cref="LatencyMs"/> is the failed call's own wait rather than every call's extra latency.</summary>
    internal bool LatencyIsTheFaultsOwn => Mode is FaultMode.Hang or FaultMode.SlowHeaders or FaultMode.StallBody;

    private const long TenYearsSeconds = 10L * 365 * 24 * 3600;

    internal string? Validate()
    {
        if (LatencyMs < 0) return "latencyMs must be >= 0.";
        if (ConsumeApplyMs is < 0 or > 60_000) return "consumeApplyMs must be between 0 and 60000.";
        if (RenewedLifetimeSeconds is < -TenYearsSeconds or > TenYearsSeconds) return $"renewedLifetimeSeconds must be between -{TenYearsSeconds} and {TenYearsSeconds}.";
        if (FailNext < 0) return "failNext must be >= 0.";
        if (FailureRate is < 0 or > 1 || double.IsNaN(FailureRate)) return "failureRate must be within [0, 1].";
        if (FailureStatus is < 400 or > 599) return "failureStatus must be a 4xx or 5xx status.";
        if (RetryAfterSeconds < 0) return "retryAfterSeconds must be >= 0.";
        if (StreamErrorCode is < 0 or > 0xd) return "streamErrorCode must be an HTTP/2 error code, 0 to 13.";
        // The string converter also takes numbers: an undefined one must not slip through.
        if (!Enum.IsDefined(Mode)) return $"mode must be one of {string.Join(", ", Enum.GetNames<FaultMode>())}.";
        if (!Enum.IsDefined(RetryAfterFormat))
            return $"retryAfterFormat must be one of {string.Join(", ", Enum.GetNames<RetryAfterFormat>())}.";
        if (!Enum.IsDefined(TokenAnswer)) return $"tokenAnswer must be one of {string.Join(", ", Enum.GetNames<TokenAnswer>())}.";
        if ((Mode == FaultMode.Redirect || TokenAnswer == TokenAnswer.Redirect) &&
            !(Uri.TryCreate(RedirectTo, UriKind.Absolute, out var target) && (target.Scheme == Uri.UriSchemeHttps || target.Scheme == Uri.UriSchemeHttp)))
            return "redirectTo must be an absolute http(s) URL when mode or tokenAnswer is Redirect.";
        return null;
    }
}
