using System.Net.Http.Headers;
using System.Text.Json;
using EntitlementGateway.Store;
using Microsoft.Extensions.Options;

namespace EntitlementGateway.Clawback;

/// <summary>
/// Posts one event to Clawback:WebhookUrl (operator configuration, never a client's): the JSON of
/// <see cref="ClawbackWebhook"/>, signed (<see cref="WebhookSignature"/>), with the event id for the receiver's
/// de-duplication. Acknowledged means a 2xx answer; redirects are not followed.
/// </summary>
public sealed class WebhookSender(HttpClient http, IOptions<ClawbackOptions> options, TimeProvider time)
{
    /// <summary>
    /// One attempt. Whatever fails in it is that attempt's failure, counted and retried until the event is given up:
    /// thrown, it left the event pending with no attempt, for good, and stopped the outbox pass at it.
    /// </summary>
    public async Task<(bool Acknowledged, string Detail)> SendAsync(ClawbackEventRecord record, CancellationToken cancellationToken)
    {
        try
        {
            return await AttemptAsync(record, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return (false, "the webhook could not be sent (" + ex.GetType().Name + ")");
        }
    }

    private async Task<(bool Acknowledged, string Detail)> AttemptAsync(ClawbackEventRecord record, CancellationToken cancellationToken)
    {
        var o = options.Value;
        var body = JsonSerializer.SerializeToUtf8Bytes(ClawbackWebhook.From(record), ClawbackWebhookJsonContext.Default.ClawbackWebhook);
        var timestamp = time.GetUtcNow().ToUnixTimeSeconds();
        using var request = new HttpRequestMessage(HttpMethod.Post, o.WebhookUrl) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        request.Headers.UserAgent.Add(StoreWire.UserAgent);
        request.Headers.Add(WebhookSignature.EventIdHeader, WebhookSignature.EventIdHeaderValue(record.EventId));
        request.Headers.Add(WebhookSignature.TimestampHeader, timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture));
        request.Headers.Add(WebhookSignature.SignatureHeader, WebhookSignature.Sign(o.WebhookSecret!, timestamp, body));
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(o.WebhookTimeout);
        try
        {
            using var response = await http.SendAsync(request, deadline.Token);
            return response.IsSuccessStatusCode ? (true, "") : (false, $"the receiver answered {(int)response.StatusCode}");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return (false, $"no answer within {o.WebhookTimeoutSeconds} s");
        }
        catch (HttpRequestException ex)
        {
            return (false, "not reachable (" + ex.HttpRequestError + ")");
        }
    }
}
