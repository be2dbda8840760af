using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using Peft.Typed.Models.Adapters;
using Peft.Typed.Models.Adapters.LoHa;
using Peft.Typed.Models.Adapters.LoKr;
using Peft.Typed.Models.Adapters.Lora;
using Peft.Typed.Models.Runtime;
using Peft.Typed.Models.SafeTensors;
using Xunit.Sdk;
using static TorchSharp.torch;

[assembly: Peft.Typed.Models.Tests.Adapters.PeftFixtureFolder("peft")]

namespace Peft.Typed.Models.Tests.Adapters;

/// <summary>
/// Every case of every fixture folder in shared/fixtures/peft's format that this assembly registers
/// (<see cref="PeftFixtureFolderAttribute"/>), at the README's tolerances (PEFT 0.20.0 outputs). The checks read only the
/// folder, so any case folder in the format runs (see the synthetic case below).
/// </summary>
public sealed class PeftCaseTests
{
    private const string Adapter = PeftModel.DefaultAdapterName;

    /// <summary>(fixture folder, case) for every case of every registered fixture folder.</summary>
    public static TheoryData<string, string> Cases => PeftFixture.RegisteredCases();

    /// <summary>The cases whose case.json lists tensors where PEFT's hand-written backward differs from autograd.</summary>
    public static TheoryData<string, string> CustomBackwardCases => PeftFixture.RegisteredCases(json => json.TryGetProperty(CustomBackwardField, out _));

    private const string CustomBackwardField = "peft_custom_backward_differs_from_autograd";

    [Theory]
    [MemberData(nameof(Cases))]
    public void Loading_targets_the_fixture_modules_with_their_rank_alpha_scaling_and_shapes(string fixtureFolder, string caseName)
    {
        var fixture = PeftFixture.Open(fixtureFolder);
        var json = fixture.CaseJson(caseName);
        using var model = fixture.LoadBaseModel();
        var peft = PeftModel.FromPretrained(model, fixture.CaseDirectory(caseName), isTrainable: true);

        var expected = json.GetProperty("targeted_modules").EnumerateArray().Select(m => m.GetProperty("module").GetString()!).ToHashSet();
        using (var file = SafetensorsFile.Open(Path.Combine(fixture.CaseDirectory(caseName), PeftModel.WeightsFileName)))
        {
            var prefix = peft.PeftConfig[Adapter].ParameterPrefix;
            Assert.Equal(expected, file.Names.Select(k => ModuleOfSavedKey(k, prefix)).ToHashSet());
        }
        Assert.Equal(expected, peft.TargetedModuleNames().ToHashSet());
        Assert.Equal(expected, peft.AdapterLayers().Select(l => l.ModuleName).ToHashSet());

        foreach (var entry in json.GetProperty("targeted_modules").EnumerateArray())
        {
            var name = entry.GetProperty("module").GetString()!;
            var layer = peft.GetAdapterLayer(name);
            Assert.Equal(entry.GetProperty("base_type").GetString(), layer.Geometry.Kind);
            Assert.Equal(entry.GetProperty("r").GetInt32(), layer.Rank(Adapter));
            Assert.Equal(entry.GetProperty("alpha").GetDouble(), layer.Alpha(Adapter));
            Assert.Equal(entry.GetProperty("scaling").GetDouble(), layer.Scaling(Adapter), 1e-12);
            var shapes = entry.GetProperty("adapter_params").EnumerateObject()
                .ToDictionary(p => p.Name, p => string.Join("x", p.Value.EnumerateArray().Select(d => d.GetInt64())));
            // case.json names each tensor as in the model without the adapter name (lora_A.weight, hada_w1_a, lora_magnitude_vector.weight).
            var actual = layer.TensorsOf(Adapter).ToDictionary(t => t.Suffix is null ? t.Container : $"{t.Container}.{t.Suffix}", t => string.Join("x", t.Parameter.shape));
            Assert.Equal(shapes.OrderBy(kv => kv.Key), actual.OrderBy(kv => kv.Key));
            if (layer is LoKrLayer lokr)
            {
                Assert.Equal((entry.GetProperty("lokr_w1").GetString(), entry.GetProperty("lokr_w2").GetString()), lokr.Form(Adapter));
                var config = (LoKrConfig)peft.PeftConfig[Adapter];
                Assert.Equal(Factors(entry, "lokr_out_factors"), LoKrFactorization.Factorize((int)layer.Geometry.OutFeatures, config.DecomposeFactor));
                Assert.Equal(Factors(entry, "lokr_in_factors"), LoKrFactorization.Factorize((int)(layer.Geometry.InFeatures / layer.Geometry.Groups), config.DecomposeFactor));
            }
            if (layer is LoHaLayer loha) Assert.Equal(entry.GetProperty("loha_form").GetString() == "cp(t1,t2)", loha.IsTucker(Adapter));
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Delta_and_merged_weights_match_and_unmerge_restores_the_base(string fixtureFolder, string caseName)
    {
        var fixture = PeftFixture.Open(fixtureFolder);
        var tensors = fixture.CaseTensors(caseName);
        using var model = fixture.LoadBaseModel();
        var peft = PeftModel.FromPretrained(model, fixture.CaseDirectory(caseName));
        var layers = peft.AdapterLayers();
        var baseWeights = layers.ToDictionary(l => l.ModuleName, l => l.BaseWeight.detach().clone());

        foreach (var layer in layers)
        {
            var merged = tensors[$"merged_weight.{layer.ModuleName}.weight"];
            TensorAssert.Close(merged - baseWeights[layer.ModuleName], layer.GetDeltaWeight(Adapter), 1e-6, 1e-5, $"delta {layer.ModuleName}");
        }
        peft.MergeAdapter();
        foreach (var layer in layers)
        {
            Assert.Equal([Adapter], layer.MergedAdapters);
            TensorAssert.Close(tensors[$"merged_weight.{layer.ModuleName}.weight"], layer.BaseWeight, 1e-6, 1e-5, $"merged {layer.ModuleName}");
        }
        peft.UnmergeAdapter();
        foreach (var layer in layers)
        {
            Assert.False(layer.Merged);
            TensorAssert.Close(baseWeights[layer.ModuleName], layer.BaseWeight, 1e-6, 0, $"unmerged {layer.ModuleName}");
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Adapted_forward_loss_and_every_layer_match(string fixtureFolder, string caseName)
    {
        var fixture = PeftFixture.Open(fixtureFolder);
        var json = fixture.CaseJson(caseName);
        var tensors = fixture.CaseTensors(caseName);
        var inputs = fixture.Inputs();
        using var model = fixture.LoadBaseModel();
        var peft = PeftModel.FromPretrained(model, fixture.CaseDirectory(caseName));

        using var noGrad = no_grad();
        var output = PeftFixture.Forward(model, inputs);
        TensorAssert.Close(tensors["adapted.unet"], output.Unet, 1e-5, 1e-4, "adapted.unet");
        TensorAssert.Close(tensors["adapted.text"], output.Text, 1e-5, 1e-4, "adapted.text");
        var loss = PeftFixture.Loss(output, inputs).item<float>();
        Assert.Equal(json.GetProperty("loss").GetDouble(), loss, 1e-5 * json.GetProperty("loss").GetDouble());
        Assert.Equal(tensors["loss"].item<float>(), loss, 1e-5 * Math.Abs(tensors["loss"].item<float>()));

        foreach (var layer in peft.AdapterLayers())
        {
            var layerOutput = layer.call(tensors[$"layer_in.{layer.ModuleName}"]);
            TensorAssert.Close(tensors[$"layer_out.{layer.ModuleName}"], layerOutput, 1e-5, 1e-4, $"layer_out.{layer.ModuleName}");
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Merge_and_unload_gives_a_plain_model_with_the_merged_outputs(string fixtureFolder, string caseName)
    {
        var fixture = PeftFixture.Open(fixtureFolder);
        var tensors = fixture.CaseTensors(caseName);
        var inputs = fixture.Inputs();
        using var model = fixture.LoadBaseModel();
        var peft = PeftModel.FromPretrained(model, fixture.CaseDirectory(caseName));

        var merged = peft.MergeAndUnload();
        Assert.Same(model, merged);
        Assert.DoesNotContain(merged.modules(), m => m is AdapterLayer or ModulesToSaveWrapper);
        Assert.Equal(fixture.LoadBaseModel().state_dict().Keys.Order(), merged.state_dict().Keys.Order());
        foreach (var layer in fixture.CaseJson(caseName).GetProperty("targeted_modules").EnumerateArray())
        {
            var name = layer.GetProperty("module").GetString()!;
            TensorAssert.Close(tensors[$"merged_weight.{name}.weight"], merged.state_dict()[$"{name}.weight"], 1e-6, 1e-5, $"merged {name}");
        }
        using var noGrad = no_grad();
        var output = PeftFixture.Forward(model, inputs);
        TensorAssert.Close(tensors["merged.unet"], output.Unet, 1e-5, 1e-4, "merged.unet");
        TensorAssert.Close(tensors["merged.text"], output.Text, 1e-5, 1e-4, "merged.text");
        Assert.Throws<InvalidOperationException>(() => peft.MergeAdapter());
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Gradients_of_the_fixture_loss_match_autograd(string fixtureFolder, string caseName)
    {
        var fixture = PeftFixture.Open(fixtureFolder);
        var json = fixture.CaseJson(caseName);
        var tensors = fixture.CaseTensors(caseName);
        var inputs = fixture.Inputs();
        using var model = fixture.LoadBaseModel();
        var peft = PeftModel.FromPretrained(model, fixture.CaseDirectory(caseName), isTrainable: true);

        PeftFixture.Loss(PeftFixture.Forward(model, inputs), inputs).backward();

        var expected = tensors.Keys.Where(k => k.StartsWith("grad.", StringComparison.Ordinal))
            .ToDictionary(k => k["grad.".Length..], k => tensors.TryGetValue("grad_autograd." + k["grad.".Length..], out var exact) ? exact : tensors[k]);
        double largest = json.GetProperty("checks").GetProperty("grad_max_abs_value").GetDouble();
        var parameters = peft.GetAdapterStateDict();
        Assert.Equal(expected.Keys.Order(), parameters.Where(kv => kv.Value.requires_grad).Select(kv => kv.Key).Order());
        foreach (var (key, grad) in expected)
        {
            var actual = parameters[key].grad ?? throw new InvalidOperationException($"{key} received no gradient.");
            TensorAssert.Close(grad, actual, 1e-5 * Math.Max(1, largest), 1e-3, $"grad {key}");
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Trainable_parameters_text_is_peft_exact(string fixtureFolder, string caseName)
    {
        var fixture = PeftFixture.Open(fixtureFolder);
        var json = fixture.CaseJson(caseName);
        using var model = fixture.LoadBaseModel();
        var config = AdapterConfig.Load(fixture.CaseDirectory(caseName)) with { InferenceMode = false };
        var peft = PeftModel.Create(model, config);

        Assert.Equal((json.GetProperty("trainable_params").GetInt64(), json.GetProperty("all_params").GetInt64()), peft.GetNbTrainableParameters());
        Assert.Equal(json.GetProperty("print_trainable_parameters").GetString(), peft.TrainableParametersSummary());
        var written = new StringWriter();
        peft.PrintTrainableParameters(written);
        Assert.Equal(json.GetProperty("print_trainable_parameters").GetString() + Environment.NewLine, written.ToString());
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Saving_writes_peft_keys_shapes_dtype_metadata_and_config(string fixtureFolder, string caseName)
    {
        var fixture = PeftFixture.Open(fixtureFolder);
        var directory = fixture.CaseDirectory(caseName);
        using var model = fixture.LoadBaseModel();
        var peft = PeftModel.FromPretrained(model, directory);
        var output = Directory.CreateTempSubdirectory("peft-save-").FullName;
        try
        {
            peft.SavePretrained(output);

            using var reference = SafetensorsFile.Open(Path.Combine(directory, PeftModel.WeightsFileName));
            using var saved = SafetensorsFile.Open(Path.Combine(output, PeftModel.WeightsFileName));
            var expectedKeys = reference.Names.ToHashSet();
            if (peft.PeftConfig[Adapter] is LoraConfig { Bias: LoraBias.LoraOnly })
            {
                // PEFT 0.20.0 drops these (huggingface/peft#3306); we save them as PEFT main does.
                foreach (var layer in peft.AdapterLayers()) expectedKeys.Add($"{PeftModel.KeyPrefix}{layer.ModuleName}.base_layer.bias");
            }
            Assert.Equal(expectedKeys.Order(), saved.Names.Order());
            foreach (var info in reference.Tensors)
            {
                Assert.Equal(info.Shape, saved.Info(info.Name).Shape);
                Assert.Equal(SafetensorsDType.F32, saved.Info(info.Name).DType);
                TensorAssert.Close(reference.Load(info.Name), saved.Load(info.Name), 0, 0, info.Name);
            }
            Assert.Equal(new Dictionary<string, string> { ["format"] = "pt" }, saved.Metadata);

            var expectedConfig = JsonNode.Parse(File.ReadAllText(Path.Combine(directory, AdapterConfig.FileName)))!.AsObject();
            var savedConfig = JsonNode.Parse(File.ReadAllText(Path.Combine(output, AdapterConfig.FileName)))!.AsObject();
            AssertSameConfig(expectedConfig, savedConfig);
        }
        finally
        {
            Directory.Delete(output, recursive: true);
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Config_round_trips_through_json(string fixtureFolder, string caseName)
    {
        var fixture = PeftFixture.Open(fixtureFolder);
        var path = Path.Combine(fixture.CaseDirectory(caseName), AdapterConfig.FileName);
        var config = AdapterConfig.Load(path);
        AssertSameConfig(JsonNode.Parse(File.ReadAllText(path))!.AsObject(), JsonNode.Parse(config.ToJson())!.AsObject());
        Assert.Equal(config.ToJson(), AdapterConfig.FromJson(config.ToJson()).ToJson());
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void A_fresh_config_writes_the_same_field_set_as_peft(string fixtureFolder, string caseName)
    {
        var fixture = PeftFixture.Open(fixtureFolder);
        var path = Path.Combine(fixture.CaseDirectory(caseName), AdapterConfig.FileName);
        var reference = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        // A config of the same kind with every default: the kind read from nothing but its peft_type.
        var fresh = AdapterConfig.FromJson(new JsonObject { ["peft_type"] = AdapterConfig.Load(path).PeftType }.ToJsonString());
        var written = JsonNode.Parse(fresh.ToJson())!.AsObject();
        Assert.Equal(reference.Select(kv => kv.Key).Order(StringComparer.Ordinal), written.Select(kv => kv.Key).Order(StringComparer.Ordinal));
    }

    [Theory]
    [MemberData(nameof(CustomBackwardCases))]
    public void Gradients_are_the_true_derivative_where_pefts_hand_written_backward_differs(string fixtureFolder, string caseName)
    {
        var fixture = PeftFixture.Open(fixtureFolder);
        var tensors = fixture.CaseTensors(caseName);
        var inputs = fixture.Inputs();
        var differing = fixture.CaseJson(caseName).GetProperty(CustomBackwardField).EnumerateObject().Select(p => p.Name).ToList();
        Assert.NotEmpty(differing);
        using var model = fixture.LoadBaseModel();
        var peft = PeftModel.FromPretrained(model, fixture.CaseDirectory(caseName), isTrainable: true);
        PeftFixture.Loss(PeftFixture.Forward(model, inputs), inputs).backward();
        var parameters = peft.GetAdapterStateDict();
        foreach (var key in differing)
        {
            var grad = parameters[key].grad!;
            TensorAssert.Close(tensors["grad_autograd." + key], grad, 1e-5, 1e-3, key);
            Assert.True((grad - tensors["grad." + key]).abs().max().item<float>() > 1e-5, $"{key} should differ from PEFT's buggy gradient");
        }
    }

    [Fact]
    public void A_case_folder_written_to_a_fresh_fixture_root_runs_through_every_check()
    {
        var source = PeftFixture.Peft;
        var root = Directory.CreateTempSubdirectory("peft-fixture-").FullName;
        try
        {
            foreach (var file in new[] { "module.json", "base_model.safetensors", "inputs.safetensors" }) File.Copy(Path.Combine(source.Root, file), Path.Combine(root, file));
            var sourceCase = source.Cases()[0];
            var caseName = "synthetic_copy_of_" + sourceCase;
            var caseDirectory = Path.Combine(root, "cases", caseName);
            Directory.CreateDirectory(caseDirectory);
            foreach (var file in Directory.GetFiles(source.CaseDirectory(sourceCase))) File.Copy(file, Path.Combine(caseDirectory, Path.GetFileName(file)));

            Assert.Equal([caseName], new PeftFixture(root).Cases());
            // Every case check (the theories over all cases), on this folder.
            var checks = typeof(PeftCaseTests).GetMethods()
                .Where(m => m.GetCustomAttributes<MemberDataAttribute>().Any(d => d.MemberName == nameof(Cases))).ToList();
            Assert.NotEmpty(checks);
            foreach (var check in checks) Invoke(check, root, caseName);

            // The same folder with its adapted UNet output shifted by 1e-3 fails the forward check: the checks read the folder.
            var tensors = new PeftFixture(root).CaseTensors(caseName);
            tensors["adapted.unet"] = tensors["adapted.unet"].Add(1e-3);
            SafetensorsWriter.Save(Path.Combine(caseDirectory, "case.safetensors"), tensors);
            var forward = checks.Single(m => m.Name == nameof(Adapted_forward_loss_and_every_layer_match));
            Assert.ThrowsAny<XunitException>(() => Invoke(forward, root, caseName));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private void Invoke(MethodInfo check, string fixtureFolder, string caseName)
    {
        try
        {
            check.Invoke(this, [fixtureFolder, caseName]);
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerException).Throw();
        }
    }

    /// <summary>Equal JSON, with target_modules compared as a set (PEFT serialises a Python set).</summary>
    private static void AssertSameConfig(JsonObject expected, JsonObject actual)
    {
        Assert.Equal(expected.Select(kv => kv.Key).Order(StringComparer.Ordinal), actual.Select(kv => kv.Key).Order(StringComparer.Ordinal));
        foreach (var (key, value) in expected)
        {
            if (key == "target_modules" && value is JsonArray list)
            {
                var names = list.Select(n => n!.GetValue<string>()).ToHashSet();
                Assert.True(names.SetEquals(actual[key]!.AsArray().Select(n => n!.GetValue<string>())), $"target_modules differ: {actual[key]!.ToJsonString()}");
                continue;
            }
            Assert.True(JsonNode.DeepEquals(value, actual[key]), $"{key}: expected {value?.ToJsonString() ?? "null"}, got {actual[key]?.ToJsonString() ?? "null"}");
        }
    }

    private static string ModuleOfSavedKey(string key, string prefix)
    {
        var segments = key[PeftModel.KeyPrefix.Length..].Split('.');
        int index = Array.FindLastIndex(segments, s => s.StartsWith(prefix, StringComparison.Ordinal));
        return string.Join(".", segments[..index]);
    }

    private static (int, int) Factors(JsonElement entry, string name)
    {
        var values = entry.GetProperty(name).EnumerateArray().Select(v => v.GetInt32()).ToArray();
        return (values[0], values[1]);
    }
}
