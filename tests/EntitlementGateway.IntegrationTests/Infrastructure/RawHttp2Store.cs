using System.Buffers.Binary;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace EntitlementGateway.IntegrationTests.Infrastructure;

/// <summary>How one connection of <see cref="RawHttp2Store"/> behaves.</summary>
public enum Http2Behaviour
{
    /// <summary>Every request is answered.</summary>
    Answer,

    /// <summary>After the TLS handshake nothing is ever written (a front end that hung); what arrives is read and dropped.</summary>
    Silent,

    /// <summary>The first request is answered, SETTINGS_INITIAL_WINDOW_SIZE 0 written just before its answer, and no
    /// WINDOW_UPDATE ever: no later request's body can be sent. The client takes frames in order, so it has the setting
    /// before the first answer ends (written at once, it could beat the first body; after the answer, lose to the second).</summary>
    WindowClosedAfterFirstAnswer,

    /// <summary>The 1st, 3rd, 5th... request on the connection is never answered (its stream stays open); the others are.</summary>
    EveryOtherRequestUnanswered,

    /// <summary>Right after its SETTINGS, a frame of a type HTTP/2 does not define (0xc, <c>ORIGIN</c>, an extension some
    /// front ends send), which the protocol says to ignore; then every request is answered.</summary>
    UnknownFrameAfterSettings,
}

/// <summary>
/// A Store that speaks HTTP/2 frame by frame (TLS with ALPN h2, the emulator's certificate), for what Kestrel never
/// writes: answers whose DATA disagree with their content-length, connections that stall while staying open. It reads
/// every request to its END_STREAM and answers with <see cref="Body"/>; it does not decode the request's headers.
/// </summary>
public sealed class RawHttp2Store : LoopbackListener
{
    private const byte Data = 0x0, Headers = 0x1, Settings = 0x4, Ping = 0x6, GoAway = 0x7, Origin = 0xc;
    private const byte EndStream = 0x1, Ack = 0x1, EndHeaders = 0x4;
    private static readonly byte[] Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8.ToArray();

    private readonly X509Certificate2 _certificate;
    private int _requests;
    private int _http2Connections;

    public RawHttp2Store(X509Certificate2 certificate)
    {
        _certificate = certificate;
        Start();
    }

    /// <summary>Whether the TLS handshake also offers http/1.1; a connection that takes it gets plain HTTP/1.1 answers.</summary>
    public bool ServesHttp11 { get; set; }

    /// <summary>Requests received over HTTP/1.1 (with <see cref="ServesHttp11"/>).</summary>
    public int Http11Requests => Volatile.Read(ref _http11Requests);
    private int _http11Requests;

    /// <summary>Connections whose TLS handshake chose h2.</summary>
    public int Http2Connections => Volatile.Read(ref _http2Connections);

    /// <summary>Requests received whole (their END_STREAM arrived), answered or not.</summary>
    public int Requests => Volatile.Read(ref _requests);

    /// <summary>How the n-th connection (0 first) behaves.</summary>
    public Func<int, Http2Behaviour> BehaviourOf { get; set; } = _ => Http2Behaviour.Answer;

    /// <summary>The JSON body of every answer.</summary>
    public byte[] Body { get; set; } = [];

    /// <summary>When set, the status and body of the n-th request received (1 first), instead of 200 and <see cref="Body"/>.</summary>
    public Func<int, (int Status, byte[] Body)>? AnswerOf { get; set; }

    /// <summary>The content-length sent for a body of the given length (by default that length).</summary>
    public Func<int, long> DeclaredLength { get; set; } = length => length;

    protected override Task ServeAsync(TcpClient client, int index) => ServeAsync(client, BehaviourOf(index));

    private async Task ServeAsync(TcpClient client, Http2Behaviour behaviour)
    {
        using var _ = client;
        try
        {
            await using var tls = new SslStream(client.GetStream());
            await tls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions
            {
                ServerCertificate = _certificate,
                ApplicationProtocols = ServesHttp11 ? [SslApplicationProtocol.Http2, SslApplicationProtocol.Http11] : [SslApplicationProtocol.Http2],
            });
            if (tls.NegotiatedApplicationProtocol != SslApplicationProtocol.Http2)
            {
                if (ServesHttp11) await ServeHttp11Async(tls);
                return;
            }
            Interlocked.Increment(ref _http2Connections);
            if (behaviour == Http2Behaviour.Silent)
            {
                var sink = new byte[16384];
                while (await tls.ReadAsync(sink) > 0) { }
                return;
            }
            await tls.ReadExactlyAsync(new byte[Preface.Length]);
            await WriteFrameAsync(tls, Settings, 0, 0, []);
            if (behaviour == Http2Behaviour.UnknownFrameAfterSettings)
                await WriteFrameAsync(tls, Origin, 0, 0, [0, 9, .. "localhost"u8]);
            var onThisConnection = 0;
            var header = new byte[9];
            while (true)
            {
                await tls.ReadExactlyAsync(header);
                var length = (header[0] << 16) | (header[1] << 8) | header[2];
                var (type, flags) = (header[3], header[4]);
                var stream = BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(5)) & int.MaxValue;
                var payload = new byte[length];
                await tls.ReadExactlyAsync(payload);
                if (type == GoAway) return;
                if (type == Settings && (flags & Ack) == 0) await WriteFrameAsync(tls, Settings, Ack, 0, []);
                else if (type == Ping && (flags & Ack) == 0) await WriteFrameAsync(tls, Ping, Ack, 0, payload);
                else if (type is Headers or Data && (flags & EndStream) != 0)
                {
                    var number = Interlocked.Increment(ref _requests);
                    onThisConnection++;
                    if (behaviour == Http2Behaviour.EveryOtherRequestUnanswered && onThisConnection % 2 == 1) continue;
                    // SETTINGS_INITIAL_WINDOW_SIZE (0x4) = 0: the client may open streams but send no DATA on them. It
                    // limits what the client sends, not this answer.
                    if (behaviour == Http2Behaviour.WindowClosedAfterFirstAnswer && onThisConnection == 1)
                        await WriteFrameAsync(tls, Settings, 0, 0, [0, 4, 0, 0, 0, 0]);
                    await AnswerAsync(tls, stream, number);
                }
            }
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or EndOfStreamException or System.Security.Authentication.AuthenticationException)
        {
            // The gateway closed the connection.
        }
    }

    /// <summary>HTTP/1.1 on one connection: each request's head and Content-Length body read, answered like an HTTP/2 one.</summary>
    private async Task ServeHttp11Async(Stream tls)
    {
        while (await RawHttp11Request.ReadAsync(tls) is not null)
        {
            var number = Interlocked.Increment(ref _requests);
            Interlocked.Increment(ref _http11Requests);
            var (status, body) = AnswerOf?.Invoke(number) ?? (200, Body);
            var answer = string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"HTTP/1.1 {status} X\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: {DeclaredLength(body.Length)}\r\n\r\n");
            await tls.WriteAsync(Encoding.ASCII.GetBytes(answer));
            await tls.WriteAsync(body);
            await tls.FlushAsync();
        }
    }

    private async Task AnswerAsync(Stream tls, int stream, int number)
    {
        var (status, body) = AnswerOf?.Invoke(number) ?? (200, Body);
        var block = new List<byte>();
        if (status == 200) block.Add(0x88); // :status 200, from HPACK's static table
        else AddLiteral(block, 8, status.ToString(System.Globalization.CultureInfo.InvariantCulture)); // :status, by its name's index
        AddLiteral(block, 31, "application/json; charset=utf-8"); // content-type
        AddLiteral(block, 28, DeclaredLength(body.Length).ToString(System.Globalization.CultureInfo.InvariantCulture)); // content-length
        await WriteFrameAsync(tls, Headers, EndHeaders, stream, [.. block]);
        await WriteFrameAsync(tls, Data, EndStream, stream, body);
    }

    /// <summary>A literal header field without indexing, its name from the static table (4-bit prefix), value not Huffman-coded.</summary>
    private static void AddLiteral(List<byte> block, int nameIndex, string value)
    {
        if (nameIndex < 15) block.Add((byte)nameIndex);
        else
        {
            block.Add(0x0F);
            block.Add((byte)(nameIndex - 15));
        }
        block.Add((byte)value.Length);
        block.AddRange(Encoding.ASCII.GetBytes(value));
    }

    private static async Task WriteFrameAsync(Stream tls, byte type, byte flags, int stream, byte[] payload)
    {
        var frame = new byte[9 + payload.Length];
        frame[0] = (byte)(payload.Length >> 16);
        frame[1] = (byte)(payload.Length >> 8);
        frame[2] = (byte)payload.Length;
        frame[3] = type;
        frame[4] = flags;
        BinaryPrimitives.WriteInt32BigEndian(frame.AsSpan(5), stream);
        payload.CopyTo(frame, 9);
        await tls.WriteAsync(frame);
        await tls.FlushAsync();
    }
}
