using System.Text.Json;
using Peft.Typed.Architecture.Targeting;
using Peft.Typed.Models.Adapters;
using Peft.Typed.Models.Adapters.LoHa;
using Peft.Typed.Models.Adapters.Lora;
using Peft.Typed.Models.Runtime;
using Peft.Typed.Models.SafeTensors;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Tests.Adapters;

/// <summary>Model-level operations (several adapters, disable, delete, targeting errors), checked against the fixtures.</summary>
public sealed class PeftModelTests
{
    private static readonly string[] TextList = ["q_proj", "k_proj", "v_proj", "out_proj", "fc1", "fc2"];

    [Fact]
    public void A_misspelt_target_names_the_entry_and_the_closest_module_name()
    {
        using var model = PeftFixture.Peft.LoadBaseModel();
        var config = new LoraConfig { R = 4, TargetModules = TargetModules.FromNames("to_q", "to_vv", "q_prj") };
        var error = Assert.Throws<ArgumentException>(() => PeftModel.Create(model, config));
        Assert.Equal("target_modules entry 'to_vv' matches no module; did you mean 'to_v'? "
            + "target_modules entry 'q_prj' matches no module; did you mean 'q_proj'? (model: TinySdModule)", error.Message.Replace(" (Parameter 'target_modules')", ""));
        Assert.Equal("target_modules", error.ParamName);
        Assert.DoesNotContain(model.modules(), m => m is AdapterLayer);
    }

    [Fact]
    public void Old_diffusers_attention_names_beside_matching_entries_are_ignored_as_peft_ignores_them()
    {
        using var model = PeftFixture.Peft.LoadBaseModel();
        var targets = TargetModules.FromNames(SeedTargetLists.UnetMinimal.Concat(["query", "value"]));
        var peft = PeftModel.Create(model, new LoraConfig { R = 4, TargetModules = targets });
        var expected = PeftModel.ListModules(model).Where(m => m.Kind == "Linear" && SeedTargetLists.UnetMinimal.Any(n => m.Name.EndsWith("." + n, StringComparison.Ordinal))).Select(m => m.Name);
        Assert.NotEmpty(peft.TargetedModuleNames());
        Assert.Equal(expected.Order(), peft.TargetedModuleNames().Order());
        Assert.Equal(targets, peft.PeftConfig[PeftModel.DefaultAdapterName].TargetModules);
    }

    [Fact]
    public void An_old_diffusers_attention_name_alone_is_told_its_current_name()
    {
        using var model = PeftFixture.Peft.LoadBaseModel();
        var config = new LoraConfig { R = 4, TargetModules = TargetModules.FromNames("query", "value") };
        var error = Assert.Throws<ArgumentException>(() => PeftModel.Create(model, config));
        Assert.Equal("target_modules entry 'query' matches no module: diffusers renamed the attention projection 'query' to 'to_q'. "
            + "target_modules entry 'value' matches no module: diffusers renamed the attention projection 'value' to 'to_v'. (model: TinySdModule)",
            error.Message.Replace(" (Parameter 'target_modules')", ""));
    }

    [Fact]
    public void A_target_that_is_not_linear_or_conv_is_reported()
    {
        using var model = PeftFixture.Peft.LoadBaseModel();
        var error = Assert.Throws<NotSupportedException>(() => PeftModel.Create(model, new LoraConfig { TargetModules = TargetModules.FromNames("norm1") }));
        Assert.Equal("Target module 'unet.down_block.resnets.0.norm1' is a GroupNorm; LORA adapters wrap Linear and Conv2d layers. "
            + "Narrow target_modules or add it to exclude_modules.", error.Message);
    }

    [Fact]
    public void Targets_resolve_by_list_regex_all_linear_and_exclusions()
    {
        using var model = PeftFixture.Peft.LoadBaseModel();
        var modules = PeftModel.ListModules(model);
        Assert.Contains(modules, m => m.Name == "unet.down_block.resnets.0.conv1" && m.Kind == "Conv2d");

        var list = new LoraConfig { TargetModules = TargetModules.FromNames("conv") }.SelectTargets(modules);
        Assert.Equal(["unet.down_block.downsamplers.0.conv"], list.Targeted.Select(t => t.Name));

        var regex = new LoraConfig { TargetModules = TargetModules.FromPattern(@".*attn2\.to_[kv]") }.SelectTargets(modules);
        Assert.Equal(["unet.down_block.attentions.0.transformer_blocks.0.attn2.to_k", "unet.down_block.attentions.0.transformer_blocks.0.attn2.to_v"],
            regex.Targeted.Select(t => t.Name));

        var allLinear = new LoraConfig { TargetModules = TargetModules.AllLinear, ExcludeModules = TargetModules.FromNames("fc1") }.SelectTargets(modules);
        Assert.Equal(17, allLinear.Targeted.Count);
        Assert.All(allLinear.Targeted, t => Assert.Equal("Linear", t.Kind));
        Assert.Equal(["text_encoder.layers.0.mlp.fc1"], allLinear.Excluded);
    }

    [Fact]
    public void All_linear_is_saved_as_the_resolved_module_names_as_peft_does()
    {
        using var model = PeftFixture.Peft.LoadBaseModel();
        var peft = PeftModel.Create(model, new LoHaConfig { R = 2, TargetModules = TargetModules.FromPattern("ALL-LINEAR") });
        var output = Directory.CreateTempSubdirectory("peft-all-linear-").FullName;
        try
        {
            peft.SavePretrained(output);
            var saved = AdapterConfig.Load(output);
            Assert.Equal(TargetModulesKind.Names, saved.TargetModules!.Kind);
            Assert.Equal(peft.TargetedModuleNames().Order(), saved.TargetModules.Names.Order());
            Assert.Equal(18, saved.TargetModules.Names.Count);
        }
        finally
        {
            Directory.Delete(output, recursive: true);
        }
    }

    [Fact]
    public void Named_adapters_switch_disable_delete_and_save_into_subfolders()
    {
        var inputs = PeftFixture.Peft.Inputs();
        var unetCase = PeftFixture.Peft.CaseTensors("lora");
        var textCase = PeftFixture.Peft.CaseTensors("lora_text_rslora_patterns");
        using var model = PeftFixture.Peft.LoadBaseModel();
        var peft = PeftModel.FromPretrained(model, PeftFixture.Peft.CaseDirectory("lora"));
        peft.LoadAdapter(PeftFixture.Peft.CaseDirectory("lora_text_rslora_patterns"), "text");
        Assert.Equal(["default", "text"], peft.AdapterNames);
        Assert.Equal("default", peft.ActiveAdapter);

        using (no_grad())
        {
            AssertOutputs(PeftFixture.Forward(model, inputs), unetCase["adapted.unet"], inputs["base.text"], "default active");
            peft.SetAdapter("text");
            AssertOutputs(PeftFixture.Forward(model, inputs), inputs["base.unet"], textCase["adapted.text"], "text active");
            using (peft.DisableAdapter())
            {
                Assert.True(peft.AdaptersDisabled);
                AssertOutputs(PeftFixture.Forward(model, inputs), inputs["base.unet"], inputs["base.text"], "disabled");
            }
            Assert.False(peft.AdaptersDisabled);
            AssertOutputs(PeftFixture.Forward(model, inputs), inputs["base.unet"], textCase["adapted.text"], "re-enabled");
        }

        var output = Directory.CreateTempSubdirectory("peft-multi-").FullName;
        try
        {
            peft.SavePretrained(output);
            using (var root = SafetensorsFile.Open(Path.Combine(output, PeftModel.WeightsFileName)))
            using (var sub = SafetensorsFile.Open(Path.Combine(output, "text", PeftModel.WeightsFileName)))
            {
                Assert.Equal(ReferenceKeys("lora"), root.Names.Order());
                Assert.Equal(ReferenceKeys("lora_text_rslora_patterns"), sub.Names.Order());
            }
            Assert.Equal(LoraConfig.PeftTypeName, AdapterConfig.Load(Path.Combine(output, "text")).PeftType);
        }
        finally
        {
            Directory.Delete(output, recursive: true);
        }

        peft.SetAdapter("default");
        peft.DeleteAdapter("default");
        Assert.Equal("text", peft.ActiveAdapter);
        Assert.Equal(["text"], peft.AdapterNames);
        Assert.All(peft.AdapterLayers(), l => Assert.DoesNotContain("default", l.AdapterNames));
        using (no_grad())
        {
            AssertOutputs(PeftFixture.Forward(model, inputs), inputs["base.unet"], textCase["adapted.text"], "after delete");
        }
        Assert.Throws<KeyNotFoundException>(() => peft.SetAdapter("default"));
    }

    [Fact]
    public void Only_the_active_adapter_trains_and_disabling_freezes_it()
    {
        using var model = PeftFixture.Peft.LoadBaseModel();
        var peft = PeftModel.Create(model, new LoraConfig { R = 2, TargetModules = TargetModules.FromNames(TextList) });
        peft.AddAdapter("second", new LoraConfig { R = 3, TargetModules = TargetModules.FromNames("fc1") });
        var fc1 = (LoraLayer)peft.GetAdapterLayer("text_encoder.layers.0.mlp.fc1");
        Assert.Equal(["default", "second"], fc1.AdapterNames);
        Assert.True(fc1.WeightA("default").requires_grad);
        Assert.False(fc1.WeightA("second").requires_grad);
        Assert.Equal((6 * 0 + 4 * (2 * 32 + 32 * 2) + (2 * 32 + 37 * 2) + (2 * 37 + 32 * 2), 66_341L + 788 + 3 * 32 + 37 * 3), peft.GetNbTrainableParameters());

        peft.SetAdapter("second");
        Assert.False(fc1.WeightA("default").requires_grad);
        Assert.True(fc1.WeightB("second").requires_grad);
        using (peft.DisableAdapter())
        {
            Assert.Equal(0, peft.GetNbTrainableParameters().Trainable);
        }
        Assert.Equal(3 * 32 + 37 * 3, peft.GetNbTrainableParameters().Trainable);
        Assert.Throws<NotSupportedException>(() => peft.AddAdapter("loha", new LoHaConfig { TargetModules = TargetModules.FromNames("fc2") }));
        Assert.Throws<ArgumentException>(() => peft.AddAdapter("second", new LoraConfig { TargetModules = TargetModules.FromNames("fc2") }));
        Assert.Throws<ArgumentException>(() => peft.AddAdapter("a.b", new LoraConfig { TargetModules = TargetModules.FromNames("fc2") }));
    }

    [Fact]
    public void Disabling_a_merged_adapter_unmerges_it_like_peft()
    {
        var inputs = PeftFixture.Peft.Inputs();
        var tensors = PeftFixture.Peft.CaseTensors("loha");
        using var model = PeftFixture.Peft.LoadBaseModel();
        var peft = PeftModel.FromPretrained(model, PeftFixture.Peft.CaseDirectory("loha"));
        peft.MergeAdapter();
        using var noGrad = no_grad();
        AssertOutputs(PeftFixture.Forward(model, inputs), tensors["merged.unet"], tensors["merged.text"], "merged");
        using (peft.DisableAdapter())
        {
            AssertOutputs(PeftFixture.Forward(model, inputs), inputs["base.unet"], inputs["base.text"], "disabled");
        }
        Assert.All(peft.AdapterLayers(), l => Assert.False(l.Merged));
        AssertOutputs(PeftFixture.Forward(model, inputs), tensors["adapted.unet"], tensors["adapted.text"], "adapted again");
    }

    [Fact]
    public void Deleting_a_merged_adapter_is_refused()
    {
        using var model = PeftFixture.Peft.LoadBaseModel();
        var peft = PeftModel.FromPretrained(model, PeftFixture.Peft.CaseDirectory("lokr"));
        peft.MergeAdapter();
        var error = Assert.Throws<InvalidOperationException>(() => peft.DeleteAdapter("default"));
        Assert.StartsWith("Adapter 'default' is merged into 'unet.down_block.resnets.0.conv1'", error.Message);
    }

    [Fact]
    public void Unload_restores_the_base_model_exactly()
    {
        var inputs = PeftFixture.Peft.Inputs();
        using var model = PeftFixture.Peft.LoadBaseModel();
        var peft = PeftModel.FromPretrained(model, PeftFixture.Peft.CaseDirectory("lora"));
        peft.MergeAdapter();
        var plain = peft.Unload();
        Assert.DoesNotContain(plain.modules(), m => m is AdapterLayer);
        using var noGrad = no_grad();
        AssertOutputs(PeftFixture.Forward(model, inputs), inputs["base.unet"], inputs["base.text"], "unloaded");
    }

    [Fact]
    public void Saving_lora_only_biases_writes_base_layer_bias_keys_and_loading_restores_them()
    {
        using var model = PeftFixture.Peft.LoadBaseModel();
        var peft = PeftModel.FromPretrained(model, PeftFixture.Peft.CaseDirectory("lora_bias_lora_only"), isTrainable: true);
        var fc1 = peft.GetAdapterLayer("text_encoder.layers.0.mlp.fc1");
        Assert.True(fc1.BaseBias!.requires_grad);
        using (no_grad()) fc1.BaseBias.AddInPlace(1);
        var output = Directory.CreateTempSubdirectory("peft-bias-").FullName;
        try
        {
            peft.SavePretrained(output);
            using var fresh = PeftFixture.Peft.LoadBaseModel();
            var reloaded = PeftModel.FromPretrained(fresh, output);
            TensorAssert.Close(fc1.BaseBias, reloaded.GetAdapterLayer("text_encoder.layers.0.mlp.fc1").BaseBias!, 0, 0, "fc1 bias");
            Assert.Equal("trainable params: 0 || all params: 67,917 || trainable%: 0.0000", reloaded.TrainableParametersSummary());
        }
        finally
        {
            Directory.Delete(output, recursive: true);
        }
    }

    [Fact]
    public void Bias_all_trains_and_saves_every_bias()
    {
        using var model = PeftFixture.Peft.LoadBaseModel();
        var peft = PeftModel.Create(model, new LoraConfig { R = 2, Bias = LoraBias.All, TargetModules = TargetModules.FromNames("fc1") });
        var biases = model.named_parameters().Where(p => p.name.Contains("bias")).ToList();
        Assert.All(biases, b => Assert.True(b.parameter.requires_grad, b.name));
        var keys = peft.GetAdapterStateDict().Keys.ToHashSet();
        Assert.Contains("base_model.model.text_encoder.layers.0.mlp.fc1.base_layer.bias", keys);
        Assert.Contains("base_model.model.unet.conv_in.bias", keys);
        Assert.Contains("base_model.model.unet.down_block.resnets.0.norm1.bias", keys);
        Assert.Equal(biases.Count + 2, keys.Count);
    }

    [Fact]
    public void A_file_that_does_not_fit_is_rejected_and_leaves_the_model_unchanged()
    {
        using var model = PeftFixture.Peft.LoadBaseModel();
        var folder = Directory.CreateTempSubdirectory("peft-bad-").FullName;
        try
        {
            var source = PeftFixture.Peft.CaseDirectory("lora_text_rslora_patterns");
            File.Copy(Path.Combine(source, AdapterConfig.FileName), Path.Combine(folder, AdapterConfig.FileName));
            var tensors = SafetensorsFile.LoadAll(Path.Combine(source, PeftModel.WeightsFileName));
            const string key = "base_model.model.text_encoder.layers.0.mlp.fc1.lora_A.weight";
            tensors[key] = zeros(3, 32);
            SafetensorsWriter.Save(Path.Combine(folder, PeftModel.WeightsFileName), tensors);

            var error = Assert.Throws<InvalidDataException>(() => PeftModel.FromPretrained(model, folder));
            Assert.EndsWith($": '{key}' has shape [3, 32] but the model expects [2, 32].", error.Message);
            Assert.DoesNotContain(model.modules(), m => m is AdapterLayer);

            tensors.Remove(key);
            SafetensorsWriter.Save(Path.Combine(folder, PeftModel.WeightsFileName), tensors);
            error = Assert.Throws<InvalidDataException>(() => PeftModel.FromPretrained(model, folder));
            Assert.Contains($"missing 1 adapter tensor(s) for 'default': {key}.", error.Message);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void Modules_to_save_train_a_copy_and_save_it_under_the_module_name()
    {
        var inputs = PeftFixture.Peft.Inputs();
        using var model = PeftFixture.Peft.LoadBaseModel();
        var config = new LoraConfig { R = 2, TargetModules = TargetModules.FromNames("fc1", "layer_norm2"), ModulesToSave = ["layer_norm2"] };
        var peft = PeftModel.Create(model, config);
        Assert.Equal(["text_encoder.layers.0.mlp.fc1"], peft.TargetedModuleNames());
        var wrapper = model.modules().OfType<ModulesToSaveWrapper>().Single();
        Assert.Equal("text_encoder.layers.0.layer_norm2", wrapper.ModuleName);
        Assert.All(wrapper.CopyOf("default").parameters(), p => Assert.True(p.requires_grad));
        Assert.All(wrapper.OriginalModule.parameters(), p => Assert.False(p.requires_grad));
        Assert.Equal((2 * 32 + 37 * 2 + 64, 66_341L + 2 * 32 + 37 * 2 + 64), peft.GetNbTrainableParameters());
        Assert.Contains("base_model.model.text_encoder.layers.0.layer_norm2.weight", peft.GetAdapterStateDict().Keys);
        Assert.Contains("base_model.model.text_encoder.layers.0.layer_norm2.bias", peft.GetAdapterStateDict().Keys);

        using var noGrad = no_grad();
        var copy = (TorchSharp.Modules.LayerNorm)wrapper.CopyOf("default");
        copy.bias!.AddInPlace(0.5);
        var shifted = PeftFixture.Forward(model, inputs).Text;
        using (peft.DisableAdapter())
        {
            var original = PeftFixture.Forward(model, inputs).Text;
            Assert.True((shifted - original).abs().max().item<float>() > 1e-3);
        }
        var plain = peft.MergeAndUnload();
        Assert.Same(copy, ModuleAt(plain, "text_encoder.layers.0.layer_norm2"));
    }

    [Fact]
    public void A_module_in_a_field_of_a_concrete_type_is_refused_before_anything_changes()
    {
        using var model = PeftFixture.Peft.LoadBaseModel();
        var config = new LoraConfig { R = 2, TargetModules = TargetModules.FromNames("fc1"), ModulesToSave = ["layer_norm1"] };
        var error = Assert.Throws<NotSupportedException>(() => PeftModel.Create(model, config));
        Assert.Equal("Cannot replace 'text_encoder.layers.0.layer_norm1': field 'layer_norm1' of TinyClipLayer is declared as LayerNorm, "
            + "which cannot hold the ModulesToSaveWrapper that replaces it. Declare it as Module<Tensor, Tensor> so adapters can wrap it.", error.Message);
        Assert.DoesNotContain(model.modules(), m => m is AdapterLayer or ModulesToSaveWrapper);
    }

    private static TorchSharp.torch.nn.Module ModuleAt(TorchSharp.torch.nn.Module root, string name) =>
        root.named_modules().Single(m => m.name == name).module;

    private static IEnumerable<string> ReferenceKeys(string caseName)
    {
        using var file = SafetensorsFile.Open(Path.Combine(PeftFixture.Peft.CaseDirectory(caseName), PeftModel.WeightsFileName));
        return file.Names.Order().ToList();
    }

    private static void AssertOutputs((Tensor Unet, Tensor Text) output, Tensor unet, Tensor text, string what)
    {
        TensorAssert.Close(unet, output.Unet, 1e-5, 1e-4, $"{what}: unet");
        TensorAssert.Close(text, output.Text, 1e-5, 1e-4, $"{what}: text");
    }
}
