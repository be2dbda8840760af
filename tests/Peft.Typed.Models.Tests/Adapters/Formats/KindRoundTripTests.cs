using Peft.Typed.Architecture.Targeting;
using Peft.Typed.Models.Adapters;
using Peft.Typed.Models.Adapters.Formats;
using Peft.Typed.Models.Adapters.LoHa;
using Peft.Typed.Models.Adapters.LoKr;
using Peft.Typed.Models.Adapters.Lora;
using Peft.Typed.Models.Runtime;
using Peft.Typed.Models.Tests.Support;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Tests.Adapters.Formats;

/// <summary>Every adapter kind × every format: write, detect, read, apply to a fresh tiny UNet, same output.</summary>
public sealed class KindRoundTripTests
{
    private static readonly TargetModules Targets = TargetModules.FromNames("to_q", "to_k", "to_out.0", "proj_in", "conv1", "ff.net.2");

    private static readonly Dictionary<string, AdapterConfig> Configs = new()
    {
        ["lora"] = new LoraConfig { R = 4, LoraAlpha = 8, InitLoraWeights = LoraInit.Random, TargetModules = Targets },
        ["lora_patterns_rslora"] = new LoraConfig
        {
            R = 4, LoraAlpha = 8, UseRslora = true, InitLoraWeights = LoraInit.Random, TargetModules = Targets,
            RankPattern = [new("conv1", 2)], AlphaPattern = [new("to_k", 3)],
        },
        ["loha"] = new LoHaConfig { R = 4, Alpha = 6, InitWeights = false, TargetModules = Targets },
        ["loha_tucker"] = new LoHaConfig { R = 2, Alpha = 3, InitWeights = false, UseEffectiveConv2d = true, TargetModules = Targets, AlphaPattern = [new("proj_in", 5)] },
        ["lokr_full"] = new LoKrConfig { R = 8, Alpha = 4, InitWeights = LoKrInit.Random, TargetModules = Targets },
        ["lokr_decomposed"] = new LoKrConfig { R = 1, Alpha = 3, InitWeights = LoKrInit.Random, DecomposeBoth = true, TargetModules = Targets },
        ["lokr_tucker"] = new LoKrConfig { R = 1, Alpha = 2, InitWeights = LoKrInit.Random, UseEffectiveConv2d = true, TargetModules = Targets },
    };

    public static TheoryData<string, AdapterFileFormat> Cells()
    {
        var data = new TheoryData<string, AdapterFileFormat>();
        foreach (var config in Configs.Keys)
        {
            foreach (var format in Enum.GetValues<AdapterFileFormat>())
            {
                if (format == AdapterFileFormat.Diffusers && Configs[config] is not LoraConfig) continue;
                data.Add(config, format);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cells))]
    public void Write_then_read_gives_the_same_outputs(string config, AdapterFileFormat format)
    {
        using var scope = NewDisposeScope();
        var dir = Directory.CreateTempSubdirectory("peft-formats-");
        try
        {
            using var model = FormatsFixture.NewModel("unet");
            var baseline = FormatsFixture.Forward("unet", model);
            manual_seed(11);
            var peft = PeftModel.Create(model, Configs[config]);
            if (Configs[config] is not LoHaConfig) ShrinkAdapter(peft);
            var expected = FormatsFixture.Forward("unet", model);
            Assert.True(expected.sub(baseline).abs().max().item<float>() > 1e-3, "the adapter must change the output");

            var path = format == AdapterFileFormat.Peft ? dir.FullName : Path.Combine(dir.FullName, "adapter.safetensors");
            AdapterFiles.Write(path, format, new Dictionary<string, AdapterState> { ["unet"] = AdapterState.From(peft) });
            Assert.Equal(format, AdapterFiles.Detect(path));
            var states = AdapterFiles.Read(path, new Dictionary<string, ModuleCatalog> { ["unet"] = FormatsFixture.Catalogs()["unet"] });
            var state = Assert.Single(states).Value;
            Assert.Equal(Configs[config].PeftType, state.Config.PeftType);
            Compare.Close(expected, FormatsFixture.OutputWith("unet", state), 1e-5, 1e-5, what: $"{config} via {format}");
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Theory]
    [InlineData("loha", "LOHA")]
    [InlineData("lokr_full", "LOKR")]
    public void LoHa_and_LoKr_have_no_diffusers_file(string config, string type)
    {
        using var model = FormatsFixture.NewModel("unet");
        var peft = PeftModel.Create(model, Configs[config]);
        var path = Path.Combine(Path.GetTempPath(), "never-written.safetensors");
        var error = Assert.Throws<AdapterFormatException>(() => AdapterFiles.Write(path, AdapterFileFormat.Diffusers, new Dictionary<string, AdapterState> { ["unet"] = AdapterState.From(peft) }));
        Assert.Equal($"{path}: unet: diffusers has no file format for {type} adapters (its loaders read LoRA only); write Kohya (LyCORIS keys, which ComfyUI and A1111 load) or Peft instead.", error.Message);
        Assert.False(File.Exists(path));
    }

    /// <summary>Random LoRA/LoKr weights are large (LoHa's are not); shrink them so the adapted UNet stays in a sane range.</summary>
    private static void ShrinkAdapter(PeftModel peft)
    {
        using var noGrad = no_grad();
        foreach (var tensor in peft.GetAdapterStateDict().Values) tensor.MulInPlace(0.3);
    }
}
