using Peft.Typed.Architecture.Targeting;
using Peft.Typed.Models.Adapters.Formats.Diffusers;
using Peft.Typed.Models.Adapters.Formats.Kohya;
using Peft.Typed.Models.Adapters.Formats.Peft;
using Peft.Typed.Models.SafeTensors;

namespace Peft.Typed.Models.Adapters.Formats;

/// <summary>
/// Reads and writes adapters in the formats Stable Diffusion tools exchange (docs/interop.md): PEFT folders, the
/// diffusers LoRA file and kohya-ss/LyCORIS files. The format is detected from the keys; names are mapped through
/// the model's modules; alpha is folded (diffusers) or carried (kohya) explicitly.
/// </summary>
public static class AdapterFiles
{
    /// <summary>Every format, one entry each; a new format is a new folder plus a line here.</summary>
    private static readonly IReadOnlyList<IAdapterFileFormat> Formats = [new PeftFolderFormat(), new DiffusersFileFormat(), new KohyaFileFormat()];

    /// <summary>
    /// The format of a file or folder. A folder is PEFT (one adapter folder, or a folder holding unet/, text_encoder/,
    /// text_encoder_2/ adapter folders as the trainer writes them); a .safetensors file is the one format all its keys
    /// belong to. Throws <see cref="AdapterFormatException"/> for a file of no known format, naming the first keys.
    /// </summary>
    public static AdapterFileFormat Detect(string path)
    {
        if (Directory.Exists(path))
        {
            if (PeftFolderFormat.IsAdapterFolder(path) || PeftFolderFormat.ComponentFolders(path).Count > 0) return AdapterFileFormat.Peft;
            throw new AdapterFormatException(path, $"the folder holds no PEFT adapter: no {AdapterConfig.FileName} in it or in a sub-folder (unet/, text_encoder/, ...).");
        }
        if (!File.Exists(path)) throw new FileNotFoundException($"Adapter file not found: {path}", path);
        List<string> keys;
        using (var file = SafetensorsFile.Open(path)) keys = file.Names.Order(StringComparer.Ordinal).ToList();
        if (keys.Count == 0) throw new AdapterFormatException(path, "the file holds no tensors.");
        var format = Formats.FirstOrDefault(f => keys.All(f.Claims));
        if (format is null)
        {
            var best = Formats.OrderByDescending(f => keys.Count(f.Claims)).First();
            var stray = best.Format is AdapterFileFormat.Peft || keys.All(k => !best.Claims(k)) ? keys : keys.Where(k => !best.Claims(k)).ToList();
            var what = keys.Any(best.Claims) ? $"most keys are {best.Format} keys, but not these: " : "first keys: ";
            throw new AdapterFormatException(path,
                $"no known adapter format: keys must all be PEFT ('base_model.model.<module>.lora_A.weight'), diffusers ('unet.<module>.lora.down.weight', 'text_encoder.<module>.lora_linear_layer.up.weight', ...) or kohya/LyCORIS ('lora_unet_<module>.lora_down.weight', '.alpha', '.hada_w1_a', '.lokr_w1', ...); {what}{AdapterFormatException.First(stray)}.",
                stray);
        }
        return format.Format;
    }

    /// <summary>
    /// Reads any supported format. <paramref name="components"/>: component name (<c>unet</c>, <c>text_encoder</c>,
    /// <c>text_encoder_2</c>) → that model's <see cref="ModuleCatalog"/> (e.g.
    /// <c>new ModuleCatalog("unet", PeftModel.ListModules(unet))</c>), used to map and check module names. Returns the
    /// adapter state per component present in the file; nothing partial: a file that names a module the model lacks,
    /// holds unknown keys or tensors that do not fit together throws <see cref="AdapterFormatException"/>.
    /// The returned tensors belong to the caller.
    /// </summary>
    public static IReadOnlyDictionary<string, AdapterState> Read(string path, IReadOnlyDictionary<string, ModuleCatalog> components)
    {
        ArgumentNullException.ThrowIfNull(components);
        if (File.Exists(path) && Path.GetFileName(path) == PeftModel.WeightsFileName && PeftFolderFormat.IsAdapterFolder(Path.GetDirectoryName(Path.GetFullPath(path))!))
            path = Path.GetDirectoryName(Path.GetFullPath(path))!;
        var format = Detect(path);
        if (format != AdapterFileFormat.Peft && !File.Exists(path)) throw new FileNotFoundException($"Adapter file not found: {path}", path);
        if (format == AdapterFileFormat.Peft && !Directory.Exists(path))
            throw new AdapterFormatException(path, $"a PEFT adapter is a folder holding {AdapterConfig.FileName} and {PeftModel.WeightsFileName}; give the folder.");
        return Of(format).Read(path, components);
    }

    /// <summary>
    /// Writes the components' adapters in <paramref name="format"/>. PEFT: the folder <paramref name="path"/> with one
    /// sub-folder per component. Diffusers: the single file <paramref name="path"/> (pytorch_lora_weights.safetensors),
    /// LoRA only, PEFT's alpha/r (with rank/alpha patterns, rslora) folded into lora_B because diffusers reads no
    /// alpha. Kohya: the single file <paramref name="path"/>, alpha carried per module. Files are written atomically.
    /// </summary>
    public static void Write(string path, AdapterFileFormat format, IReadOnlyDictionary<string, AdapterState> components)
    {
        ArgumentNullException.ThrowIfNull(components);
        if (components.Count == 0) throw new ArgumentException("No component to write.", nameof(components));
        Of(format).Write(path, components);
    }

    private static IAdapterFileFormat Of(AdapterFileFormat format) =>
        Formats.FirstOrDefault(f => f.Format == format) ?? throw new ArgumentOutOfRangeException(nameof(format), format, null);
}
