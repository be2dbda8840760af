using System;
using System.Collections.Generic;
using System.Linq;
using Peft.Typed.Architecture.Configs;
using Peft.Typed.Architecture.Diagnostics;
using Peft.Typed.Architecture.Diffusers;
using Peft.Typed.Architecture.Json;
using Peft.Typed.Architecture.Reading;
using Peft.Typed.Architecture.Transformers;
using Peft.Typed.Architecture.Tree;
using Peft.Typed.Architecture.Validation;

namespace Peft.Typed.Architecture;

/// <summary>
/// The entry point: a model's <c>config.json</c>, recognised by <c>_class_name</c> (diffusers:
/// UNet2DConditionModel, AutoencoderKL) or <c>architectures</c> (transformers: CLIPTextModel,
/// CLIPTextModelWithProjection), read into its typed config and checked completely, so that
/// <see cref="BuildTree"/> cannot fail.
/// </summary>
public sealed class ArchitectureDescription
{
    private ArchitectureDescription(ArchitectureConfig config, string filePath, IReadOnlyList<ArchitectureDiagnostic> warnings)
    {
        Config = config;
        FilePath = filePath;
        Warnings = warnings;
    }

    public ArchitectureKind Kind => Config.Kind;

    /// <summary>The Python class: <c>UNet2DConditionModel</c>, <c>AutoencoderKL</c>, <c>CLIPTextModel</c>, <c>CLIPTextModelWithProjection</c>.</summary>
    public string ClassName => Config.ClassName;

    /// <summary>The typed config: <see cref="UNet2DConditionConfig"/>, <see cref="AutoencoderKLConfig"/> or <see cref="ClipTextConfig"/>.</summary>
    public ArchitectureConfig Config { get; }

    public string FilePath { get; }

    /// <summary>Non-fatal findings (unknown options diffusers ignores too).</summary>
    public IReadOnlyList<ArchitectureDiagnostic> Warnings { get; }

    /// <summary>Parses and checks; throws <see cref="ArchitectureException"/> listing every error with file, line and column.</summary>
    public static ArchitectureDescription Parse(string json, string filePath)
    {
        var result = ParseWithDiagnostics(json, filePath);
        return result.Description ?? throw new ArchitectureException(result.Diagnostics);
    }

    /// <summary>Parses a file that must describe <typeparamref name="TConfig"/>, e.g. <c>Parse&lt;UNet2DConditionConfig&gt;(json, "unet/config.json")</c>.</summary>
    public static TConfig Parse<TConfig>(string json, string filePath)
        where TConfig : ArchitectureConfig
    {
        var description = Parse(json, filePath);
        if (description.Config is TConfig config) return config;
        var expected = typeof(TConfig) == typeof(UNet2DConditionConfig) ? "UNet2DConditionModel"
            : typeof(TConfig) == typeof(AutoencoderKLConfig) ? "AutoencoderKL"
            : "CLIPTextModel or CLIPTextModelWithProjection";
        var span = description.Config.Source!.SpanOf(description.Config is ClipTextConfig ? "architectures" : "_class_name");
        throw new ArchitectureException(new ArchitectureDiagnostic(
            ArchitectureDiagnosticCode.UnknownModelClass,
            ArchitectureSeverity.Error,
            $"The file describes {description.ClassName}, but {expected} is expected here.",
            filePath,
            span));
    }

    /// <summary>Parses and checks without throwing: the description (null on error) and every located diagnostic.</summary>
    public static ArchitectureParseResult ParseWithDiagnostics(string json, string filePath)
    {
        JsonValue document;
        try
        {
            document = JsonReader.Parse(json, filePath);
        }
        catch (ArchitectureException e)
        {
            return new ArchitectureParseResult(null, e.Diagnostics);
        }

        var diagnostics = new List<ArchitectureDiagnostic>();
        if (document is not JsonObject root)
        {
            diagnostics.Add(Error(ArchitectureDiagnosticCode.MalformedJson, $"Expected a JSON object at the top level of a model config; found {document.Describe()}.", filePath, document.Span));
            return new ArchitectureParseResult(null, diagnostics);
        }

        var source = new ConfigSource(root, filePath);
        var config = ReadConfig(source, diagnostics);
        if (config is not null && !diagnostics.Any(d => d.IsError))
        {
            config.Source = source;
            diagnostics.AddRange(Validate(config).Diagnostics);
        }
        var description = config is null || diagnostics.Any(d => d.IsError) ? null : new ArchitectureDescription(config, filePath, diagnostics.ToArray());
        return new ArchitectureParseResult(description, diagnostics);
    }

    /// <summary>The module tree of <see cref="Config"/>: qualified paths, classes, parameters and hyper-parameters.</summary>
    public ModuleTree BuildTree() => Config switch
    {
        UNet2DConditionConfig unet => UNet2DConditionArchitecture.Build(unet),
        AutoencoderKLConfig vae => AutoencoderKLArchitecture.Build(vae),
        ClipTextConfig clip => ClipTextArchitecture.Build(clip),
        _ => throw new InvalidOperationException($"No builder for {Config.GetType().Name}."),
    };

    private static ArchitectureConfig? ReadConfig(ConfigSource source, List<ArchitectureDiagnostic> diagnostics)
    {
        var reader = new ConfigReader(source, diagnostics);
        var className = source.Root.Find("_class_name");
        if (className is not null)
        {
            switch ((className.Value as JsonString)?.Value)
            {
                case "UNet2DConditionModel": return UNet2DConditionConfigReader.Read(reader);
                case "AutoencoderKL": return AutoencoderKLConfigReader.Read(reader);
            }
            var found = className.Value is JsonString name ? $"'{name.Value}'" : className.Value.Describe();
            diagnostics.Add(Error(ArchitectureDiagnosticCode.UnknownModelClass,
                $"Unknown _class_name {found}; supported: UNet2DConditionModel, AutoencoderKL.", source.FilePath, className.Value.Span));
            return null;
        }
        if (source.Root.Find("architectures") is not null) return ClipTextConfigReader.Read(reader);

        diagnostics.Add(Error(ArchitectureDiagnosticCode.UnknownModelClass,
            "Cannot tell which model this config describes: it has neither \"_class_name\" (diffusers) nor \"architectures\" (transformers).",
            source.FilePath, source.SpanOf("_class_name")));
        return null;
    }

    private static ConfigProblems Validate(ArchitectureConfig config) => config switch
    {
        UNet2DConditionConfig unet => UNet2DConditionConfigValidator.Validate(unet),
        AutoencoderKLConfig vae => AutoencoderKLConfigValidator.Validate(vae),
        ClipTextConfig clip => ClipTextConfigValidator.Validate(clip),
        _ => throw new InvalidOperationException($"No validator for {config.GetType().Name}."),
    };

    private static ArchitectureDiagnostic Error(ArchitectureDiagnosticCode code, string message, string filePath, SourceSpan span) =>
        new ArchitectureDiagnostic(code, ArchitectureSeverity.Error, message, filePath, span);
}
