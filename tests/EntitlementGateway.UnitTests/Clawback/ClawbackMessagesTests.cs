using System.Text;
using EntitlementGateway.Clawback;

namespace EntitlementGateway.UnitTests.Clawback;

public sealed class ClawbackMessagesTests
{
    private const string Event = """
        {"id":"5ef37bd1-8b4b-48c4-9b67-be458d8ab9de","source":"/Purchase/Refund","type":"ClawbackEventContractV2",
         "data":{"lineItemId":"230e9063-bffe-411a-8aa1-6f99ca091452","orderId":"70fd35f2-7e4a-4f27-8df3-a673a5a4d9d9",
         "productId":"9N0297GK108W","productType":"UnmanagedConsumable","purchasedDate":"2023-01-24T21:59:19.5725585+00:00",
         "eventDate":"2023-01-26T08:18:52.246847+00:00","eventState":"Revoked","sandboxId":"XDKS.1","skuId":"0010",
         "recurrenceData":{"recurrenceId":"r1","durationInDays":30,"consumedDurationInDays":"12","refundType":"Partial"}},
         "time":"2023-01-26T08:18:56.7103057+00:00","specversion":"1.0","datacontenttype":"application/json","extra":[1]}
        """;

    [Fact]
    public void ReadEvent_TheDocumentedEventInBase64_GivesEveryField()
    {
        var (clawback, malformed) = ClawbackMessages.ReadEvent(ClawbackMessages.Encode(Event));

        Assert.Null(malformed);
        Assert.Equal("5ef37bd1-8b4b-48c4-9b67-be458d8ab9de", clawback!.Id);
        Assert.Equal("/Purchase/Refund", clawback.Source);
        Assert.Equal(new DateTimeOffset(2023, 1, 26, 8, 18, 56, TimeSpan.Zero), clawback.Time!.Value.AddTicks(-(clawback.Time.Value.Ticks % TimeSpan.TicksPerSecond)));
        var data = clawback.Data!;
        Assert.Equal(("70fd35f2-7e4a-4f27-8df3-a673a5a4d9d9", "230e9063-bffe-411a-8aa1-6f99ca091452", "9N0297GK108W", "UnmanagedConsumable", "0010", "XDKS.1", "Revoked"),
            (data.OrderId, data.LineItemId, data.ProductId, data.ProductType, data.SkuId, data.SandboxId, data.EventState));
        Assert.Equal(2023, data.PurchasedDate!.Value.Year);
        Assert.Equal(26, data.EventDate!.Value.Day);
        // Kept as the Store wrote it: its own order, its own types ("12" stays a string).
        Assert.Equal("""{"recurrenceId":"r1","durationInDays":30,"consumedDurationInDays":"12","refundType":"Partial"}""", data.RecurrenceData!.Value.GetRawText());
    }

    [Theory]
    [InlineData("\"eventDate\":\"yesterday\"")]
    [InlineData("\"eventDate\":12")]
    [InlineData("\"purchasedDate\":123")]
    [InlineData("\"purchasedDate\":{\"at\":1}")]
    [InlineData("\"sandboxId\":[\"a\"]")]
    [InlineData("\"skuId\":null")]
    [InlineData("\"productType\":{}")]
    public void ReadEvent_AnOptionalFieldOfAnotherShape_IsReadAsNull_AndTheEventStillCounts(string field)
    {
        var (clawback, malformed) = ClawbackMessages.ReadEvent(ClawbackMessages.Encode(
            $$$"""{"id":"e","time":"nope","source":7,"data":{"orderId":"o","eventState":"Revoked",{{{field}}}}}"""));

        Assert.Null(malformed);
        Assert.Equal(("e", "o", "Revoked"), (clawback!.Id, clawback.Data!.OrderId, clawback.Data.EventState));
        Assert.Null(clawback.Time);
        Assert.Equal("7", clawback.Source);
        Assert.Null(clawback.Data.EventDate);
        Assert.Null(clawback.Data.PurchasedDate);
        Assert.Null(clawback.Data.SandboxId);
        Assert.Null(clawback.Data.SkuId);
        Assert.Null(clawback.Data.ProductType);
    }

    [Fact]
    public void ReadEvent_NumbersAndBooleansInTextFields_AreTheirJsonText_AndDatesThatParseAreKept()
    {
        var (clawback, _) = ClawbackMessages.ReadEvent(ClawbackMessages.Encode(
            """{"id":"e","type":true,"data":{"orderId":"o","eventState":"Returned","sandboxId":5,"skuId":10.50,"lineItemId":false,"productId":"p","eventDate":"2023-01-26T08:18:52Z"}}"""));

        Assert.Equal(("true", "5", "10.50", "false", "p"), (clawback!.Type, clawback.Data!.SandboxId, clawback.Data.SkuId, clawback.Data.LineItemId, clawback.Data.ProductId));
        Assert.Equal(new DateTimeOffset(2023, 1, 26, 8, 18, 52, TimeSpan.Zero), clawback.Data.EventDate);
    }

    [Theory]
    [InlineData("\"not-object\"")]
    [InlineData("[1,2]")]
    [InlineData("{\"recurrenceId\":\"r1\",\"nested\":{\"a\":[1,2]}}")]
    public void ReadEvent_RecurrenceDataOfAnyShape_IsKeptAsWritten(string recurrence)
    {
        var (clawback, malformed) = ClawbackMessages.ReadEvent(ClawbackMessages.Encode(
            $$$"""{"id":"e","data":{"orderId":"o","eventState":"Refunded","recurrenceData":{{{recurrence}}}}}"""));

        Assert.Null(malformed);
        Assert.Equal(recurrence, clawback!.Data!.RecurrenceData!.Value.GetRawText());
    }

    [Fact]
    public void ReadEvent_AByteOrderMarkBeforeTheJson_IsNotPartOfTheEvent()
    {
        var json = Encoding.UTF8.GetBytes("""{"id":"e","data":{"orderId":"o","eventState":"Returned"}}""");
        var (clawback, malformed) = ClawbackMessages.ReadEvent(Convert.ToBase64String([0xEF, 0xBB, 0xBF, .. json]));

        Assert.Null(malformed);
        Assert.Equal("e", clawback!.Id);
        Assert.Contains("JSON", ClawbackMessages.ReadEvent(Convert.ToBase64String([0xEF, 0xBB, .. json])).Malformed);
    }

    [Fact]
    public void ReadEvent_UrlSafeBase64WithoutPadding_IsReadToo()
    {
        // Standard base64 of this event has '+', '/' and padding: URL-safe form without padding is read the same.
        var standard = ClawbackMessages.Encode("""{"id":"e???>","data":{"orderId":"o","eventState":"Returned"}}""");
        Assert.Contains('+', standard);
        Assert.Contains('/', standard);
        var urlSafe = standard.Replace('+', '-').Replace('/', '_').TrimEnd('=');
        Assert.Equal("e???>", ClawbackMessages.ReadEvent(urlSafe).Event?.Id);
        Assert.Equal("e???>", ClawbackMessages.ReadEvent(" " + standard + "\n").Event?.Id);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    public void ReadEvent_AnyPaddingLeftOff_IsRestored(int extra)
    {
        // Three id lengths give base64 with no, two and one '=' of padding.
        var json = "{\"id\":\"e" + new string('x', extra) + "\",\"data\":{\"orderId\":\"o\",\"eventState\":\"Returned\"}}";
        var unpadded = ClawbackMessages.Encode(json).TrimEnd('=');
        Assert.Equal("e" + new string('x', extra), ClawbackMessages.ReadEvent(unpadded).Event?.Id);
    }

    [Theory]
    [InlineData("", "base64")]
    [InlineData("   ", "base64")]
    [InlineData("@@@not base64@@@", "base64")]
    public void ReadEvent_TextThatIsNotBase64_IsMalformed(string text, string reason) =>
        Assert.Contains(reason, ClawbackMessages.ReadEvent(text).Malformed);

    [Theory]
    [InlineData("not json", "JSON")]
    [InlineData("null", "no id")]
    [InlineData("""{"data":{"orderId":"o","eventState":"Returned"}}""", "no id")]
    [InlineData("""{"id":" ","data":{"orderId":"o","eventState":"Returned"}}""", "no id")]
    [InlineData("""{"id":"e"}""", "orderId")]
    [InlineData("""{"id":"e","data":{"orderId":"","eventState":"Returned"}}""", "orderId")]
    [InlineData("""{"id":"e","data":{"orderId":"o"}}""", "eventState")]
    [InlineData("""{"id":"e","data":{"orderId":"o","eventState":["Returned"]}}""", "data.eventState is not one of Returned, Revoked, Refunded, ChargebackReversal.")]
    [InlineData("""{"id":"e","data":{"orderId":"o","eventState":"Return"}}""", "eventState")]
    [InlineData("""{"id":{"n":1},"data":{"orderId":"o","eventState":"Returned"}}""", "no id")]
    [InlineData("""{"id":"e","data":{"orderId":["o"],"eventState":"Returned"}}""", "orderId")]
    [InlineData("""{"id":"e","data":"o"}""", "JSON")]
    public void ReadEvent_AnEventTheGatewayCannotActOn_IsMalformedWithTheReason(string json, string reason)
    {
        var (clawback, malformed) = ClawbackMessages.ReadEvent(ClawbackMessages.Encode(json));
        Assert.Null(clawback);
        Assert.Contains(reason, malformed);
    }

    [Theory]
    [InlineData("""{"id":5,"data":{"orderId":"o","eventState":"Returned"}}""", "5", "o", "Returned")]
    [InlineData("""{"id":"e","data":{"orderId":7,"eventState":"returned"}}""", "e", "7", "Returned")]
    [InlineData("""{"id":"e","data":{"orderId":"o","eventState":"CHARGEBACKREVERSAL"}}""", "e", "o", "ChargebackReversal")]
    [InlineData("""{"id":"e","data":{"orderId":"o","eventState":"revoked"}}""", "e", "o", "Revoked")]
    public void ReadEvent_AnIdOrOrderAsANumber_OrAStateInAnotherCase_IsReadAsTheDocumentedEvent(string json, string id, string order, string state)
    {
        // The documents give these fields no JSON type and no letter case: a refund written so must not be lost.
        var (clawback, malformed) = ClawbackMessages.ReadEvent(ClawbackMessages.Encode(json));

        Assert.Null(malformed);
        Assert.Equal((id, order, state), (clawback!.Id, clawback.Data!.OrderId, clawback.Data.EventState));
    }

    [Theory]
    [InlineData("Returned", "none")]
    [InlineData("Revoked", "reconcile")]
    [InlineData("Refunded", "watch")]
    [InlineData("ChargebackReversal", "undo")]
    public void EveryDocumentedState_IsReadWithItsAction(string state, string action)
    {
        var (clawback, _) = ClawbackMessages.ReadEvent(ClawbackMessages.Encode($$$"""{"id":"e","data":{"orderId":"o","eventState":"{{{state}}}"}}"""));
        Assert.Equal(state, clawback!.Data!.EventState);
        Assert.Equal(action, ClawbackMessages.States[state].Action);
    }

    [Theory]
    [InlineData("Returned", "removed")]
    [InlineData("Revoked", "reconcile")]
    [InlineData("Refunded", "keeps")]
    [InlineData("ChargebackReversal", "reversed")]
    public void EveryDocumentedState_SaysWhatItMeans(string state, string words) =>
        Assert.Contains(words, ClawbackMessages.States[state].Meaning);

    [Fact]
    public void ReadList_TheDocumentedXml_GivesIdsReceiptsCountsAndText()
    {
        var messages = ClawbackMessages.ReadList("""
            <?xml version="1.0" encoding="utf-8"?><QueueMessagesList>
              <QueueMessage><MessageId>m1</MessageId><InsertionTime>Fri, 09 Oct 2009 21:04:30 GMT</InsertionTime>
                <ExpirationTime>Fri, 16 Oct 2009 21:04:30 GMT</ExpirationTime><PopReceipt>YzQ4Yzg1MDItYTc0Ny00OWNjLTkxYTUtZGM0MDFiZDAwYzEw</PopReceipt>
                <TimeNextVisible>Fri, 09 Oct 2009 23:29:20 GMT</TimeNextVisible><DequeueCount>3</DequeueCount><MessageText>dGV4dA==</MessageText></QueueMessage>
              <QueueMessage><MessageId>m2</MessageId><PopReceipt>r2</PopReceipt><DequeueCount>x</DequeueCount></QueueMessage>
            </QueueMessagesList>
            """);

        Assert.Equal(2, messages.Count);
        Assert.Equal(new QueueMessage("m1", "YzQ4Yzg1MDItYTc0Ny00OWNjLTkxYTUtZGM0MDFiZDAwYzEw", 3, "dGV4dA=="), messages[0]);
        Assert.Equal(new QueueMessage("m2", "r2", 0, ""), messages[1]);
        Assert.Empty(ClawbackMessages.ReadList("<QueueMessagesList />"));
    }

    [Theory]
    [InlineData("not xml", "not XML")]
    [InlineData("<Error><Code>AuthenticationFailed</Code></Error>", "not a QueueMessagesList")]
    [InlineData("<QueueMessagesList><QueueMessage><PopReceipt>r</PopReceipt></QueueMessage></QueueMessagesList>", "no MessageId or PopReceipt")]
    [InlineData("<QueueMessagesList><QueueMessage><MessageId>m</MessageId></QueueMessage></QueueMessagesList>", "no MessageId or PopReceipt")]
    [InlineData("<QueueMessagesList><QueueMessage><MessageId>m</MessageId><PopReceipt></PopReceipt></QueueMessage></QueueMessagesList>", "no MessageId or PopReceipt")]
    [InlineData("<!DOCTYPE d [<!ENTITY e \"x\">]><QueueMessagesList>&e;</QueueMessagesList>", "not XML")]
    public void ReadList_AnythingElse_IsAFormatExceptionSayingWhat(string xml, string why) =>
        Assert.Contains(why, Assert.Throws<FormatException>(() => ClawbackMessages.ReadList(xml)).Message);
}
