using System.Globalization;
using System.Net;

namespace EntitlementGateway.Clawback;

/// <summary>What a queue call found.</summary>
public enum QueueCallStatus
{
    Ok,
    /// <summary>403: the SAS is refused (expired, revoked): get a new one.</summary>
    AccessRefused,
    /// <summary>Delete: the message is gone or the pop receipt is no longer its current one (another reader has it).</summary>
    NotFound,
    Failed,
}

/// <summary>
/// The Azure Queue service REST API over plain HTTP, authorised by the SAS query string of the URI the Store gave:
/// Get Messages (<c>GET {queue}/messages?numofmessages=&amp;visibilitytimeout=</c>) and Delete Message
/// (<c>DELETE {queue}/messages/{id}?popreceipt=</c>), with the <c>x-ms-version</c> header. No service token and no
/// budget unit: the queue is Azure Storage, not a per-player Store operation.
/// </summary>
public sealed class AzureQueueClient(HttpClient http, TimeSpan? callTimeout = null)
{
    /// <summary>The storage service version asked for (the one the Store's SAS names).</summary>
    public const string Version = "2021-10-04";
    private const long MaxAnswerBytes = 4 * 1024 * 1024;

    /// <summary>
    /// How long one call may take, its answer's body included. The client's own timeout ends at the headers: a queue (or
    /// a proxy before it) that sends headers and then stalls would hold the reader, and with it every refund, for good.
    /// </summary>
    public TimeSpan CallTimeout { get; } = callTimeout ?? TimeSpan.FromSeconds(30);

    public async Task<(QueueCallStatus Status, IReadOnlyList<QueueMessage> Messages, string Detail)> GetMessagesAsync(
        QueueAccess access, int count, TimeSpan visibility, CancellationToken cancellationToken)
    {
        var uri = Address(access.Uri, "/messages", FormattableString.Invariant($"numofmessages={count}&visibilitytimeout={(int)visibility.TotalSeconds}"));
        using var deadline = Deadline(cancellationToken);
        try
        {
            using var response = await SendAsync(HttpMethod.Get, uri, deadline.Token);
            if (!response.IsSuccessStatusCode) return (Status(response), [], Describe(response));
            await response.Content.LoadIntoBufferAsync(MaxAnswerBytes, deadline.Token);
            return (QueueCallStatus.Ok, ClawbackMessages.ReadList(await response.Content.ReadAsStringAsync(deadline.Token)), "");
        }
        catch (FormatException ex)
        {
            return (QueueCallStatus.Failed, [], ex.Message);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return (QueueCallStatus.Failed, [], TimedOut());
        }
    }

    public async Task<(QueueCallStatus Status, string Detail)> DeleteMessageAsync(QueueAccess access, QueueMessage message, CancellationToken cancellationToken)
    {
        var uri = Address(access.Uri, "/messages/" + Uri.EscapeDataString(message.MessageId), "popreceipt=" + Uri.EscapeDataString(message.PopReceipt));
        using var deadline = Deadline(cancellationToken);
        try
        {
            using var response = await SendAsync(HttpMethod.Delete, uri, deadline.Token);
            // Azure answers a pop receipt that is no longer current with 404, or 400 PopReceiptMismatch.
            if (response.StatusCode == HttpStatusCode.BadRequest && ErrorCode(response) == "PopReceiptMismatch") return (QueueCallStatus.NotFound, Describe(response));
            return response.IsSuccessStatusCode ? (QueueCallStatus.Ok, "") : (Status(response), Describe(response));
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return (QueueCallStatus.Failed, TimedOut());
        }
    }

    private CancellationTokenSource Deadline(CancellationToken cancellationToken)
    {
        var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(CallTimeout);
        return deadline;
    }

    private string TimedOut() => string.Create(CultureInfo.InvariantCulture, $"no whole answer within {CallTimeout.TotalSeconds} s");

    /// <summary>The queue URI with <paramref name="path"/> appended and <paramref name="query"/> after the SAS parameters.</summary>
    public static Uri Address(Uri queue, string path, string query)
    {
        var builder = new UriBuilder(queue) { Path = queue.AbsolutePath.TrimEnd('/') + path };
        var sas = queue.Query.TrimStart('?');
        builder.Query = sas.Length == 0 ? query : sas + "&" + query;
        return builder.Uri;
    }

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, Uri uri, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, uri);
        request.Headers.TryAddWithoutValidation("x-ms-version", Version);
        request.Headers.TryAddWithoutValidation("x-ms-client-request-id", Guid.NewGuid().ToString());
        return await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
    }

    private static QueueCallStatus Status(HttpResponseMessage response) => response.StatusCode switch
    {
        HttpStatusCode.Forbidden => QueueCallStatus.AccessRefused,
        HttpStatusCode.NotFound => QueueCallStatus.NotFound,
        _ => QueueCallStatus.Failed,
    };

    private static string? ErrorCode(HttpResponseMessage response) =>
        response.Headers.TryGetValues("x-ms-error-code", out var values) ? values.FirstOrDefault() : null;

    private static string Describe(HttpResponseMessage response) =>
        string.Create(CultureInfo.InvariantCulture, $"{(int)response.StatusCode} {ErrorCode(response) ?? response.ReasonPhrase}");
}
