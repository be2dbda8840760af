using Peft.Typed.Architecture.Targeting;
using Peft.Typed.Models.Adapters;
using Peft.Typed.Models.Adapters.LoHa;
using Peft.Typed.Models.Adapters.LoKr;
using Peft.Typed.Models.Adapters.Lora;
using static TorchSharp.torch;

namespace Peft.Typed.Benchmarks.Adapters;

/// <summary>
/// One layer inside a parent module, optionally adapted, as the adapter benchmarks measure it. The base weights are
/// frozen in every variant (as in adapter training) and the input requires grad (as inside a network), so "none"
/// is the cost the adapter adds to.
/// </summary>
internal sealed class AdaptedLayer : nn.Module
{
    private readonly nn.Module<Tensor, Tensor> layer;

    public AdaptedLayer(nn.Module<Tensor, Tensor> inner, string kind, int rank) : base(nameof(AdaptedLayer))
    {
        // Same convolution kernels for every variant: the library's runtime check has run before the first layer.
        _ = global::Peft.Typed.Models.Runtime.TorchRuntime.OneDnnConvolutionsDisabled;
        layer = inner;
        RegisterComponents();
        foreach (var parameter in parameters()) parameter.requires_grad = false;
        if (kind != "none") Peft = PeftModel.Create(this, Config(kind, rank));
    }

    public PeftModel? Peft { get; }

    public Tensor Run(Tensor input) => layer.call(input);

    /// <summary>The configs the benchmarks compare: random (non-zero) factors, effective conv2d for LoHa/LoKr.</summary>
    public static AdapterConfig Config(string kind, int rank)
    {
        var targets = TargetModules.FromNames("layer");
        return kind switch
        {
            "lora" => new LoraConfig { R = rank, LoraAlpha = rank, InitLoraWeights = LoraInit.Random, TargetModules = targets },
            "loha" => new LoHaConfig { R = rank, Alpha = rank, UseEffectiveConv2d = true, InitWeights = false, TargetModules = targets },
            "lokr" => new LoKrConfig { R = rank, Alpha = rank, UseEffectiveConv2d = true, InitWeights = LoKrInit.Random, TargetModules = targets },
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "none, lora, loha or lokr"),
        };
    }
}
