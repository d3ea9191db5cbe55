namespace EntitlementGateway.Store.Resilience;

/// <summary>
/// Without player binding a player's budget key is a claim of the credential itself (<c>user-{userId}</c>,
/// <c>xbl-{userhash}</c>), which the Store alone can verify. Every attempt takes its unit before the Store answers, so a
/// burst of forged credentials naming a victim would hold the victim's units until the Store refused them (then they
/// are refunded), and the victim's own calls would meet 429 meanwhile. Calls whose credential the Store has not yet
/// answered for on this replica therefore go through here: at most <c>perKey</c> (<see cref="DefaultPerKey"/>) at once per budget key, the rest
/// wait their turn (bounded by the query's total timeout). A credential the Store has accepted never waits here.
/// </summary>
public sealed class UnprovenCallGate(TimeProvider time, int perKey = UnprovenCallGate.DefaultPerKey, int maxKeys = UnprovenCallGate.DefaultMaxKeys)
{
    /// <summary>Unproven calls one budget key may have at the Store at once, on one replica.</summary>
    public const int DefaultPerKey = 2;

    /// <summary>Keys gated at once; past it a call goes ungated (memory stays bounded whatever a client sends).</summary>
    public const int DefaultMaxKeys = 10_000;

    private sealed class Slot(int perKey)
    {
        public readonly SemaphoreSlim Turns = new(perKey, perKey);
        public int Users;
    }

    private readonly Dictionary<string, Slot> _slots = new(StringComparer.Ordinal);

    /// <summary>Keys with calls in or waiting at the gate now.</summary>
    public int Keys
    {
        get { lock (_slots) return _slots.Count; }
    }

    /// <summary>
    /// When a call that must wait for its turn stops waiting: at nine tenths of its <paramref name="total"/> time. A turn
    /// handed over just before the call's own time runs out would take a unit for a Store call cut off at once (its unit
    /// kept, since it may have been counted), and the queue's calls end together, so they would hand turns down the line.
    /// </summary>
    public DateTimeOffset StopWaitingAt(TimeSpan total) => time.GetUtcNow() + total * 0.9;

    /// <summary>
    /// Waits for a turn of <paramref name="key"/> until <paramref name="stopWaitingAt"/> (then a
    /// <see cref="OperationCanceledException"/>, as the call's own time running out); dispose the result when the call
    /// is over. Null: ungated.
    /// </summary>
    public async ValueTask<IDisposable?> EnterAsync(string key, DateTimeOffset? stopWaitingAt, CancellationToken cancellationToken)
    {
        Slot? slot;
        lock (_slots)
        {
            if (!_slots.TryGetValue(key, out slot))
            {
                if (_slots.Count >= maxKeys) return null;
                _slots[key] = slot = new Slot(perKey);
            }
            slot.Users++;
        }
        try
        {
            // A moment already past waits not at all (a patience of exactly -1 ms would otherwise mean for ever).
            var patience = stopWaitingAt is { } end ? TimeSpan.FromTicks(Math.Max(0, (end - time.GetUtcNow()).Ticks)) : Timeout.InfiniteTimeSpan;
            if (!await slot.Turns.WaitAsync(patience, cancellationToken))
                throw new OperationCanceledException("No turn at the Store came before this call's time ran out.");
        }
        catch
        {
            Leave(key, slot);
            throw;
        }
        return new Turn(this, key, slot);
    }

    private void Leave(string key, Slot slot)
    {
        lock (_slots)
        {
            if (--slot.Users == 0) _slots.Remove(key);
        }
    }

    private sealed class Turn(UnprovenCallGate gate, string key, Slot slot) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
            slot.Turns.Release();
            gate.Leave(key, slot);
        }
    }

    /// <summary>
    /// Whether a call for <paramref name="budgetKey"/> is unproven: the key is the credential's own claim (player binding
    /// off) and the Store has not answered for this UCID on this replica (an Xbox authorization is not remembered).
    /// </summary>
    public static bool IsUnproven(string? budgetKey, UserCollectionsId? ucid, AcceptedUcids accepted)
    {
        ArgumentNullException.ThrowIfNull(accepted);
        return budgetKey is not null &&
               (budgetKey.StartsWith("xbl-", StringComparison.Ordinal) || budgetKey.StartsWith("user-", StringComparison.Ordinal) && !accepted.Holds(ucid));
    }
}
