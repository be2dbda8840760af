using Peft.Typed.Models.Tests.Adapters.TinySd;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Tests.Adapters;

/// <summary>The test model rebuilds the fixture's base module: same keys, shapes and un-adapted outputs.</summary>
public sealed class TinySdModuleTests
{
    [Fact]
    public void Base_module_reproduces_the_fixture_outputs_and_loss()
    {
        var inputs = PeftFixtures.Inputs();
        using var model = PeftFixtures.LoadBaseModel();
        using var noGrad = no_grad();
        var output = PeftFixtures.Forward(model, inputs);
        TensorAssert.Close(inputs["base.unet"], output.Unet, 1e-5, 1e-4, "base.unet");
        TensorAssert.Close(inputs["base.text"], output.Text, 1e-5, 1e-4, "base.text");
        TensorAssert.Close(inputs["base.loss"], PeftFixtures.Loss(output, inputs).reshape(1), 0, 1e-5, "base.loss");
    }

    [Fact]
    public void Parameter_count_matches_module_json()
    {
        using var model = new TinySdModule();
        Assert.Equal(66_341, model.parameters().Sum(p => p.numel()));
    }
}
