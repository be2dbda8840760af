using Peft.Typed.Architecture;
using Peft.Typed.Architecture.Configs;
using Peft.Typed.Models.Layers;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Loading;

/// <summary>The files of a Hugging Face model folder (<c>unet/</c>, <c>vae/</c>, <c>text_encoder/</c>).</summary>
public static class PretrainedFolder
{
    /// <summary>Reads and checks <c>{folder}/config.json</c>, which must describe a <typeparamref name="TConfig"/>.</summary>
    public static TConfig ReadConfig<TConfig>(string folder) where TConfig : ArchitectureConfig
    {
        var path = Path.Combine(folder, "config.json");
        if (!File.Exists(path)) throw new FileNotFoundException($"No config.json in model folder '{folder}'.", path);
        return ArchitectureDescription.Parse<TConfig>(File.ReadAllText(path), path);
    }

    /// <summary>
    /// The dtype a folder's checkpoint stores its floating-point weights in (its first one: diffusers and transformers
    /// save one dtype per checkpoint); float32 when it holds none.
    /// </summary>
    public static ScalarType StoredDType(string folder, string weightsName)
    {
        using var checkpoint = SafeTensors.SafetensorsCheckpoint.Open(WeightsPath(folder, weightsName));
        return checkpoint.Names.Select(n => SafeTensors.SafetensorsDTypes.ToScalarType(checkpoint.Info(n).DType))
            .FirstOrDefault(t => t is ScalarType.Float32 or ScalarType.Float16 or ScalarType.BFloat16 or ScalarType.Float64, ScalarType.Float32);
    }

    /// <summary>
    /// The checkpoint of a folder: <c>{name}.safetensors</c>, else the sharded <c>{name}.safetensors.index.json</c>
    /// (<paramref name="name"/> is <c>diffusion_pytorch_model</c> for diffusers, <c>model</c> for transformers).
    /// </summary>
    public static string WeightsPath(string folder, string name)
    {
        var single = Path.Combine(folder, name + ".safetensors");
        if (File.Exists(single)) return single;
        var index = Path.Combine(folder, name + ".safetensors.index.json");
        if (File.Exists(index)) return index;
        throw new FileNotFoundException(
            $"No weights in model folder '{folder}': expected {name}.safetensors or {name}.safetensors.index.json (only safetensors checkpoints are loaded).", single);
    }

    /// <summary>
    /// <c>from_pretrained(folder)</c> for every model: builds <typeparamref name="TModel"/> from <c>config.json</c> in
    /// <paramref name="dtype"/> on <paramref name="device"/>, loads the <paramref name="weightsName"/> checkpoint with
    /// <paramref name="loadWeights"/> (the model is disposed if that fails) and returns it in eval mode.
    /// </summary>
    internal static TModel Load<TConfig, TModel>(string folder, string weightsName, ScalarType? dtype, Device? device,
        Func<TConfig, LayerFactory, TModel> create, Action<TModel, string> loadWeights)
        where TConfig : ArchitectureConfig where TModel : nn.Module
    {
        var model = create(ReadConfig<TConfig>(folder), new LayerFactory(device, dtype));
        try
        {
            loadWeights(model, WeightsPath(folder, weightsName));
        }
        catch
        {
            model.Dispose();
            throw;
        }
        model.eval();
        return model;
    }
}
