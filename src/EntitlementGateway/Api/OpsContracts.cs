using System.ComponentModel.DataAnnotations;

namespace EntitlementGateway.Api;

/// <summary>Why an operator changes something; written to the audit log with the operator's name.</summary>
/// <param name="Reason">1 to 500 characters, one line, e.g. a ticket number.</param>
public sealed record OpsActionRequest([property: Required] string? Reason);

/// <summary>The answer to dropping a player's cached answers.</summary>
/// <param name="Key">The player (budget key).</param>
/// <param name="AllReplicas">True when every replica drops them (Redis reached, or there is no Redis); false: only this replica did.</param>
/// <param name="Detail">What happened, in words.</param>
public sealed record CacheDropResult(string Key, bool AllReplicas, string Detail);
