using Peft.Typed.Models.Layers;
using Peft.Typed.Models.Runtime;
using Peft.Typed.Models.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Tests.Layers;

public class LayerFactoryTests
{
    private static readonly ModuleFixture Unet = new("unet-tiny");

    [Fact]
    public void GroupNorm_starts_as_the_identity_affine_map()
    {
        // torch starts GroupNorm's weight and bias at 1 and 0 (TorchSharp 0.107's own nn.GroupNorm leaves them uninitialised).
        using var norm = LayerFactory.Default.GroupNorm(Unet.Tree.Find("conv_norm_out"));
        Assert.True(norm.Weight!.Eq(1).all().item<bool>());
        Assert.True(norm.Bias!.Eq(0).all().item<bool>());
    }

    [Fact]
    public void The_meta_factory_allocates_no_storage()
    {
        using var linear = LayerFactory.Meta.Linear(Unet.Tree.Find("time_embedding.linear_1"));
        using var conv = LayerFactory.Meta.Conv2d(Unet.Tree.Find("conv_in"));
        Assert.Equal(DeviceType.META, linear.weight!.device_type);
        Assert.Equal([128L, 32L], linear.weight.shape);
        Assert.Equal(DeviceType.META, conv.weight!.device_type);
        Assert.Equal([32L, 4L, 3L, 3L], conv.weight.shape);
    }

    [Fact]
    public void Layers_take_the_factory_dtype()
    {
        var factory = new LayerFactory(dtype: ScalarType.BFloat16);
        using var norm = factory.LayerNorm(Unet.Tree.Find("down_blocks.1.attentions.0.transformer_blocks.0.norm1"));
        Assert.Equal(ScalarType.BFloat16, norm.weight!.dtype);
    }
}
