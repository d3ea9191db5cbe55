using System.Text;
using System.Text.Json;
using EntitlementGateway.Api;
using EntitlementGateway.Entitlements;
using EntitlementGateway.Infrastructure.Http;
using Microsoft.AspNetCore.Http;

namespace EntitlementGateway.UnitTests.Infrastructure.Http;

public class JsonAnswerTests
{
    private static readonly EntitlementQueryResponse Answer = new(
        [new Entitlement("9N30KZZF4BR9", "0010", "Durable", "Single", 1, DateTimeOffset.UnixEpoch, DateTimeOffset.MaxValue, null, [], new TrialInfo(false, false, null))],
        "cache");

    private static async Task<(byte[] Body, long? Length, string? Type)> SendAsync(JsonAnswer<EntitlementQueryResponse> answer)
    {
        var context = new DefaultHttpContext();
        using var body = new MemoryStream();
        context.Response.Body = body;
        await answer.ExecuteAsync(context);
        return (body.ToArray(), context.Response.ContentLength, context.Response.ContentType);
    }

    [Fact]
    public async Task ExecuteAsync_WithAMemo_SendsTheSerializersJson_AndKeepsThoseBytesInTheMemo()
    {
        var memo = new JsonAnswerMemo();

        var (body, length, type) = await SendAsync(new JsonAnswer<EntitlementQueryResponse>(Answer, ApiJsonContext.Default.EntitlementQueryResponse, memo));

        var expected = JsonSerializer.SerializeToUtf8Bytes(Answer, ApiJsonContext.Default.EntitlementQueryResponse);
        Assert.Equal(expected, body);
        Assert.Equal(expected.Length, length);
        Assert.Equal(JsonAnswer<EntitlementQueryResponse>.JsonContentType, type);
        Assert.Equal(expected, memo.Json);
    }

    [Fact]
    public async Task ExecuteAsync_WithAFilledMemo_SendsTheMemosBytes_WithoutSerialisingAgain()
    {
        var memo = new JsonAnswerMemo { Json = Encoding.UTF8.GetBytes("""{"kept":true}""") };

        var (body, length, type) = await SendAsync(new JsonAnswer<EntitlementQueryResponse>(Answer, ApiJsonContext.Default.EntitlementQueryResponse, memo));

        Assert.Equal("""{"kept":true}""", Encoding.UTF8.GetString(body));
        Assert.Equal(13, length);
        Assert.Equal(JsonAnswer<EntitlementQueryResponse>.JsonContentType, type);
    }

    [Fact]
    public async Task ExecuteAsync_WithoutAMemo_SerialisesEveryTime()
    {
        var first = await SendAsync(new JsonAnswer<EntitlementQueryResponse>(Answer, ApiJsonContext.Default.EntitlementQueryResponse));
        var other = Answer with { ServedFrom = "upstream" };
        var second = await SendAsync(new JsonAnswer<EntitlementQueryResponse>(other, ApiJsonContext.Default.EntitlementQueryResponse));

        Assert.Contains("\"servedFrom\":\"cache\"", Encoding.UTF8.GetString(first.Body));
        Assert.Contains("\"servedFrom\":\"upstream\"", Encoding.UTF8.GetString(second.Body));
        Assert.Equal(second.Body.Length, second.Length);
    }
}
