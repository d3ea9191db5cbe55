using EntitlementGateway.Emulator;
using Microsoft.Extensions.Options;

namespace EntitlementGateway.Store;

/// <summary>The embedded emulator's settings (section <c>Emulator</c>), checked at start-up like every other section.</summary>
public sealed class EmulatorOptionsValidator : IValidateOptions<EmulatorOptions>
{
    public ValidateOptionsResult Validate(string? name, EmulatorOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = options.Validate();
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
