namespace EntitlementGateway.Store;

/// <summary>Why a UCID was refused before any budget or upstream call.</summary>
public enum UcidProblem { None, Invalid, Expired }

/// <summary>
/// Pre-checks a UCID's claims: shape, audience, our client id, and its validity window. A token the Store has accepted
/// is not parsed again (<see cref="AcceptedUcids"/>); its claims are checked, against the clock, on every request.
/// </summary>
public sealed class UcidValidator(IStoreLocator endpoints, TimeProvider time, AcceptedUcids? accepted = null)
{
    private readonly AcceptedUcids _accepted = accepted ?? new AcceptedUcids();

    /// <summary>Tolerated clock difference between the Store and this host for <c>nbf</c>.</summary>
    public static readonly TimeSpan ClockSkew = TimeSpan.FromMinutes(1);

    public UcidProblem Validate(string? value, out UserCollectionsId? ucid, out string detail) =>
        Check(value, out _, out ucid, out detail);

    /// <summary>Remembers a UCID the Store has answered for, so its next request skips the parse.</summary>
    public void Accepted(AcceptedUcids.Entry entry) => _accepted.Remember(entry);

    /// <summary>
    /// As <see cref="Validate(string?, out UserCollectionsId?, out string)"/>, with the entry to pass to
    /// <see cref="Accepted"/>. <paramref name="ucid"/> carries this request's token (the entry holds only its claims).
    /// </summary>
    public UcidProblem Check(string? value, out AcceptedUcids.Entry? entry, out UserCollectionsId? ucid, out string detail)
    {
        entry = _accepted.Find(value);
        if (entry is not null) ucid = entry.For(value!);
        else
        {
            ucid = UserCollectionsId.TryParse(value, out var error);
            if (ucid is null) { detail = error!; return UcidProblem.Invalid; }
            entry = new AcceptedUcids.Entry(ucid);
        }
        return CheckClaims(ucid, out detail);
    }

    /// <summary>
    /// As <see cref="Check(string?, out AcceptedUcids.Entry?, out UserCollectionsId?, out string)"/> for a token already
    /// found among the accepted ones by its bytes (<paramref name="ucid"/>: the remembered claims with the request's
    /// token, <see cref="AcceptedUcids.Entry.Remembered"/>): its claims are checked against the clock, it is not parsed again.
    /// </summary>
    public UcidProblem CheckRemembered(UserCollectionsId ucid, out string detail)
    {
        ArgumentNullException.ThrowIfNull(ucid);
        return CheckClaims(ucid, out detail);
    }

    private UcidProblem CheckClaims(UserCollectionsId ucid, out string detail)
    {
        if (ucid.Audience != UserCollectionsId.CollectionsAudience)
        {
            detail = $"userCollectionsId has the wrong audience; expected '{UserCollectionsId.CollectionsAudience}'.";
            return UcidProblem.Invalid;
        }
        var clientId = endpoints.ClientId;
        if (!string.Equals(ucid.ClientId, clientId, StringComparison.OrdinalIgnoreCase))
        {
            detail = "userCollectionsId was not issued for this service's client id; get a new collections ticket and mint again.";
            return UcidProblem.Invalid;
        }
        if (ucid.Expires is null)
        {
            detail = "userCollectionsId has no 'exp' claim.";
            return UcidProblem.Invalid;
        }

        var now = time.GetUtcNow();
        if (ucid.Expires <= now)
        {
            detail = "userCollectionsId has expired; renew it or mint a new one.";
            return UcidProblem.Expired;
        }
        if (ucid.NotBefore is { } nbf && nbf > now + ClockSkew)
        {
            detail = "userCollectionsId is not valid yet ('nbf' is in the future).";
            return UcidProblem.Expired;
        }
        detail = "";
        return UcidProblem.None;
    }
}
