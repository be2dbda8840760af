using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;

namespace Peft.Typed.Generators.Diagnostics;

/// <summary>Every diagnostic of the generator and the target analyzer; documented in docs/diagnostics.md.</summary>
internal static class DiagnosticDescriptors
{
    private const string Targets = "Peft.Typed.Targets";
    private const string Architecture = "Peft.Typed.Architecture";

    public static readonly DiagnosticDescriptor UnknownTargetName = new(
        "PT0001",
        "Target name matches no module",
        "'{0}' matches no module of {1}{2}",
        Targets,
        DiagnosticSeverity.Warning,
        isEnabledByDefault: true,
        description: "A target_modules entry matches a module when it equals the module's qualified name or is a suffix of it after a dot. PEFT ignores entries that match nothing as long as another entry matches.");

    public static readonly DiagnosticDescriptor RegexMatchesNothing = new(
        "PT0002",
        "Target regex matches no module",
        "The regex '{0}' matches no module of {1}",
        Targets,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        description: "A target_modules string is a regex that must match a whole qualified module name (Python re.fullmatch).");

    public static readonly DiagnosticDescriptor UnwrappableLayerKind = new(
        "PT0003",
        "Adapter cannot wrap the selected layers",
        "'{0}' selects {1} of {2}, which {3} cannot wrap; adapters wrap Linear and Conv2d layers",
        Targets,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        description: "LoRA, LoHa and LoKr replace Linear and Conv2d layers; PEFT raises for any other targeted module class.");

    public static readonly DiagnosticDescriptor OptionWithoutEffect = new(
        "PT0004",
        "Adapter option has no effect on the selected layers",
        "{0} has no effect: the targets of {1} hold no Conv2d layer with a kernel larger than 1x1 ({2})",
        Targets,
        DiagnosticSeverity.Warning,
        isEnabledByDefault: true,
        description: "use_effective_conv2d changes only Conv2d layers with a kernel larger than 1x1; on Linear or 1x1 layers PEFT silently uses the plain form.");

    public static readonly DiagnosticDescriptor EmptyTargetSet = new(
        "PT0005",
        "Target set selects no module",
        "The target set selects no module of {0}{1}",
        Targets,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        description: "An adapter needs at least one target; PEFT raises 'Target modules ... not found in the base model'.");

    public static readonly DiagnosticDescriptor InvalidArchitectureFile = new(
        "PT0006",
        "Malformed or unsupported architecture file",
        "{0}",
        Architecture,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        description: "The config.json is not valid JSON, has a value of the wrong type, an inconsistent list, or a value this library does not build.");

    public static readonly DiagnosticDescriptor UnsupportedModelClass = new(
        "PT0007",
        "Unsupported model class or block type",
        "{0}",
        Architecture,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        description: "Typed classes are generated for UNet2DConditionModel, AutoencoderKL, CLIPTextModel and CLIPTextModelWithProjection configs with the supported block types.");

    public static readonly DiagnosticDescriptor DuplicateClassName = new(
        "PT0008",
        "Two architecture files claim one class name",
        "Typed class '{0}' is claimed by '{1}' and '{2}'; give each config.json its own PeftTypedClass",
        Architecture,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor UnknownConfigOption = new(
        "PT0009",
        "Unknown config option",
        "{0}",
        Architecture,
        DiagnosticSeverity.Warning,
        isEnabledByDefault: true,
        description: "diffusers ignores config keys its model class does not take, and so does the generated class.");

    public static readonly DiagnosticDescriptor InvalidClassName = new(
        "PT0010",
        "Invalid typed class name",
        "PeftTypedClass '{0}' is not a valid C# class name{1}",
        Architecture,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor MalformedRegex = new(
        "PT0011",
        "Malformed target regex",
        "'{0}' is not a valid regular expression: {1}",
        Targets,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor ModelsNotReferenced = new(
        "PT0012",
        "Peft.Typed.Models is not referenced",
        "Typed class '{0}' derives from Peft.Typed.Models types; reference the Peft.Typed.Models package or project",
        Architecture,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    private static readonly Dictionary<string, DiagnosticDescriptor> All = new[]
    {
        UnknownTargetName, RegexMatchesNothing, UnwrappableLayerKind, OptionWithoutEffect, EmptyTargetSet, InvalidArchitectureFile,
        UnsupportedModelClass, DuplicateClassName, UnknownConfigOption, InvalidClassName, MalformedRegex, ModelsNotReferenced,
    }.ToDictionary(d => d.Id);

    public static DiagnosticDescriptor ById(string id) => All[id];
}
