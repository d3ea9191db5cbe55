using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.Options;

namespace EntitlementGateway.Security;

/// <summary>
/// Which proxies may say who the client is (section <c>ForwardedHeaders</c>). Only a request whose TCP peer is one of
/// these has its <c>X-Forwarded-For</c> believed; from anyone else the header is ignored, so a client cannot pick its
/// own per-IP partition. None configured: the TCP peer is the client.
/// </summary>
public sealed class ForwardedHeadersSettings
{
    public const string Section = "ForwardedHeaders";

    /// <summary>Comma-separated proxy addresses, e.g. <c>10.0.0.5,10.0.0.6</c>.</summary>
    public string? KnownProxies { get; set; }

    /// <summary>Comma-separated proxy networks in CIDR form, e.g. <c>10.244.0.0/16,fd00::/8</c>.</summary>
    public string? KnownNetworks { get; set; }

    /// <summary>How many trusted hops to unwind from the right of X-Forwarded-For (1: only the entry the trusted proxy appended).</summary>
    public int ForwardLimit { get; set; } = 1;

    // Methods, not properties: the configuration binder reads collection properties, and these throw on bad input
    // that the validator reports with the key's name.
    public IReadOnlyList<IPAddress> ParseProxies() => Split(KnownProxies).Select(IPAddress.Parse).ToList();

    public IReadOnlyList<System.Net.IPNetwork> ParseNetworks() => Split(KnownNetworks).Select(n => System.Net.IPNetwork.Parse(n)).ToList();

    public bool Configured => Split(KnownProxies).Any() || Split(KnownNetworks).Any();

    internal static IEnumerable<string> Split(string? list) =>
        (list ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}

public sealed class ForwardedHeadersSettingsValidator : IValidateOptions<ForwardedHeadersSettings>
{
    public ValidateOptionsResult Validate(string? name, ForwardedHeadersSettings o)
    {
        var errors = new List<string>();
        if (o.ForwardLimit is < 1 or > 10) errors.Add($"ForwardedHeaders:ForwardLimit must be between 1 and 10; it is {o.ForwardLimit}.");
        var badProxies = ForwardedHeadersSettings.Split(o.KnownProxies).Where(p => !IPAddress.TryParse(p, out _)).ToList();
        if (badProxies.Count > 0) errors.Add($"ForwardedHeaders:KnownProxies has entries that are not IP addresses: {string.Join(", ", badProxies)}.");
        var badNetworks = ForwardedHeadersSettings.Split(o.KnownNetworks).Where(n => !System.Net.IPNetwork.TryParse(n, out _)).ToList();
        if (badNetworks.Count > 0) errors.Add($"ForwardedHeaders:KnownNetworks has entries that are not CIDR networks (e.g. 10.0.0.0/8): {string.Join(", ", badNetworks)}.");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}

/// <summary>The per-IP limiter's partition of a client: a keyed hash of its address prefix, folded into a fixed number of buckets.</summary>
public static class ClientPartition
{
    // Per-process random seed: a client cannot choose addresses that land in a victim's bucket.
    private static readonly int Seed = System.Security.Cryptography.RandomNumberGenerator.GetInt32(int.MaxValue);

    /// <summary>
    /// IPv4 by address; IPv6 by its /64, because one subscriber is usually given a whole /64 and could otherwise
    /// take a fresh partition per address. IPv4-mapped IPv6 counts as IPv4.
    /// </summary>
    public static ulong Prefix(IPAddress? address)
    {
        if (address is null) return 0;
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out var written);
        return address.AddressFamily == AddressFamily.InterNetwork
            ? BitConverter.ToUInt32(bytes[..written])
            : BitConverter.ToUInt64(bytes[..8]);
    }

    /// <summary>The bucket in [0, <paramref name="buckets"/>): clients that share one share its limit (stricter, never looser).</summary>
    public static int Bucket(IPAddress? address, int buckets) =>
        (int)((uint)HashCode.Combine(Seed, IsV6(address), Prefix(address)) % (uint)buckets);

    private static bool IsV6(IPAddress? address) =>
        address is { AddressFamily: AddressFamily.InterNetworkV6, IsIPv4MappedToIPv6: false };

    internal static ForwardedHeadersOptions ForwardedOptions(ForwardedHeadersSettings settings)
    {
        var options = new ForwardedHeadersOptions
        {
            ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto,
            ForwardLimit = settings.ForwardLimit,
        };
        // The defaults trust loopback; only what the operator named is trusted.
        options.KnownProxies.Clear();
        options.KnownIPNetworks.Clear();
        foreach (var proxy in settings.ParseProxies()) options.KnownProxies.Add(proxy);
        foreach (var network in settings.ParseNetworks()) options.KnownIPNetworks.Add(network);
        return options;
    }
}
