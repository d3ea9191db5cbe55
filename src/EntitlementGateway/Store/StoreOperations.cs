namespace EntitlementGateway.Store;

/// <summary>The Store operations the gateway calls, as the <c>store.operation</c> tag of metrics and spans names them.</summary>
public static class StoreOperations
{
    /// <summary>Collections v8 b2bLicensePreview: the entitlement query.</summary>
    public const string B2bLicensePreview = "b2bLicensePreview";

    /// <summary>v6 b2b/keys/renew: a UserCollectionsId renewal.</summary>
    public const string Renew = "renew";
}
