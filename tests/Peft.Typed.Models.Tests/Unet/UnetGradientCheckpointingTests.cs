using Peft.Typed.Models.Runtime;
using Peft.Typed.Models.Unet;
using Peft.Typed.Testing;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Tests.Unet;

/// <summary>
/// UNet gradient checkpointing: the same gradients as a plain backward, with less memory held between forward and
/// backward and a lower peak. Memory is libtorch's live CPU tensor storage, read from the C heap (see
/// <see cref="NativeHeap"/>); the collection runs alone so no other test allocates meanwhile.
/// </summary>
[Collection(GlobalGeneratorCollection.Name)]
public class UnetGradientCheckpointingTests(ITestOutputHelper output)
{
    private sealed record Measurement(long HeldAfterForward, long Peak, long TensorsLeft, Dictionary<string, Tensor> Gradients);

    private static Measurement ForwardBackward(UNet2DConditionModel model, UNet2DConditionInput input, bool checkpointing)
    {
        model.GradientCheckpointing = checkpointing;
        model.zero_grad();
        long before = NativeHeap.InUseBytes();
        long peak = before;
        using var sampling = new CancellationTokenSource();
        // Its own thread, not a thread-pool one: the model's attention kernels run on the pool (Parallel.For), and a
        // sampler queued behind them measured nothing in a busy CI run (peak 0 B both ways).
        var sampler = Task.Factory.StartNew(() =>
        {
            while (!sampling.IsCancellationRequested)
            {
                long now = NativeHeap.InUseBytes();
                if (now > Interlocked.Read(ref peak)) Interlocked.Exchange(ref peak, now);
            }
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

        long held;
        long liveBefore = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        using (var scope = NewDisposeScope())
        {
            var loss = model.call(input).Pow(2).mean();
            held = NativeHeap.InUseBytes() - before;
            loss.backward();
        }
        long tensorsLeft = DisposeScopeManager.Statistics.ThreadTotalLiveCount - liveBefore;
        sampling.Cancel();
        sampler.Wait();
        var gradients = model.named_parameters().ToDictionary(p => p.name, p => p.parameter.grad!.clone().DetachFromDisposeScope());
        return new Measurement(held, peak - before, tensorsLeft, gradients);
    }

    [SkippableFact]
    public void Checkpointing_gives_the_same_gradients_with_less_memory()
    {
        Skip.IfNot(NativeHeap.IsAvailable, "this test reads glibc's mallinfo2 (glibc 2.33+), which this platform lacks");
        using var model = UNet2DConditionModel.FromPretrained(Fixtures.PathOf("unet-tiny"));
        model.train();
        using var scope = NewDisposeScope();
        manual_seed(3);
        // 48×48 latents: activations, not the 2 M weights, dominate memory, as in real training.
        var input = new UNet2DConditionInput(randn(1, 4, 48, 48), tensor(new long[] { 700 }), randn(1, 7, 32));

        ForwardBackward(model, input, checkpointing: false);
        var plain = ForwardBackward(model, input, checkpointing: false);
        var checkpointed = ForwardBackward(model, input, checkpointing: true);

        output.WriteLine($"held after forward: {checkpointed.HeldAfterForward:N0} B checkpointed, {plain.HeldAfterForward:N0} B plain; peak {checkpointed.Peak:N0} B checkpointed, {plain.Peak:N0} B plain");
        foreach (var (name, gradient) in plain.Gradients)
        {
            float difference = (gradient - checkpointed.Gradients[name]).abs().max().item<float>();
            Assert.True(difference <= 1e-5f, $"{name}: gradients differ by {difference}");
        }
        Assert.Equal(0, plain.TensorsLeft);
        Assert.Equal(0, checkpointed.TensorsLeft);
        Assert.True(checkpointed.HeldAfterForward < plain.HeldAfterForward / 3,
            $"held after forward: {checkpointed.HeldAfterForward:N0} B checkpointed vs {plain.HeldAfterForward:N0} B plain");
        Assert.True(checkpointed.Peak < plain.Peak * 0.7,
            $"peak: {checkpointed.Peak:N0} B checkpointed vs {plain.Peak:N0} B plain");
    }
}
