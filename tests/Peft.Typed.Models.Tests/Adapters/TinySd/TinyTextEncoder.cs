using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Tests.Adapters.TinySd;

/// <summary><c>text_encoder</c>: one CLIP encoder layer.</summary>
internal sealed class TinyTextEncoder : nn.Module<Tensor, Tensor>
{
    private readonly ModuleList<TinyClipLayer> layers;

    public TinyTextEncoder(TinySdSpec spec) : base(nameof(TinyTextEncoder))
    {
        layers = nn.ModuleList(new TinyClipLayer(spec));
        RegisterComponents();
    }

    public override Tensor forward(Tensor input) => layers[0].call(input);
}
