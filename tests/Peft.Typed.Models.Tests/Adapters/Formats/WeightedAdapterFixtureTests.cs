using Peft.Typed.Models.Adapters;
using Peft.Typed.Models.Adapters.Formats;
using Peft.Typed.Models.Runtime;
using Peft.Typed.Models.Tests.Support;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Tests.Adapters.Formats;

/// <summary>
/// diffusers' <c>set_adapters(names, weights)</c> as <see cref="PeftModel.SetAdapters"/> does it (PEFT's <c>set_scale</c> on
/// every layer), against ../shared/fixtures/lora-formats: weight 0.5 gives <c>output.*.lora_scale_0.5</c>, weight 1 gives
/// <c>output.*.lora</c>, two copies of the adapter at 0.3 and 0.2 give the 0.5 output again (updates add up), and 1.5
/// equals the adapter with 1.5 times its alpha.
/// </summary>
public sealed class WeightedAdapterFixtureTests
{
    public static TheoryData<string> Components => new(FormatsFixture.Components);

    /// <summary>
    /// Two models with equal weights run the same float32 operations, but not always in the same summation order: with
    /// other test classes calling libtorch at the same time one CI run saw 1.2e-6 between them on UNet outputs up to
    /// 3.1 (bit-equal when run alone). 1e-5 stays far below what the weights change (7e-2 and more for LoHa, LoKr).
    /// </summary>
    private const double SameComputation = 1e-5;

    [Theory]
    [MemberData(nameof(Components))]
    public void Adapter_weights_scale_the_update_as_peft_set_scale(string component)
    {
        using var scope = NewDisposeScope();
        var state = AdapterFiles.Read(FormatsFixture.PathOf("peft"), FormatsFixture.Catalogs())[component];
        var name = FormatsFixture.OutputName(component);
        double tolerance = FormatsFixture.Tolerance(component);
        using var model = FormatsFixture.NewModel(component);
        var peft = state.ApplyTo(model, "a");
        peft.AddAdapter("b", state.Config);
        peft.SetAdapterStateDict(state.Tensors, "b");

        peft.SetAdapters(["a"], [0.5]);
        Compare.Close(FormatsFixture.Case.Value[$"output.{name}.lora_scale_0.5"], FormatsFixture.Forward(component, model), tolerance, what: "weight 0.5");
        peft.SetAdapters(["a"], [1.0]);
        Compare.Close(FormatsFixture.Case.Value[$"output.{name}.lora"], FormatsFixture.Forward(component, model), tolerance, what: "weight 1");
        peft.SetAdapters(["a", "b"], [0.3, 0.2]);
        Compare.Close(FormatsFixture.Case.Value[$"output.{name}.lora_scale_0.5"], FormatsFixture.Forward(component, model), tolerance, what: "0.3 + 0.2");

        // Above 1 (no fixture output): the same as an adapter whose alpha is 1.5 times larger, PEFT's other route to a scale.
        peft.SetAdapters(["a"], [1.5]);
        using var scaled = FormatsFixture.NewModel(component);
        state.WithScale(1.5).ApplyTo(scaled);
        Compare.Close(FormatsFixture.Forward(component, scaled), FormatsFixture.Forward(component, model), SameComputation, what: "weight 1.5");
    }

    public static TheoryData<string> LycorisKinds => new() { "loha", "lokr" };

    /// <summary>LoHa and LoKr run at a weight the same way (PEFT's set_scale on their layers): like the adapter with that much more alpha.</summary>
    [Theory]
    [MemberData(nameof(LycorisKinds))]
    public void Lycoris_adapters_take_weights_as_their_alpha_scale(string kind)
    {
        using var scope = NewDisposeScope();
        var targets = Architecture.Targeting.TargetModules.FromNames("to_q", "to_v", "conv1");
        AdapterConfig config = kind == "loha"
            ? new Models.Adapters.LoHa.LoHaConfig { R = 4, Alpha = 8, InitWeights = false, TargetModules = targets }
            : new Models.Adapters.LoKr.LoKrConfig { R = 4, Alpha = 8, InitWeights = Models.Adapters.LoKr.LoKrInit.Random, DecomposeBoth = true, TargetModules = targets };
        using var model = FormatsFixture.NewModel("unet");
        manual_seed(7);
        var peft = PeftModel.Create(model, config, "a");
        var state = AdapterState.From(peft, "a");
        var outputs = new List<Tensor>();
        foreach (var weight in new[] { 0.5, 1.5 })
        {
            peft.SetAdapters(["a"], [weight]);
            using var scaled = FormatsFixture.NewModel("unet");
            state.WithScale(weight).ApplyTo(scaled);
            outputs.Add(FormatsFixture.Forward("unet", model));
            Compare.Close(FormatsFixture.Forward("unet", scaled), outputs[^1], SameComputation, what: $"{kind} weight {weight}");
        }
        Assert.True(outputs[0].Add(outputs[1].neg()).abs().max().item<float>() > 1e-4f, "the weight must change the output");
    }
}
