using Peft.Typed.Architecture.Configs;
using Peft.Typed.Architecture.Diffusers;
using Peft.Typed.Architecture.Tree;
using Peft.Typed.Models.Layers;
using Peft.Typed.Models.Loading;
using Peft.Typed.Models.Runtime;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Unet;

/// <summary>
/// diffusers <c>UNet2DConditionModel</c> (SD 1.x, SD 2.x, SDXL), built from its module tree: parameter names are the
/// diffusers state-dict keys. <c>forward</c> returns the predicted noise (or v), [B, out_channels, H, W].
/// </summary>
public sealed class UNet2DConditionModel : nn.Module<UNet2DConditionInput, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> conv_in;
    private readonly Timesteps time_proj;
    private readonly TimestepEmbedding time_embedding;
    private readonly Timesteps? add_time_proj;
    private readonly TimestepEmbedding? add_embedding;
    private readonly ModuleList<nn.Module<UNetBlockInput, DownBlockOutput>> down_blocks;
    private readonly ModuleList<nn.Module<UpBlockInput, Tensor>> up_blocks;
    private readonly UNetMidBlock2DCrossAttn mid_block;
    private readonly nn.Module<Tensor, Tensor> conv_norm_out;
    private readonly nn.Module<Tensor, Tensor> conv_act;
    private readonly nn.Module<Tensor, Tensor> conv_out;

    private readonly int[] _upBlockResnets;
    private readonly int _upsamplers;

    /// <summary>
    /// Builds the model described by <paramref name="config"/>, with parameters created by <paramref name="layers"/>
    /// (randomly initialised on CPU in float32 by default; <see cref="LayerFactory.Meta"/> allocates nothing).
    /// </summary>
    public UNet2DConditionModel(UNet2DConditionConfig config, LayerFactory? layers = null) : base(nameof(UNet2DConditionModel))
    {
        Config = config;
        Tree = UNet2DConditionArchitecture.Build(config);
        layers ??= LayerFactory.Default;
        var root = Tree.Root;
        conv_in = layers.Conv2d(root.Child("conv_in"));
        time_proj = new Timesteps(root.Child("time_proj"));
        time_embedding = new TimestepEmbedding(root.Child("time_embedding"), layers);
        if (root.HasChild("add_embedding"))
        {
            add_time_proj = new Timesteps(root.Child("add_time_proj"));
            add_embedding = new TimestepEmbedding(root.Child("add_embedding"), layers);
        }
        down_blocks = nn.ModuleList(root.Child("down_blocks").Children.Select(n => DownBlock(n, layers)).ToArray());
        var upNodes = root.Child("up_blocks").Children;
        up_blocks = nn.ModuleList(upNodes.Select(n => UpBlock(n, layers)).ToArray());
        mid_block = new UNetMidBlock2DCrossAttn(root.Child("mid_block"), layers);
        conv_norm_out = layers.GroupNorm(root.Child("conv_norm_out"));
        conv_act = LayerFactory.Activation(root.Child("conv_act"));
        conv_out = layers.Conv2d(root.Child("conv_out"));

        _upBlockResnets = upNodes.Select(n => n.Child("resnets").Children.Count).ToArray();
        _upsamplers = upNodes.Count(n => n.HasChild("upsamplers"));
        RegisterComponents();
    }

    public UNet2DConditionConfig Config { get; }

    /// <summary>
    /// diffusers' <c>enable_gradient_checkpointing()</c>: in training mode, every resnet and transformer block of the
    /// down, mid and up blocks keeps only its inputs and is recomputed in backward.
    /// </summary>
    public bool GradientCheckpointing { get; set; }

    /// <summary>The module tree this model was built from: its paths and parameters are this model's names.</summary>
    public ModuleTree Tree { get; }

    /// <summary>
    /// <c>UNet2DConditionModel.from_pretrained(folder)</c>: <c>config.json</c> and <c>diffusion_pytorch_model.safetensors</c>
    /// (or a sharded <c>.safetensors.index.json</c>; fp32, fp16 or bf16), loaded strictly into a model of
    /// <paramref name="dtype"/> (default float32) on <paramref name="device"/> (default CPU), in eval mode.
    /// </summary>
    public static UNet2DConditionModel FromPretrained(string folder, ScalarType? dtype = null, Device? device = null) =>
        PretrainedFolder.Load<UNet2DConditionConfig, UNet2DConditionModel>(folder, "diffusion_pytorch_model", dtype, device,
            (config, layers) => new(config, layers), (model, path) => model.LoadWeights(path));

    /// <summary>Copies a safetensors checkpoint (file or shard index) into this model; see <see cref="StateDictLoader"/>.</summary>
    public LoadReport LoadWeights(string path, bool strict = true) => StateDictLoader.Load(this, path, strict);

    public override Tensor forward(UNet2DConditionInput input)
    {
        using var scope = NewDisposeScope();
        var sample = Config.CenterInputSample ? input.Sample.Mul(2).Sub(1) : input.Sample;
        var emb = time_embedding.call(time_proj.call(BroadcastTimestep(input.Timestep, sample)).to_type(sample.dtype));
        if (add_embedding is not null) emb = emb.Add(AddedEmbedding(input, emb.dtype));

        // The upsamplers double the size; when H or W is not a multiple of their total factor, each one is told to
        // produce exactly the size of the skip tensor it will be concatenated with.
        long factor = 1L << _upsamplers;
        bool forwardUpsampleSize = sample.shape[^2] % factor != 0 || sample.shape[^1] % factor != 0;

        bool checkpoint = GradientCheckpointing && training && is_grad_enabled();
        sample = conv_in.call(sample);
        var skips = new List<Tensor> { sample };
        foreach (var block in down_blocks)
        {
            var output = block.call(new UNetBlockInput(sample, emb, input.EncoderHiddenStates) { GradientCheckpointing = checkpoint });
            sample = output.HiddenStates;
            skips.AddRange(output.ResSamples);
        }

        sample = mid_block.call(new UNetBlockInput(sample, emb, input.EncoderHiddenStates) { GradientCheckpointing = checkpoint });

        for (int i = 0; i < up_blocks.Count; i++)
        {
            int count = _upBlockResnets[i];
            var blockSkips = skips.GetRange(skips.Count - count, count);
            skips.RemoveRange(skips.Count - count, count);
            long[]? upsampleSize = forwardUpsampleSize && i < up_blocks.Count - 1 ? skips[^1].shape[2..] : null;
            sample = up_blocks[i].call(new UpBlockInput(sample, emb, blockSkips, input.EncoderHiddenStates, upsampleSize) { GradientCheckpointing = checkpoint });
        }

        sample = conv_out.call(conv_act.call(conv_norm_out.call(sample)));
        return sample.MoveToOuterDisposeScope();
    }

    private static Tensor BroadcastTimestep(Tensor timestep, Tensor sample)
    {
        long batch = sample.shape[0];
        var timesteps = timestep.dim() == 0 ? timestep.unsqueeze(0) : timestep;
        if (timesteps.dim() != 1 || (timesteps.shape[0] != batch && timesteps.shape[0] != 1))
            throw new ArgumentException($"timestep must be a scalar or have shape [{batch}] (the batch size), got [{string.Join(", ", timestep.shape)}].", nameof(timestep));
        return timesteps.to(sample.device).expand(batch);
    }

    /// <summary>SDXL "text_time" conditioning: <c>add_embedding(cat[text_embeds, add_time_proj(time_ids)])</c>.</summary>
    private Tensor AddedEmbedding(UNet2DConditionInput input, ScalarType dtype)
    {
        if (input.TextEmbeds is null || input.TimeIds is null)
            throw new ArgumentException("This UNet has an add_embedding (SDXL text_time conditioning): set TextEmbeds and TimeIds on the input.", nameof(input));
        var timeEmbeds = add_time_proj!.call(input.TimeIds.flatten()).reshape(input.TextEmbeds.shape[0], -1);
        var addEmbeds = cat([input.TextEmbeds, timeEmbeds.to_type(input.TextEmbeds.dtype)], dim: -1).to_type(dtype);
        return add_embedding!.call(addEmbeds);
    }

    private static nn.Module<UNetBlockInput, DownBlockOutput> DownBlock(ModuleNode node, LayerFactory layers) => node.ClassName switch
    {
        nameof(DownBlock2D) => new DownBlock2D(node, layers),
        nameof(CrossAttnDownBlock2D) => new CrossAttnDownBlock2D(node, layers),
        _ => throw new NotSupportedException($"Module '{node.Path}': down block type '{node.ClassName}' is not supported (DownBlock2D, CrossAttnDownBlock2D)."),
    };

    private static nn.Module<UpBlockInput, Tensor> UpBlock(ModuleNode node, LayerFactory layers) => node.ClassName switch
    {
        nameof(UpBlock2D) => new UpBlock2D(node, layers),
        nameof(CrossAttnUpBlock2D) => new CrossAttnUpBlock2D(node, layers),
        _ => throw new NotSupportedException($"Module '{node.Path}': up block type '{node.ClassName}' is not supported (UpBlock2D, CrossAttnUpBlock2D)."),
    };
}
