using System.Text.Json.Nodes;
using Peft.Typed.Models.Adapters;
using Peft.Typed.Models.Clip;
using Peft.Typed.Models.Unet;
using static TorchSharp.torch;

namespace Peft.Typed.Training;

/// <summary>
/// What PEFT's <c>save_pretrained</c> records about the base model in adapter_config.json: the folder it came from
/// (<c>base_model_name_or_path</c>) and, for a config without a task type, the Python class and module
/// (<c>auto_mapping</c>), so <c>AutoPeftModel</c>-style loaders find the base model.
/// </summary>
internal static class PeftBaseModel
{
    public static AdapterConfig Describe(AdapterConfig config, nn.Module model, string folder) => config with
    {
        BaseModelNameOrPath = config.BaseModelNameOrPath ?? folder,
        AutoMapping = config.AutoMapping ?? (config.TaskType is null ? AutoMapping(model) : null),
    };

    private static JsonObject? AutoMapping(nn.Module model)
    {
        var (className, library) = model switch
        {
            UNet2DConditionModel => ("UNet2DConditionModel", "diffusers.models.unets.unet_2d_condition"),
            CLIPTextModelWithProjection => ("CLIPTextModelWithProjection", "transformers.models.clip.modeling_clip"),
            CLIPTextModel => ("CLIPTextModel", "transformers.models.clip.modeling_clip"),
            _ => (null, null),
        };
        return className is null ? null : new JsonObject { ["base_model_class"] = className, ["parent_library"] = library };
    }
}
