using System.Text.Json;
using Peft.Typed.Models.Loading;

namespace Peft.Typed.Models.Pipelines;

/// <summary>
/// A diffusers pipeline folder's <c>model_index.json</c>: the pipeline class and its components, checked against what
/// <see cref="DiffusionPipeline.FromPretrained"/> loads. Entries of other components (<c>safety_checker</c>,
/// <c>feature_extractor</c>, ...) are kept but not used.
/// </summary>
public sealed class PipelineIndex
{
    /// <summary>The <c>_class_name</c> of a Stable Diffusion 1.x/2.x pipeline folder.</summary>
    public const string StableDiffusionClassName = "StableDiffusionPipeline";

    /// <summary>The <c>_class_name</c> of a Stable Diffusion XL pipeline folder.</summary>
    public const string StableDiffusionXLClassName = "StableDiffusionXLPipeline";

    private static readonly string[] TokenizerClasses = ["CLIPTokenizer", "CLIPTokenizerFast"];

    private PipelineIndex(string path, string className, IReadOnlyDictionary<string, PipelineComponent?> components, bool forceZerosForEmptyPrompt)
    {
        Path = path;
        ClassName = className;
        Components = components;
        ForceZerosForEmptyPrompt = forceZerosForEmptyPrompt;
    }

    /// <summary>The file this index was read from.</summary>
    public string Path { get; }

    /// <summary><c>_class_name</c>: <see cref="StableDiffusionClassName"/> or <see cref="StableDiffusionXLClassName"/>.</summary>
    public string ClassName { get; }

    /// <summary>True for an SDXL pipeline (two text encoders and tokenizers).</summary>
    public bool IsXL => ClassName == StableDiffusionXLClassName;

    /// <summary>Every component entry by name; <c>[null, null]</c> entries (a component saved as None) are null.</summary>
    public IReadOnlyDictionary<string, PipelineComponent?> Components { get; }

    /// <summary>SDXL's <c>force_zeros_for_empty_prompt</c> (default true): without a negative prompt, the unconditional embeddings are zeros.</summary>
    public bool ForceZerosForEmptyPrompt { get; }

    /// <summary>The components the pipeline loads, in loading order (each is a folder of the pipeline folder).</summary>
    public IReadOnlyList<string> RequiredComponents => IsXL
        ? ["scheduler", "tokenizer", "tokenizer_2", "text_encoder", "text_encoder_2", "unet", "vae"]
        : ["scheduler", "tokenizer", "text_encoder", "unet", "vae"];

    /// <summary>The entry of a required component (never null after <see cref="FromFile"/>).</summary>
    public PipelineComponent this[string name] =>
        Components.TryGetValue(name, out var component) && component is not null
            ? component
            : throw new KeyNotFoundException($"'{Path}' has no component '{name}'.");

    /// <summary>Reads and checks <c>model_index.json</c>.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">Malformed JSON, an unsupported pipeline class, or a missing, null or wrongly typed component; the message names the file and key.</exception>
    public static PipelineIndex FromFile(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"No model_index.json at '{path}': not a diffusers pipeline folder.", path);
        using (var document = JsonFile.Parse(path))
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw new InvalidDataException($"'{path}' must be a JSON object, found {root.ValueKind}.");
            var index = new PipelineIndex(path, ReadClassName(path, root), ReadComponents(path, root), ReadForceZeros(path, root));
            index.CheckRequiredComponents();
            return index;
        }
    }

    private static string ReadClassName(string path, JsonElement root)
    {
        if (!root.TryGetProperty("_class_name", out var value))
            throw new InvalidDataException($"'{path}' has no _class_name.");
        var name = value.ValueKind == JsonValueKind.String ? value.GetString()! : value.GetRawText();
        if (name is not (StableDiffusionClassName or StableDiffusionXLClassName))
            throw new InvalidDataException(
                $"'{path}': _class_name '{name}' is not supported; expected {StableDiffusionClassName} or {StableDiffusionXLClassName}.");
        return name;
    }

    // Components are the top-level [library, class] arrays; other keys (_diffusers_version, requires_safety_checker,
    // force_zeros_for_empty_prompt) are pipeline config values.
    private static Dictionary<string, PipelineComponent?> ReadComponents(string path, JsonElement root)
    {
        var components = new Dictionary<string, PipelineComponent?>(StringComparer.Ordinal);
        foreach (var property in root.EnumerateObject())
        {
            if (property.Name.StartsWith('_') || property.Value.ValueKind != JsonValueKind.Array) continue;
            var items = property.Value.EnumerateArray().ToArray();
            if (items.Length == 2 && items.All(i => i.ValueKind == JsonValueKind.Null))
            {
                components[property.Name] = null;
                continue;
            }
            if (items.Length != 2 || items.Any(i => i.ValueKind != JsonValueKind.String))
                throw new InvalidDataException(
                    $"'{path}': component '{property.Name}' must be [library, class name], found {property.Value.GetRawText()}.");
            components[property.Name] = new PipelineComponent(property.Name, items[0].GetString()!, items[1].GetString()!);
        }
        return components;
    }

    private static bool ReadForceZeros(string path, JsonElement root)
    {
        if (!root.TryGetProperty("force_zeros_for_empty_prompt", out var value) || value.ValueKind == JsonValueKind.Null) return true;
        return value.ValueKind is JsonValueKind.True or JsonValueKind.False
            ? value.GetBoolean()
            : throw new InvalidDataException($"'{path}': force_zeros_for_empty_prompt must be true or false, found {value.GetRawText()}.");
    }

    private void CheckRequiredComponents()
    {
        foreach (var name in RequiredComponents)
        {
            if (!Components.TryGetValue(name, out var component))
                throw new InvalidDataException($"'{Path}': {ClassName} needs component '{name}', which is missing.");
            if (component is null)
                throw new InvalidDataException($"'{Path}': component '{name}' is null; {ClassName} needs it.");
            string[] expected = name switch
            {
                "unet" => ["UNet2DConditionModel"],
                "vae" => ["AutoencoderKL"],
                "text_encoder" => ["CLIPTextModel"],
                "text_encoder_2" => ["CLIPTextModelWithProjection"],
                "tokenizer" or "tokenizer_2" => TokenizerClasses,
                _ => [],
            };
            bool supported = name == "scheduler"
                ? component.Library == "diffusers" && component.ClassName.EndsWith("Scheduler", StringComparison.Ordinal)
                : expected.Contains(component.ClassName);
            if (!supported)
                throw new InvalidDataException(
                    $"'{Path}': component '{name}' is [\"{component.Library}\", \"{component.ClassName}\"]; expected {(name == "scheduler" ? "a diffusers scheduler" : string.Join(" or ", expected))}.");
        }
    }
}
