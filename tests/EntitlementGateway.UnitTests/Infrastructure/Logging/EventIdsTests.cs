using System.Reflection;
using EntitlementGateway.Infrastructure.Logging;
using Microsoft.Extensions.Logging;

namespace EntitlementGateway.UnitTests.Infrastructure.Logging;

/// <summary>Every <c>[LoggerMessage]</c> of the gateway, found by reflection, against the one registry.</summary>
public class EventIdsTests
{
    private static readonly IReadOnlyList<(string Method, LoggerMessageAttribute Attribute)> Messages =
        typeof(EventIds).Assembly.GetTypes()
            .SelectMany(t => t.GetMethods(BindingFlags.Static | BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            .Select(m => (Method: $"{m.DeclaringType!.FullName}.{m.Name}", Attribute: m.GetCustomAttribute<LoggerMessageAttribute>()))
            .Where(p => p.Attribute is not null)
            .Select(p => (p.Method, p.Attribute!))
            .ToList();

    private static readonly IReadOnlyDictionary<string, int> Registry = typeof(EventIds)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Where(f => f.IsLiteral)
        .ToDictionary(f => f.Name, f => (int)f.GetRawConstantValue()!);

    [Fact]
    public void TheGatewayWritesLogEvents() => Assert.True(Messages.Count >= 20, $"found only {Messages.Count} [LoggerMessage] methods");

    [Fact]
    public void EveryLogEvent_HasAnIdUsedByNoOtherEvent()
    {
        var duplicates = Messages.GroupBy(m => m.Attribute.EventId).Where(g => g.Count() > 1)
            .Select(g => $"{g.Key}: {string.Join(", ", g.Select(m => m.Method))}").ToList();
        Assert.True(duplicates.Count == 0, "duplicate event ids:\n" + string.Join("\n", duplicates));
    }

    [Fact]
    public void EveryLogEvent_IsNamedAndRegistered_UnderItsOwnName()
    {
        foreach (var (method, attribute) in Messages)
        {
            Assert.False(string.IsNullOrWhiteSpace(attribute.EventName), $"{method} has no EventName");
            Assert.True(Registry.TryGetValue(attribute.EventName, out var id), $"{method}: {attribute.EventName} is not in EventIds");
            Assert.Equal(id, attribute.EventId);
        }
    }

    [Fact]
    public void TheRegistry_HoldsNoIdTwice()
    {
        var duplicates = Registry.GroupBy(p => p.Value).Where(g => g.Count() > 1).Select(g => string.Join("=", g.Select(p => p.Key))).ToList();
        Assert.Empty(duplicates);
    }
}
