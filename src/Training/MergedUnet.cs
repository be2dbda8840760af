using Peft.Typed.Models.SafeTensors;

namespace Peft.Typed.Training;

/// <summary>--save_merged_unet: the UNet with its adapter merged in (PEFT's merge_and_unload), as a diffusers unet/ folder.</summary>
internal static class MergedUnet
{
    /// <summary>Merges in place (the run is over) and writes config.json and diffusion_pytorch_model.safetensors.</summary>
    public static void Save(TrainingModels models, string pretrainedModel, string folder)
    {
        var merged = models.UnetPeft.MergeAndUnload();
        File.Copy(Path.Combine(pretrainedModel, "unet", "config.json"), Path.Combine(folder, "config.json"));
        SafetensorsWriter.Save(Path.Combine(folder, "diffusion_pytorch_model.safetensors"), merged.state_dict(),
            new Dictionary<string, string> { ["format"] = "pt" });
    }
}
