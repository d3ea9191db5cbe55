using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using EntitlementGateway.Clawback;

namespace EntitlementGateway.IntegrationTests.Clawback;

/// <summary>A queue that stalls (a Get Messages after its headers, a Delete before them): the call ends within its own
/// timeout, whatever the HttpClient's.</summary>
public sealed class AzureQueueStallTests
{
    [Theory]
    [InlineData("GET")]
    [InlineData("DELETE")]
    public async Task AnAnswerThatStallsAfterItsHeaders_FailsWithinTheCallTimeout_NotNever(string method)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        using var held = new CancellationTokenSource();
        var server = Task.Run(async () =>
        {
            using var socket = await listener.AcceptSocketAsync(held.Token);
            var buffer = new byte[8192];
            await socket.ReceiveAsync(buffer, SocketFlags.None, held.Token); // the request
            var body = "<?xml version=\"1.0\" encoding=\"utf-8\"?><QueueMessagesList>";
            if (method == "GET")
            {
                await socket.SendAsync(Encoding.ASCII.GetBytes(
                    $"HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\nContent-Length: 100000\r\n\r\n{body}"), SocketFlags.None, held.Token);
            }
            await Task.Delay(Timeout.Infinite, held.Token); // the rest never comes; the connection stays open
        });
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(60) }; // as set up: the client's timeout ends at the headers
        var queue = new AzureQueueClient(http, TimeSpan.FromSeconds(1));
        var access = new QueueAccess(new Uri($"http://127.0.0.1:{port}/queue?sv=2021&sig=x"), DateTimeOffset.UtcNow.AddHours(1));

        var watch = Stopwatch.StartNew();
        var (status, detail) = method == "GET"
            ? await queue.GetMessagesAsync(access, 16, TimeSpan.FromSeconds(60), CancellationToken.None) is var (s, _, d) ? (s, d) : default
            : await queue.DeleteMessageAsync(access, new QueueMessage("m-1", "receipt", 1, "x"), CancellationToken.None);

        Assert.Equal(QueueCallStatus.Failed, status);
        Assert.Equal("no whole answer within 1 s", detail);
        Assert.InRange(watch.Elapsed, TimeSpan.FromSeconds(0.9), TimeSpan.FromSeconds(10));
        await held.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => server);
    }

    [Fact]
    public async Task TheCallersOwnCancellation_StaysACancellation()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start(); // accepts connections into its backlog and never answers
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        using var http = new HttpClient();
        var queue = new AzureQueueClient(http, TimeSpan.FromSeconds(30));
        var access = new QueueAccess(new Uri($"http://127.0.0.1:{port}/queue?sig=x"), DateTimeOffset.UtcNow.AddHours(1));
        using var stopping = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => queue.GetMessagesAsync(access, 1, TimeSpan.FromSeconds(30), stopping.Token));
        Assert.Equal(TimeSpan.FromSeconds(30), queue.CallTimeout);
        Assert.Equal(TimeSpan.FromSeconds(30), new AzureQueueClient(http).CallTimeout);
    }
}
