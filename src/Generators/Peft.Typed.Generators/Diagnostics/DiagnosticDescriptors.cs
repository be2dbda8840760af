using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;

namespace Peft.Typed.Generators.Diagnostics;

/// <summary>Every diagnostic of the generator and the target analyzer; documented in docs/diagnostics.md.</summary>
internal static class DiagnosticDescriptors
{
    /// <summary>
    /// Where each rule is documented: its section of docs/diagnostics.md in the repository (<c>docs/diagnostics.md#pt0001</c>).
    /// The one place to change should the documentation get a public address.
    /// </summary>
    public const string HelpLinkBase = "docs/diagnostics.md#";

    private const string Targets = "Peft.Typed.Targets";
    private const string Architecture = "Peft.Typed.Architecture";
    private const string Settings = "Peft.Typed.Settings";

    public static readonly DiagnosticDescriptor UnknownTargetName = new(
        "PT0001",
        "Target name matches no module",
        "{0}",
        Targets,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        description: "A target_modules entry matches a module when it equals the module's qualified name or is a suffix of it after a dot. PEFT silently ignores an entry that matches nothing as long as another entry matches; here it is an error, since such an entry is a typo or a name of another architecture.",
        helpLinkUri: HelpLink("PT0001"));

    public static readonly DiagnosticDescriptor RegexMatchesNothing = new(
        "PT0002",
        "Target regex matches no module",
        "{0}",
        Targets,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        description: "A target_modules string is a regex that must match a whole qualified module name (Python re.fullmatch).",
        helpLinkUri: HelpLink("PT0002"));

    public static readonly DiagnosticDescriptor UnwrappableLayerKind = new(
        "PT0003",
        "Adapter cannot wrap the selected layers",
        "{0}",
        Targets,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        description: "LoRA, LoHa and LoKr replace Linear and Conv2d layers; PEFT raises for any other targeted module class.",
        helpLinkUri: HelpLink("PT0003"));

    public static readonly DiagnosticDescriptor OptionWithoutEffect = new(
        "PT0004",
        "Adapter option has no effect on the selected layers",
        "{0} has no effect: the targets of {1} hold no Conv2d layer with a kernel larger than 1x1 ({2})",
        Targets,
        DiagnosticSeverity.Warning,
        isEnabledByDefault: true,
        description: "use_effective_conv2d changes only Conv2d layers with a kernel larger than 1x1; on Linear or 1x1 layers PEFT silently uses the plain form.",
        helpLinkUri: HelpLink("PT0004"));

    public static readonly DiagnosticDescriptor EmptyTargetSet = new(
        "PT0005",
        "Target set selects no module",
        "{0}",
        Targets,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        description: "An adapter needs at least one target; PEFT raises 'Target modules ... not found in the base model'.",
        helpLinkUri: HelpLink("PT0005"));

    public static readonly DiagnosticDescriptor InvalidArchitectureFile = new(
        "PT0006",
        "Malformed or unsupported architecture file",
        "{0}",
        Architecture,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        description: "The config.json is not valid JSON, has a value of the wrong type, an inconsistent list, or a value this library does not build.",
        helpLinkUri: HelpLink("PT0006"));

    public static readonly DiagnosticDescriptor UnsupportedModelClass = new(
        "PT0007",
        "Unsupported model class or block type",
        "{0}",
        Architecture,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        description: "Typed classes are generated for UNet2DConditionModel, AutoencoderKL, CLIPTextModel and CLIPTextModelWithProjection configs with the supported block types.",
        helpLinkUri: HelpLink("PT0007"));

    public static readonly DiagnosticDescriptor DuplicateClassName = new(
        "PT0008",
        "Two architecture files claim one class name",
        "Typed class '{0}' is claimed by '{1}' and '{2}'; give each config.json its own PeftTypedClass",
        Architecture,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        helpLinkUri: HelpLink("PT0008"));

    public static readonly DiagnosticDescriptor UnknownConfigOption = new(
        "PT0009",
        "Unknown config option",
        "{0}",
        Architecture,
        DiagnosticSeverity.Warning,
        isEnabledByDefault: true,
        description: "diffusers ignores config keys its model class does not take, and so does the generated class.",
        helpLinkUri: HelpLink("PT0009"));

    public static readonly DiagnosticDescriptor InvalidClassName = new(
        "PT0010",
        "Invalid typed class name",
        "PeftTypedClass '{0}' is not a valid C# class name{1}",
        Architecture,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        helpLinkUri: HelpLink("PT0010"));

    public static readonly DiagnosticDescriptor MalformedRegex = new(
        "PT0011",
        "Malformed target regex",
        "'{0}' is not a valid regular expression: {1}",
        Targets,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        helpLinkUri: HelpLink("PT0011"));

    public static readonly DiagnosticDescriptor ModelsNotReferenced = new(
        "PT0012",
        "Peft.Typed.Models is not referenced",
        "Typed class '{0}' derives from Peft.Typed.Models types; reference the Peft.Typed.Models package or project",
        Architecture,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        helpLinkUri: HelpLink("PT0012"));

    public static readonly DiagnosticDescriptor RenamedAttentionName = new(
        "PT0013",
        "Renamed attention name",
        "{0}",
        Targets,
        DiagnosticSeverity.Warning,
        isEnabledByDefault: true,
        description: "Older diffusers releases called the attention projections query, key, value and proj_attn; today they are to_q, to_k, to_v and to_out.0. Old scripts still list the old names, which PEFT silently ignores next to entries that match.",
        helpLinkUri: HelpLink("PT0013"));

    public static readonly DiagnosticDescriptor RankNotPositive = new(
        "PT0014",
        "Adapter rank is not positive",
        "{0}",
        Settings,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        description: "r and every rank_pattern value must be positive integers; the config class throws the same message at run time.",
        helpLinkUri: HelpLink("PT0014"));

    public static readonly DiagnosticDescriptor AlphaNotPositive = new(
        "PT0015",
        "Adapter alpha is not positive",
        "{0}",
        Settings,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        description: "lora_alpha / alpha and every alpha_pattern value must be positive finite numbers: the adapter's output is scaled by alpha / r, so zero switches it off and a negative alpha flips it.",
        helpLinkUri: HelpLink("PT0015"));

    public static readonly DiagnosticDescriptor DropoutOutOfRange = new(
        "PT0016",
        "Dropout probability outside [0, 1]",
        "{0}",
        Settings,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        description: "lora_dropout, rank_dropout and module_dropout are probabilities of dropping, between 0 and 1.",
        helpLinkUri: HelpLink("PT0016"));

    public static readonly DiagnosticDescriptor InvalidDecomposeFactor = new(
        "PT0017",
        "Invalid decompose_factor",
        "{0}",
        Settings,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        description: "LoKr's decompose_factor is -1 (factors near the square root of each dimension) or a positive factor.",
        helpLinkUri: HelpLink("PT0017"));

    public static readonly DiagnosticDescriptor EntryMatchesNoModule = new(
        "PT0018",
        "Config entry names no module",
        "{0}",
        Settings,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        description: "A rank_pattern or alpha_pattern key, an exclude_modules entry or a modules_to_save entry that names no module of the typed model. PEFT silently ignores it; here it is an error, since it is a typo or a name of another architecture.",
        helpLinkUri: HelpLink("PT0018"));

    public static readonly DiagnosticDescriptor PatternKeyShadowed = new(
        "PT0019",
        "Pattern key never applies",
        "{0}",
        Settings,
        DiagnosticSeverity.Warning,
        isEnabledByDefault: true,
        description: "PEFT gives a module the value of the first rank_pattern / alpha_pattern key that matches it; a key whose every module an earlier key already matches never applies.",
        helpLinkUri: HelpLink("PT0019"));

    public static readonly DiagnosticDescriptor InvalidAdapterFile = new(
        "PT0020",
        "Invalid adapter config file",
        "{0}",
        Settings,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        description: "An adapter_config.json declared with PeftAdapterFor is not valid JSON, names a peft_type this library does not read, has a value of the wrong type, or sets no target_modules.",
        helpLinkUri: HelpLink("PT0020"));

    public static readonly DiagnosticDescriptor UnknownAdapterField = new(
        "PT0021",
        "Unknown adapter config field",
        "{0}",
        Settings,
        DiagnosticSeverity.Warning,
        isEnabledByDefault: true,
        description: "PEFT 0.20.0 ignores fields its config class does not have; a misspelt field is silently lost.",
        helpLinkUri: HelpLink("PT0021"));

    public static readonly DiagnosticDescriptor UnknownAdapterModel = new(
        "PT0022",
        "PeftAdapterFor names no typed class",
        "PeftAdapterFor '{0}' names no typed class of this compilation; give the PeftTypedClass of the model the adapter is for",
        Settings,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        helpLinkUri: HelpLink("PT0022"));

    private static readonly Dictionary<string, DiagnosticDescriptor> All = new[]
    {
        UnknownTargetName, RegexMatchesNothing, UnwrappableLayerKind, OptionWithoutEffect, EmptyTargetSet, InvalidArchitectureFile,
        UnsupportedModelClass, DuplicateClassName, UnknownConfigOption, InvalidClassName, MalformedRegex, ModelsNotReferenced,
        RenamedAttentionName, RankNotPositive, AlphaNotPositive, DropoutOutOfRange, InvalidDecomposeFactor, EntryMatchesNoModule,
        PatternKeyShadowed, InvalidAdapterFile, UnknownAdapterField, UnknownAdapterModel,
    }.ToDictionary(d => d.Id);

    public static DiagnosticDescriptor ById(string id) => All[id];

    /// <summary>Every rule, by id.</summary>
    public static IReadOnlyCollection<DiagnosticDescriptor> Every => All.Values;

    /// <summary>The help link of rule <paramref name="id"/>: <see cref="HelpLinkBase"/> plus the lower-case id, the section's anchor.</summary>
    private static string HelpLink(string id) => HelpLinkBase + id.ToLowerInvariant();
}
