using System.Buffers;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Http.Metadata;

namespace EntitlementGateway.Infrastructure.Http;

/// <summary>
/// A 200 with a JSON body, written on the hot path: serialised synchronously through source-generated code into a reused
/// buffer, then sent with its Content-Length in one write (no chunked framing, no resumable async serialiser). The same
/// bytes as <see cref="TypedResults.Ok{TValue}(TValue)"/> with the same metadata; OpenAPI sees a 200 of <typeparamref name="T"/>.
/// </summary>
public sealed class JsonAnswer<T> : IResult, IStatusCodeHttpResult, IValueHttpResult, IValueHttpResult<T>, IContentTypeHttpResult, IEndpointMetadataProvider
{
    public const string JsonContentType = "application/json; charset=utf-8";

    [ThreadStatic] private static ArrayBufferWriter<byte>? t_buffer;
    [ThreadStatic] private static Utf8JsonWriter? t_writer;

    private readonly JsonTypeInfo<T> _type;
    private readonly JsonAnswerMemo? _memo;

    /// <param name="value">The answer.</param>
    /// <param name="type">Its source-generated metadata.</param>
    /// <param name="memo">Where the JSON of this very answer is kept once made: an answer given again and again (a cached
    /// one) is then sent without serialising it again. Only for answers whose JSON cannot differ from one time to the next.</param>
    public JsonAnswer(T value, JsonTypeInfo<T> type, JsonAnswerMemo? memo = null)
    {
        ArgumentNullException.ThrowIfNull(type);
        Value = value;
        _type = type;
        _memo = memo;
    }

    public T Value { get; }

    object? IValueHttpResult.Value => Value;

    public int? StatusCode => StatusCodes.Status200OK;

    public string ContentType => JsonContentType;

    public Task ExecuteAsync(HttpContext httpContext)
    {
        ArgumentNullException.ThrowIfNull(httpContext);
        if (_memo?.Json is { } known) return Send(httpContext.Response, known);
        var buffer = t_buffer ??= new ArrayBufferWriter<byte>(1024);
        buffer.ResetWrittenCount();
        var writer = t_writer;
        if (writer is null) t_writer = writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = _type.Options.Encoder, SkipValidation = true });
        else writer.Reset(buffer);
        JsonSerializer.Serialize(writer, Value, _type);
        writer.Flush();

        if (_memo is not null) _memo.Json = buffer.WrittenSpan.ToArray();
        // The bytes are copied into the response's pipe, so the thread's buffer is free again after this call.
        var sent = Send(httpContext.Response, buffer.WrittenSpan);
        if (buffer.Capacity > 64 * 1024) t_buffer = null;
        return sent;
    }

    private static Task Send(HttpResponse response, ReadOnlySpan<byte> json)
    {
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = JsonContentType;
        response.ContentLength = json.Length;
        response.BodyWriter.Write(json);
        var flush = response.BodyWriter.FlushAsync();
        return flush.IsCompletedSuccessfully ? Task.CompletedTask : flush.AsTask();
    }

    public static void PopulateMetadata(MethodInfo method, EndpointBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Metadata.Add(new ProducesResponseTypeMetadata(StatusCodes.Status200OK, typeof(T), ["application/json"]));
    }
}

/// <summary>The JSON of an answer that is given unchanged many times, made by the first <see cref="JsonAnswer{T}"/> that sends it.</summary>
public sealed class JsonAnswerMemo
{
    private byte[]? _json;

    /// <summary>The answer's bytes, once made (two requests may both make them: the same bytes).</summary>
    public byte[]? Json
    {
        get => Volatile.Read(ref _json);
        internal set => Volatile.Write(ref _json, value);
    }
}
