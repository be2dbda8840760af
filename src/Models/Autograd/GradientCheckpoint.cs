using static TorchSharp.torch;

namespace Peft.Typed.Models.Autograd;

/// <summary>
/// Activation (gradient) checkpointing, which TorchSharp lacks: the wrapped function runs without recording a graph,
/// keeping only its inputs; backward recomputes it with gradients enabled and back-propagates through the
/// recomputation, so parameter gradients accumulate as usual and input gradients flow on. The CPU RNG state is
/// saved and restored around the recomputation so dropout masks are identical (PyTorch's preserve_rng_state).
/// </summary>
public sealed class GradientCheckpoint : autograd.SingleTensorFunction<GradientCheckpoint>
{
    public override string Name => nameof(GradientCheckpoint);

    /// <summary>
    /// Runs <paramref name="function"/> on <paramref name="inputs"/> with checkpointing when gradients are being
    /// recorded; otherwise simply calls it.
    /// </summary>
    public static Tensor Run(Func<Tensor[], Tensor> function, params Tensor[] inputs)
    {
        if (!is_grad_enabled()) return function(inputs);
        var arguments = new object[inputs.Length + 1];
        arguments[0] = function;
        Array.Copy(inputs, 0, arguments, 1, inputs.Length);
        return apply(arguments);
    }

    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        var function = (Func<Tensor[], Tensor>)vars[0];
        var inputs = vars.Skip(1).Cast<Tensor>().ToArray();
        ctx.save_data("function", function);
        // The context refuses tensors outside save_for_backward, so the RNG state travels as bytes.
        using (var rng = get_rng_state()) ctx.save_data("rng", rng.bytes.ToArray());
        ctx.save_data("requires_grad", inputs.Select(i => i.requires_grad).ToArray());
        ctx.save_for_backward(inputs.ToList());
        // The function's intermediates must be freed now, not when the caller's dispose scope ends, or nothing is saved.
        using (no_grad())
        using (var scope = NewDisposeScope())
        {
            return function(inputs).MoveToOuterDisposeScope();
        }
    }

    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor gradOutput)
    {
        var function = (Func<Tensor[], Tensor>)ctx.get_data("function");
        var requiresGrad = (bool[])ctx.get_data("requires_grad");
        var saved = ctx.get_saved_variables();
        var inputs = saved.Select((t, i) => requiresGrad[i] ? t.detach().requires_grad_() : t.detach()).ToArray();

        using var rng = tensor((byte[])ctx.get_data("rng"), dtype: ScalarType.Byte);
        var current = get_rng_state();
        set_rng_state(rng);
        try
        {
            using (enable_grad())
            using (var scope = NewDisposeScope())
            {
                function(inputs).backward([gradOutput]);
            }
        }
        finally
        {
            set_rng_state(current);
            current.Dispose();
        }

        // Reading .grad makes a new handle each time: read it once and dispose it with the recomputation's inputs.
        var grads = new List<Tensor> { null! };
        foreach (var input in inputs)
        {
            using (var grad = input.grad) grads.Add(grad?.detach()!);
            input.Dispose();
        }
        foreach (var tensor in saved) tensor.Dispose();
        return grads;
    }
}
