using static TorchSharp.torch;

namespace Peft.Typed.Models.Tests.Adapters.TinySd;

/// <summary><c>unet.time_embedding</c>: just <c>linear_1</c>.</summary>
internal sealed class TinyTimeEmbedding : nn.Module<Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> linear_1;

    public TinyTimeEmbedding(TinySdSpec spec) : base(nameof(TinyTimeEmbedding))
    {
        linear_1 = TinySdModule.Linear(spec.TimeInput, spec.TimeDim);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input) => linear_1.call(input);
}
