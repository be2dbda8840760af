using Peft.Typed.Architecture.Tree;
using Peft.Typed.Models.Runtime;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Layers;

/// <summary>
/// diffusers <c>ResnetBlock2D</c> (time_embedding_norm "default"):
/// <c>h = conv1(act(norm1(x))) + time_emb_proj(act(temb)); h = conv2(dropout(act(norm2(h))));
/// out = (conv_shortcut(x) + h) / output_scale_factor</c>. <c>temb</c> is null in the VAE, which has no <c>time_emb_proj</c>.
/// </summary>
public sealed class ResnetBlock2D : nn.Module<Tensor, Tensor?, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> norm1;
    private readonly nn.Module<Tensor, Tensor> conv1;
    private readonly nn.Module<Tensor, Tensor>? time_emb_proj;
    private readonly nn.Module<Tensor, Tensor> norm2;
    private readonly nn.Module<Tensor, Tensor> dropout;
    private readonly nn.Module<Tensor, Tensor> conv2;
    private readonly nn.Module<Tensor, Tensor> nonlinearity;
    private readonly nn.Module<Tensor, Tensor>? conv_shortcut;

    private readonly double _outputScaleFactor;

    public ResnetBlock2D(ModuleNode node, LayerFactory layers) : base(node.Path)
    {
        LayerFactory.Expect(node, nameof(ResnetBlock2D));
        // The VAE decoder's resnets say "group" but have no time embedding, where every value means the same.
        var norm = node.Options.GetString("time_embedding_norm");
        if (node.HasChild("time_emb_proj") && norm != "default")
            throw new NotSupportedException($"Module '{node.Path}': time_embedding_norm '{norm}' is not supported (only 'default').");
        _outputScaleFactor = node.Options.GetDouble("output_scale_factor");

        norm1 = layers.GroupNorm(node.Child("norm1"));
        conv1 = layers.Conv2d(node.Child("conv1"));
        if (node.HasChild("time_emb_proj")) time_emb_proj = layers.Linear(node.Child("time_emb_proj"));
        norm2 = layers.GroupNorm(node.Child("norm2"));
        dropout = LayerFactory.Dropout(node.Child("dropout"));
        conv2 = layers.Conv2d(node.Child("conv2"));
        nonlinearity = LayerFactory.Activation(node.Child("nonlinearity"));
        if (node.HasChild("conv_shortcut")) conv_shortcut = layers.Conv2d(node.Child("conv_shortcut"));
        RegisterComponents();
    }

    public override Tensor forward(Tensor input, Tensor? temb)
    {
        using var scope = NewDisposeScope();
        var hidden = conv1.call(nonlinearity.call(norm1.call(input)));
        if (time_emb_proj is not null)
        {
            if (temb is null) throw new ArgumentNullException(nameof(temb), $"ResnetBlock2D '{GetName()}' has a time_emb_proj and needs a time embedding.");
            var projected = time_emb_proj.call(nonlinearity.call(temb));
            hidden = hidden.Add(projected.unsqueeze(-1).unsqueeze(-1));
        }
        hidden = conv2.call(dropout.call(nonlinearity.call(norm2.call(hidden))));
        var shortcut = conv_shortcut is null ? input : conv_shortcut.call(input);
        var output = shortcut.Add(hidden);
        if (_outputScaleFactor != 1.0) output = output.Div(_outputScaleFactor);
        return output.MoveToOuterDisposeScope();
    }
}
