using Peft.Typed.Models.Unet;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Tests.Support;

/// <summary>
/// Compares the outputs of named submodules during one forward with intermediates.safetensors, through forward hooks.
/// Records the max abs difference per module path (the tensors themselves die with the forward's dispose scope).
/// </summary>
public sealed class IntermediateRecorder : IDisposable
{
    private readonly Dictionary<string, Tensor> _expected;
    private readonly List<Action> _removeHooks = [];

    public IntermediateRecorder(nn.Module model, Dictionary<string, Tensor> expected)
    {
        _expected = expected;
        var modules = model.named_modules().ToDictionary(m => m.name, m => m.module);
        foreach (var path in expected.Keys)
        {
            if (!modules.TryGetValue(path, out var module)) throw new KeyNotFoundException($"The model has no module '{path}'.");
            _removeHooks.Add(Hook(path, module));
        }
    }

    /// <summary>Max abs difference per module path; a module that never ran is absent.</summary>
    public Dictionary<string, double> Differences { get; } = [];

    private Action Hook(string path, nn.Module module) => module switch
    {
        nn.Module<Tensor, Tensor> m => m.register_forward_hook((_, _, output) => Record(path, output)).remove,
        nn.Module<Tensor, Tensor?, Tensor> m => m.register_forward_hook((_, _, _, output) => Record(path, output)).remove,
        nn.Module<UNetBlockInput, DownBlockOutput> m => m.register_forward_hook((_, _, output) => { Record(path, output.HiddenStates); return output; }).remove,
        nn.Module<UNetBlockInput, Tensor> m => m.register_forward_hook((_, _, output) => Record(path, output)).remove,
        nn.Module<UpBlockInput, Tensor> m => m.register_forward_hook((_, _, output) => Record(path, output)).remove,
        _ => throw new NotSupportedException($"No hook for module '{path}' of type {module.GetType().Name}."),
    };

    private Tensor Record(string path, Tensor output)
    {
        using var scope = NewDisposeScope();
        var expected = _expected[path];
        Differences[path] = expected.shape.SequenceEqual(output.shape)
            ? (output.detach().to_type(ScalarType.Float64) - expected.to_type(ScalarType.Float64)).abs().max().item<double>()
            : double.PositiveInfinity;
        return output;
    }

    public void Dispose()
    {
        foreach (var remove in _removeHooks) remove();
    }
}
