using EntitlementGateway.Budget;
using EntitlementGateway.Hosting;
using EntitlementGateway.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace EntitlementGateway.UnitTests.Infrastructure;

public class KnownKeysValidatorTests
{
    private static ValidateOptionsResult Validate(params (string Key, string Value)[] settings)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value)))
            .Build();
        return new KnownKeysValidator<BudgetOptions>(configuration, "Budget").Validate(null, new BudgetOptions());
    }

    [Fact]
    public void TheSectionsOwnKeys_InAnyCase_AndOtherSections_AreAccepted()
    {
        Assert.True(Validate(("Budget:Replicas", "2"), ("budget:limit", "50"), ("Store:MaxPages", "5"), ("PS1", "$ "), ("Budgets", "x")).Succeeded);
    }

    [Fact]
    public void AKeyTheSectionDoesNotHave_IsRefused_NamingIt_TheNearestSetting_AndTheSettings()
    {
        var result = Validate(("Budget:Replica", "10"));

        var failure = Assert.Single(result.Failures!);
        Assert.StartsWith("Budget:Replica (environment variable Budget__Replica) is not a setting of Budget (did you mean Replicas?); its settings are ", failure);
        Assert.Contains("Limit, MaxKeysInMemory, Replicas", failure);
        Assert.DoesNotContain("LocalShare", failure); // computed, not a setting
    }

    [Fact]
    public void AKeyFarFromEverySetting_IsRefused_WithoutASuggestion()
    {
        var failure = Assert.Single(Validate(("Budget:Colour", "blue")).Failures!);

        Assert.StartsWith("Budget:Colour (environment variable Budget__Colour) is not a setting of Budget; its settings are ", failure);
    }

    [Theory]
    [InlineData("Budgt")]
    [InlineData("BUDGETS")]
    [InlineData("Bduget")]
    public void ASectionOneLetterOff_IsRefused_AsAMisspellingOfThisOne(string written)
    {
        var failure = Assert.Single(Validate(($"{written}:Replicas", "10")).Failures!);

        Assert.Equal($"{written} (environment variables {written}__...) is not a section of the gateway; did you mean Budget?", failure);
    }

    [Theory]
    [InlineData("Store", "Store", 0)]
    [InlineData("Stor", "Store", 1)]
    [InlineData("STORE", "store", 0)]
    [InlineData("Hostng", "Hosting", 1)]
    [InlineData("Replica", "Replicas", 1)]
    [InlineData("kitten", "sitting", 3)]
    [InlineData("", "abc", 3)]
    public void Distance_CountsEdits_IgnoringCase(string a, string b, int expected) =>
        Assert.Equal(expected, KnownKeysValidator<BudgetOptions>.Distance(a, b));

    [Theory]
    [InlineData("Stor", "Store", true)]
    [InlineData("Sto", "Store", false)]
    [InlineData("Hostng", "Hosting", true)]
    [InlineData("Hosng", "Hosting", true)]
    [InlineData("Hsng", "Hosting", false)]
    [InlineData("Store", "STORE", false)]
    public void IsMisspelling_OneLetterForShortNames_TwoFromSixLetters(string written, string meant, bool expected) =>
        Assert.Equal(expected, KnownKeysValidator<BudgetOptions>.IsMisspelling(written, meant));
}

public class StartupRefusalTests
{
    [Fact]
    public void AValidationFailure_IsItsMessages()
    {
        var refused = new OptionsValidationException("Budget", typeof(BudgetOptions), ["Budget:Limit must be between 1 and 100; it is 0.", "Second."]);

        Assert.Equal("Budget:Limit must be between 1 and 100; it is 0. Second.", StartupRefusal.Describe(refused));
        Assert.Equal("Budget:Limit must be between 1 and 100; it is 0. Second. Other.",
            StartupRefusal.Describe(new AggregateException(refused, new OptionsValidationException("X", typeof(object), ["Other."]))));
    }

    [Theory]
    [InlineData("System.Int32", "a whole number")]
    [InlineData("System.Int64", "a whole number")]
    [InlineData("System.Double", "a number")]
    [InlineData("System.Boolean", "true or false")]
    [InlineData("System.TimeSpan", "a duration (hh:mm:ss)")]
    [InlineData("System.Uri", "an absolute URL")]
    [InlineData("EntitlementGateway.Budget.RedisUnavailablePolicy", "one of Reject, LocalShare")]
    [InlineData("Some.Other.Type", "Some.Other.Type")]
    public void AValueOfTheWrongType_NamesTheKeyItsEnvironmentVariableAndWhatItMustBe(string type, string described)
    {
        var notConverted = new InvalidOperationException($"Failed to convert configuration value 'abc' at 'Budget:Section:Limit' to type '{type}'.", new FormatException());

        Assert.Equal($"Budget:Section:Limit (environment variable Budget__Section__Limit) cannot be read as {described}: 'abc'.", StartupRefusal.Describe(notConverted));
    }

    [Fact]
    public void AnUnreadableCertificate_IsItsMessage()
    {
        var unreadable = new InvalidOperationException("Store:CertificatePath '/x.pfx' could not be read", new System.Security.Cryptography.CryptographicException("bad password"));

        Assert.Equal("Store:CertificatePath '/x.pfx' could not be read", StartupRefusal.Describe(unreadable));
    }

    [Fact]
    public void AnythingElse_IsNotARefusal_EvenBesideOne()
    {
        var refused = new OptionsValidationException("Budget", typeof(BudgetOptions), ["Budget:Limit must be between 1 and 100; it is 0."]);

        Assert.Null(StartupRefusal.Describe(new InvalidOperationException("Something else broke.")));
        Assert.Null(StartupRefusal.Describe(new InvalidOperationException("Store:CertificatePath, but no cryptography")));
        Assert.Null(StartupRefusal.Describe(new AggregateException(refused, new IOException("disk"))));
        Assert.Null(StartupRefusal.Describe(new AggregateException()));
    }
}
