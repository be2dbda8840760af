using Peft.Typed.Models.Autograd;
using Peft.Typed.Architecture.Tree;
using Peft.Typed.Models.Layers;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Unet;

/// <summary>The module lists and checks the UNet's down, mid and up blocks share.</summary>
internal static class UNetBlocks
{
    public static ModuleList<ResnetBlock2D> Resnets(ModuleNode block, LayerFactory layers) =>
        nn.ModuleList(block.Child("resnets").Children.Select(n => new ResnetBlock2D(n, layers)).ToArray());

    public static ModuleList<Transformer2DModel> Attentions(ModuleNode block, LayerFactory layers) =>
        nn.ModuleList(block.Child("attentions").Children.Select(n => new Transformer2DModel(n, layers)).ToArray());

    public static ModuleList<Downsample2D>? Downsamplers(ModuleNode block, LayerFactory layers) =>
        block.HasChild("downsamplers") ? nn.ModuleList(block.Child("downsamplers").Children.Select(n => new Downsample2D(n, layers)).ToArray()) : null;

    public static ModuleList<Upsample2D>? Upsamplers(ModuleNode block, LayerFactory layers) =>
        block.HasChild("upsamplers") ? nn.ModuleList(block.Child("upsamplers").Children.Select(n => new Upsample2D(n, layers)).ToArray()) : null;

    public static void ExpectSameCount(ModuleNode block, long resnets, long expected)
    {
        if (resnets != expected)
            throw new ArgumentException($"Module '{block.Path}' ({block.ClassName}) has {resnets} resnets where its attentions need {expected}.", nameof(block));
    }

    public static void ExpectSkips(nn.Module block, UpBlockInput input, int resnets)
    {
        if (input.ResHiddenStates.Count != resnets)
            throw new ArgumentException($"Up block '{block.GetName()}' has {resnets} resnets and needs as many skip tensors, got {input.ResHiddenStates.Count}.", nameof(input));
    }

    /// <summary>Returns a down block's outputs (the last one is its feature map) to the caller's dispose scope, each once.</summary>
    public static DownBlockOutput MoveToOuterDisposeScope(List<Tensor> outputs)
    {
        foreach (var output in outputs) output.MoveToOuterDisposeScope();
        return new DownBlockOutput(outputs[^1], outputs);
    }

    /// <summary>A resnet call, recomputed in backward when <paramref name="checkpoint"/> is set.</summary>
    public static Tensor Resnet(ResnetBlock2D resnet, Tensor hidden, Tensor temb, bool checkpoint) =>
        checkpoint ? GradientCheckpoint.Run(x => resnet.call(x[0], x[1]), hidden, temb) : resnet.call(hidden, temb);

    /// <summary>A Transformer2DModel call, recomputed in backward when <paramref name="checkpoint"/> is set.</summary>
    public static Tensor Attention(Transformer2DModel attention, Tensor hidden, Tensor? context, bool checkpoint)
    {
        if (!checkpoint) return attention.call(hidden, context);
        return context is null
            ? GradientCheckpoint.Run(x => attention.call(x[0], null), hidden)
            : GradientCheckpoint.Run(x => attention.call(x[0], x[1]), hidden, context);
    }
}
