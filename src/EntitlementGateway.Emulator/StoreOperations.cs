namespace EntitlementGateway.Emulator;

/// <summary>One Store operation: the name it is counted under (<c>GET /emulator/stats</c> <c>operations</c>) and its
/// path below the Store's base URL.</summary>
/// <param name="Name">The stats key, e.g. <c>publisherQuery</c>.</param>
/// <param name="Path">The path below the Store's base URL, without a leading slash.</param>
public sealed record StoreOperation(string Name, string Path);

/// <summary>
/// Every Store operation, named once: the emulator maps and counts its endpoints from here, and the gateway's clients
/// take their paths from here. Adding an operation is one line here plus its endpoint and its client call.
/// </summary>
public static class StoreOperations
{
    /// <summary>Collections v8 query.</summary>
    public static readonly StoreOperation B2bLicensePreview = new("b2bLicensePreview", "v8.0/collections/b2bLicensePreview");

    /// <summary>Collections v9 query (PublisherQuery).</summary>
    public static readonly StoreOperation PublisherQuery = new("publisherQuery", "v9.0/collections/publisherQuery");

    /// <summary>Collections v8 consume of a Store-managed consumable.</summary>
    public static readonly StoreOperation Consume = new("consume", "v8.0/collections/consume");

    /// <summary>UserCollectionsId renewal.</summary>
    public static readonly StoreOperation Renew = new("renew", "v6.0/b2b/keys/renew");

    /// <summary>Clawback v2: the SAS URI of the refund and chargeback queue (a POST without a body; on the Store's purchase host).</summary>
    public static readonly StoreOperation ClawbackSasToken = new("clawbackSasToken", "v8.0/b2b/clawback/sastoken");

    /// <summary>Every operation above, for listings.</summary>
    public static IReadOnlyList<StoreOperation> All { get; } = [B2bLicensePreview, PublisherQuery, Consume, Renew, ClawbackSasToken];
}
