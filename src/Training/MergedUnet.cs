using Peft.Typed.Models.Loading;
using Peft.Typed.Models.SafeTensors;
using static TorchSharp.torch;

namespace Peft.Typed.Training;

/// <summary>--save_merged_unet: the UNet with its adapter merged in (PEFT's merge_and_unload), as a diffusers unet/ folder.</summary>
internal static class MergedUnet
{
    /// <summary>
    /// Merges in place (the run is over) and writes config.json and diffusion_pytorch_model.safetensors, in the dtype the
    /// base checkpoint stores (training runs in float32; an fp16 base stays an fp16 file).
    /// </summary>
    public static void Save(TrainingModels models, string pretrainedModel, string folder)
    {
        var baseFolder = Path.Combine(pretrainedModel, "unet");
        var stored = PretrainedFolder.StoredDType(baseFolder, "diffusion_pytorch_model");
        var merged = models.UnetPeft.MergeAndUnload();
        File.Copy(Path.Combine(baseFolder, "config.json"), Path.Combine(folder, "config.json"));
        using var scope = NewDisposeScope();
        var state = merged.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.is_floating_point() && kv.Value.dtype != stored ? kv.Value.to_type(stored) : kv.Value);
        SafetensorsWriter.Save(Path.Combine(folder, "diffusion_pytorch_model.safetensors"), state, new Dictionary<string, string> { ["format"] = "pt" });
    }
}
