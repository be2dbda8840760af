using static TorchSharp.torch;

namespace Peft.Typed.Models.Tests.Adapters.TinySd;

/// <summary><c>downsamplers.0</c>: a stride-2 3×3 <c>conv</c>.</summary>
internal sealed class TinyDownsample : nn.Module<Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> conv;

    public TinyDownsample(TinySdSpec spec) : base(nameof(TinyDownsample))
    {
        conv = TinySdModule.Conv(spec.OutChannels, spec.OutChannels, 3, stride: 2, padding: 1);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input) => conv.call(input);
}
