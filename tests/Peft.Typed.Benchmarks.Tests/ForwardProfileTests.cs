using Peft.Typed.Architecture.Targeting;
using Peft.Typed.Benchmarks.Flops;
using Peft.Typed.Benchmarks.Training;
using Peft.Typed.Models.Adapters;
using Peft.Typed.Models.Adapters.Lora;
using Peft.Typed.Models.Unet;
using Peft.Typed.Testing;
using static TorchSharp.torch;

namespace Peft.Typed.Benchmarks.Tests;

/// <summary>The training profile's forward time by layer kind, on the tiny UNet with LoRA on the comprehensive targets.</summary>
public class ForwardProfileTests
{
    [Fact]
    public void Layer_kinds_are_the_flop_counters_kinds_and_fit_inside_the_forward()
    {
        using var unet = UNet2DConditionModel.FromPretrained(Fixtures.PathOf("unet-tiny"));
        PeftModel.Create(unet, new LoraConfig { R = 4, TargetModules = TargetModules.FromNames(SeedTargetLists.UnetComprehensive) });
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        long size = unet.Config.SampleSize?.Values[0] ?? 32;
        var input = new UNet2DConditionInput(randn(1, unet.Config.InChannels, size, size), tensor(new long[] { 10 }),
            randn(1, 77, unet.Config.CrossAttentionDim.ForMidBlock()));
        var flops = FlopCounter.Count(unet, unet.Tree, () => unet.call(input)).ByKind;

        using var profile = new ForwardProfile(unet);
        profile.BeginForward();
        unet.call(input);
        profile.EndForward();

        // Each layer is timed once: an adapter layer whole, nothing inside it (its base layer, the lora_A that unmerged
        // LoRA calls) again, which would also be taken off the attention core a second time.
        var adapterLayers = unet.named_modules().Where(m => m.module is AdapterLayer).Select(m => m.name).ToList();
        Assert.NotEmpty(adapterLayers);
        Assert.All(adapterLayers, a => Assert.Contains(a, profile.TimedLayers));
        Assert.All(profile.TimedLayers, t => Assert.DoesNotContain(adapterLayers, a => t.StartsWith(a + ".", StringComparison.Ordinal)));

        Assert.Equal(flops.Keys.Order(), profile.LayerKinds.Keys.Order());
        Assert.All(profile.LayerKinds, kind => Assert.True(kind.Value > 0, $"{kind.Key}: {kind.Value} s"));
        // Each layer counts once: a wrapped layer's base layer and an attention's projections are not counted again.
        Assert.True(profile.LayerKinds.Values.Sum() < profile.ForwardSeconds, $"kinds {profile.LayerKinds.Values.Sum()} s, forward {profile.ForwardSeconds} s");
    }
}
