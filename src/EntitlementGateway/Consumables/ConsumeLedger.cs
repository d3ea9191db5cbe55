using System.Security.Cryptography;
using System.Text;

namespace EntitlementGateway.Consumables;

/// <summary>What a claim on a trackingId found.</summary>
public enum LedgerState
{
    /// <summary>New: the caller owns it and calls the Store.</summary>
    Claimed,
    /// <summary>Its last attempt's outcome was unknown (it may have reached the Store, which may still be applying it): the
    /// caller owns it and sends it again.</summary>
    Resumed,
    /// <summary>Its owner's lease ran out (the replica died mid-call): the caller owns it now and calls the Store again.</summary>
    TakenOver,
    /// <summary>Another request owns it and is calling the Store.</summary>
    Pending,
    /// <summary>Its outcome is recorded: answer that, with no Store call.</summary>
    Recorded,
    /// <summary>It was used for another request (another player, product or quantity).</summary>
    Reused,
}

/// <summary>A claim's answer; <paramref name="Outcome"/> is the recorded outcome (JSON) when <see cref="LedgerState.Recorded"/>;
/// <paramref name="FirstClaimedAt"/>, for <see cref="LedgerState.Resumed"/> and <see cref="LedgerState.TakenOver"/>, when the
/// trackingId was first claimed, so first sent (null when the ledger did not keep it).</summary>
public sealed record LedgerClaim(LedgerState State, string? Outcome = null, DateTimeOffset? FirstClaimedAt = null);

/// <summary>The ledger or its store (Redis) could not be reached: no consume is attempted without it.</summary>
public sealed class ConsumeLedgerUnavailableException(Exception? inner = null)
    : Exception("The consume ledger is unavailable.", inner);

/// <summary>
/// Each trackingId's request (a fingerprint of player, product and quantity) and outcome, so a consume happens once
/// however often, and wherever, it is asked for. States: pending (an owner and a lease), unknown (the last attempt's
/// outcome was not learnt: asking again resends it), recorded (a final outcome, replayed without a Store call).
/// </summary>
public interface IConsumeLedger
{
    /// <summary>Claims <paramref name="trackingId"/> for <paramref name="owner"/> unless it is pending, recorded or reused.</summary>
    Task<LedgerClaim> ClaimAsync(string trackingId, string fingerprint, string owner, CancellationToken cancellationToken);

    /// <summary>Records the final outcome (kept for Consume:RetentionDays).</summary>
    Task CompleteAsync(string trackingId, string fingerprint, string outcome, CancellationToken cancellationToken);

    /// <summary>The owner's attempt ended without a final outcome: the trackingId stays bound to its request, and the next
    /// claim with that request resends it.</summary>
    Task ReleaseAsync(string trackingId, string owner, CancellationToken cancellationToken);

    /// <summary>The owner's new claim ended with the Store provably not having acted on it (never sent, or refused for
    /// its credential): nothing is bound to the trackingId any more, and any request may claim it.</summary>
    Task ForgetAsync(string trackingId, string owner, CancellationToken cancellationToken);
}

public static class ConsumeFingerprint
{
    /// <summary>The request a trackingId is bound to: the player (budget key), product and quantity, hashed (no player id is kept).</summary>
    public static string Of(string budgetKey, string productId, int quantity) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(
            string.Join('\n', budgetKey, productId, quantity.ToString(System.Globalization.CultureInfo.InvariantCulture)))))[..32];
}
