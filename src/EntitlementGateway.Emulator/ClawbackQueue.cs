using System.Security.Cryptography;
using System.Text;

namespace EntitlementGateway.Emulator;

/// <summary>One message of the emulated clawback queue, as Azure Queue storage keeps it.</summary>
public sealed record QueueMessageView(
    string MessageId,
    DateTimeOffset InsertionTime,
    DateTimeOffset ExpirationTime,
    string? PopReceipt,
    DateTimeOffset TimeNextVisible,
    int DequeueCount,
    string MessageText);

/// <summary>What a Delete Message call found.</summary>
public enum QueueDeleteOutcome
{
    Deleted,
    /// <summary>No such message, or the pop receipt is no longer the message's current one (Azure answers 404).</summary>
    NotFound,
}

/// <summary>
/// The clawback event queue with Azure Queue storage semantics: Get Messages hides what it returns for a visibility
/// timeout and gives each a new pop receipt; only the latest pop receipt deletes; a message whose timeout ended is
/// visible again (and dequeued again with a new receipt); messages expire after a time to live (Azure's default is 7 days).
/// </summary>
public sealed class ClawbackQueue(TimeProvider time)
{
    /// <summary>Azure's default message time to live.</summary>
    public static readonly TimeSpan TimeToLive = TimeSpan.FromDays(7);

    private readonly object _lock = new();
    private readonly List<Entry> _messages = [];

    /// <summary>Adds a message with this (already base64) text; visible at once.</summary>
    public string Enqueue(string messageText)
    {
        var now = time.GetUtcNow();
        var entry = new Entry(Guid.NewGuid().ToString(), now, now + TimeToLive, messageText) { NextVisible = now };
        lock (_lock) _messages.Add(entry);
        return entry.Id;
    }

    /// <summary>Get Messages: up to <paramref name="count"/> visible messages, oldest first, hidden for <paramref name="visibility"/>.</summary>
    public IReadOnlyList<QueueMessageView> Get(int count, TimeSpan visibility)
    {
        var now = time.GetUtcNow();
        lock (_lock)
        {
            Expire(now);
            var taken = _messages.Where(m => m.NextVisible <= now).Take(count).ToList();
            foreach (var m in taken)
            {
                m.DequeueCount++;
                m.NextVisible = now + visibility;
                m.PopReceipt = Convert.ToBase64String(RandomNumberGenerator.GetBytes(12));
            }
            return taken.Select(m => m.View(m.PopReceipt)).ToList();
        }
    }

    /// <summary>Peek Messages: visible messages, without hiding them and without pop receipts.</summary>
    public IReadOnlyList<QueueMessageView> Peek(int count)
    {
        var now = time.GetUtcNow();
        lock (_lock)
        {
            Expire(now);
            return _messages.Where(m => m.NextVisible <= now).Take(count).Select(m => m.View(null)).ToList();
        }
    }

    /// <summary>Delete Message: only with the pop receipt of the latest Get of that message.</summary>
    public QueueDeleteOutcome Delete(string messageId, string popReceipt)
    {
        lock (_lock)
        {
            Expire(time.GetUtcNow());
            var entry = _messages.FirstOrDefault(m => m.Id == messageId);
            if (entry?.PopReceipt is not { } current ||
                !CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(current), Encoding.UTF8.GetBytes(popReceipt)))
                return QueueDeleteOutcome.NotFound;
            _messages.Remove(entry);
            return QueueDeleteOutcome.Deleted;
        }
    }

    /// <summary>Messages in the queue, visible or not.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                Expire(time.GetUtcNow());
                return _messages.Count;
            }
        }
    }

    public void Clear()
    {
        lock (_lock) _messages.Clear();
    }

    private void Expire(DateTimeOffset now) => _messages.RemoveAll(m => m.Expires <= now);

    private sealed class Entry(string id, DateTimeOffset inserted, DateTimeOffset expires, string text)
    {
        public string Id { get; } = id;
        public DateTimeOffset Expires { get; } = expires;
        public DateTimeOffset NextVisible { get; set; }
        public int DequeueCount { get; set; }
        public string? PopReceipt { get; set; }

        public QueueMessageView View(string? popReceipt) =>
            new(Id, inserted, Expires, popReceipt, NextVisible, DequeueCount, text);
    }
}
