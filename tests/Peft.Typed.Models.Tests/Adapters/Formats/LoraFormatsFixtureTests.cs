using Peft.Typed.Models.Adapters.Formats;
using Peft.Typed.Models.Adapters.Formats.Kohya;
using Peft.Typed.Models.Adapters.Lora;
using Peft.Typed.Models.SafeTensors;
using Peft.Typed.Models.Tests.Support;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Tests.Adapters.Formats;

/// <summary>
/// ../shared/fixtures/lora-formats: every file imports to the reference outputs (scale 1 and 0.5) with diffusers'
/// alpha semantics, and every export equals the fixture's file of that format and reloads to the same outputs.
/// </summary>
public sealed class LoraFormatsFixtureTests
{
    /// <summary>The files whose numbers are PEFT's (alpha/r): output.*.lora.</summary>
    public static TheoryData<string, AdapterFileFormat> PeftNumberFiles => new()
    {
        { "peft", AdapterFileFormat.Peft },
        { "diffusers/pytorch_lora_weights_alpha_folded.safetensors", AdapterFileFormat.Diffusers },
        { "kohya/lora.safetensors", AdapterFileFormat.Kohya },
    };

    /// <summary>The files diffusers loads at scale 1 (no alpha, or alpha = rank): output.*.diffusers_unfolded.</summary>
    public static TheoryData<string, AdapterFileFormat> ScaleOneFiles => new()
    {
        { "diffusers/pytorch_lora_weights.safetensors", AdapterFileFormat.Diffusers },
        { "kohya/lora_converter_alpha_eq_rank.safetensors", AdapterFileFormat.Kohya },
    };

    [Theory]
    [MemberData(nameof(PeftNumberFiles))]
    public void Each_format_reproduces_the_adapter_at_scale_1_and_0_5(string file, AdapterFileFormat format)
    {
        var path = FormatsFixture.PathOf(file);
        Assert.Equal(format, AdapterFiles.Detect(path));
        var states = AdapterFiles.Read(path, FormatsFixture.Catalogs());
        Assert.Equal(FormatsFixture.Components, states.Keys.Order(StringComparer.Ordinal));
        foreach (var (component, state) in states)
        {
            using var scope = NewDisposeScope();
            var name = FormatsFixture.OutputName(component);
            Compare.Close(FormatsFixture.Case.Value[$"output.{name}.lora"], FormatsFixture.OutputWith(component, state), FormatsFixture.Tolerance(component), what: $"{file} {component}");
            Compare.Close(FormatsFixture.Case.Value[$"output.{name}.lora_scale_0.5"], FormatsFixture.OutputWith(component, state.WithScale(0.5)), FormatsFixture.Tolerance(component), what: $"{file} {component} scale 0.5");
        }
    }

    [Theory]
    [MemberData(nameof(ScaleOneFiles))]
    public void Files_without_alpha_load_at_scale_1_as_diffusers_loads_them(string file, AdapterFileFormat format)
    {
        var path = FormatsFixture.PathOf(file);
        Assert.Equal(format, AdapterFiles.Detect(path));
        foreach (var (component, state) in AdapterFiles.Read(path, FormatsFixture.Catalogs()))
        {
            using var scope = NewDisposeScope();
            var lora = Assert.IsType<LoraConfig>(state.Config);
            foreach (var module in state.ModuleNames) Assert.Equal(1.0, lora.ScalingFor(lora.RankFor(module), lora.AlphaFor(module)));
            Compare.Close(FormatsFixture.Case.Value[$"output.{FormatsFixture.OutputName(component)}.diffusers_unfolded"], FormatsFixture.OutputWith(component, state), FormatsFixture.Tolerance(component), what: $"{file} {component}");
        }
    }

    [Fact]
    public void Every_file_names_the_modules_case_json_lists()
    {
        var expected = FormatsFixture.Components.ToDictionary(c => c, c => FormatsFixture.CaseJson.Value[$"{(c == "unet" ? "unet" : "text")}_targeted_modules"]!.AsObject().Select(kv => kv.Key).Order(StringComparer.Ordinal).ToList());
        var catalogs = FormatsFixture.Catalogs();
        foreach (var file in PeftNumberFiles.Concat(ScaleOneFiles).Select(row => (string)row[0]))
        {
            foreach (var (component, state) in AdapterFiles.Read(FormatsFixture.PathOf(file), catalogs))
                Assert.Equal(expected[component], state.ModuleNames.Order(StringComparer.Ordinal));
        }
    }

    [Theory]
    [InlineData(AdapterFileFormat.Diffusers, "diffusers/pytorch_lora_weights_alpha_folded.safetensors")]
    [InlineData(AdapterFileFormat.Kohya, "kohya/lora.safetensors")]
    public void Exporting_the_peft_folders_gives_the_fixture_file(AdapterFileFormat format, string expected)
    {
        var dir = Directory.CreateTempSubdirectory("peft-formats-");
        try
        {
            var states = AdapterFiles.Read(FormatsFixture.PathOf("peft"), FormatsFixture.Catalogs());
            var written = Path.Combine(dir.FullName, "out.safetensors");
            AdapterFiles.Write(written, format, states);
            FormatsFixture.SameTensors(FormatsFixture.PathOf(expected), written);
            Assert.Equal(format, AdapterFiles.Detect(written));
            ReloadsToTheAdapter(written);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Theory]
    [InlineData("peft")]
    [InlineData("diffusers/pytorch_lora_weights_alpha_folded.safetensors")]
    [InlineData("kohya/lora.safetensors")]
    public void Exporting_any_file_as_peft_gives_the_fixture_folders(string source)
    {
        var dir = Directory.CreateTempSubdirectory("peft-formats-");
        try
        {
            var states = AdapterFiles.Read(FormatsFixture.PathOf(source), FormatsFixture.Catalogs());
            AdapterFiles.Write(dir.FullName, AdapterFileFormat.Peft, states);
            Assert.Equal(AdapterFileFormat.Peft, AdapterFiles.Detect(dir.FullName));
            foreach (var component in FormatsFixture.Components)
            {
                // A folded diffusers file and a kohya file give B × alpha/r with alpha = r; the PEFT fixture keeps
                // alpha and the unscaled B. Same numbers either way; the PEFT source round-trips tensor for tensor.
                if (source == "peft")
                    FormatsFixture.SameTensors(FormatsFixture.PathOf("peft", component, "adapter_model.safetensors"), Path.Combine(dir.FullName, component, "adapter_model.safetensors"));
            }
            ReloadsToTheAdapter(dir.FullName);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void Exporting_the_unfolded_diffusers_file_again_gives_it_back()
    {
        var dir = Directory.CreateTempSubdirectory("peft-formats-");
        try
        {
            var source = FormatsFixture.PathOf("diffusers", "pytorch_lora_weights.safetensors");
            var written = Path.Combine(dir.FullName, "pytorch_lora_weights.safetensors");
            AdapterFiles.Write(written, AdapterFileFormat.Diffusers, AdapterFiles.Read(source, FormatsFixture.Catalogs()));
            FormatsFixture.SameTensors(source, written);
            var kohya = Path.Combine(dir.FullName, "kohya.safetensors");
            AdapterFiles.Write(kohya, AdapterFileFormat.Kohya, AdapterFiles.Read(FormatsFixture.PathOf("kohya", "lora_converter_alpha_eq_rank.safetensors"), FormatsFixture.Catalogs()));
            FormatsFixture.SameTensors(FormatsFixture.PathOf("kohya", "lora_converter_alpha_eq_rank.safetensors"), kohya);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void A_kohya_file_with_original_sd_block_names_loads_the_same_adapter()
    {
        var dir = Directory.CreateTempSubdirectory("peft-formats-");
        try
        {
            var catalogs = FormatsFixture.Catalogs();
            var names = new KohyaModuleNames("unet", catalogs["unet"]);
            var renamed = 0;
            var path = Path.Combine(dir.FullName, "a1111.safetensors");
            using (var scope = NewDisposeScope())
            {
                var tensors = SafetensorsFile.LoadAll(FormatsFixture.PathOf("kohya", "lora.safetensors"));
                var output = new Dictionary<string, Tensor>(StringComparer.Ordinal);
                foreach (var (key, tensor) in tensors)
                {
                    int dot = key.IndexOf('.', StringComparison.Ordinal);
                    var module = names.ModuleOf(key.Substring(0, dot));
                    var name = module is null ? key.Substring(0, dot) : KohyaModuleNames.NameOf(names.Prefix, names.OriginalSdNames[module]);
                    if (name != key.Substring(0, dot)) renamed++;
                    output[name + key.Substring(dot)] = tensor;
                }
                SafetensorsWriter.Save(path, output);
            }
            Assert.Equal(3 * FormatsFixture.CaseJson.Value["unet_targeted_modules"]!.AsObject().Count, renamed);
            var state = AdapterFiles.Read(path, catalogs)["unet"];
            using var compare = NewDisposeScope();
            Compare.Close(FormatsFixture.Case.Value["output.unet.lora"], FormatsFixture.OutputWith("unet", state), FormatsFixture.Tolerance("unet"), what: "original SD names");
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    private static void ReloadsToTheAdapter(string path)
    {
        foreach (var (component, state) in AdapterFiles.Read(path, FormatsFixture.Catalogs()))
        {
            using var scope = NewDisposeScope();
            Compare.Close(FormatsFixture.Case.Value[$"output.{FormatsFixture.OutputName(component)}.lora"], FormatsFixture.OutputWith(component, state), FormatsFixture.Tolerance(component), what: $"{path} reloaded, {component}");
        }
    }
}
