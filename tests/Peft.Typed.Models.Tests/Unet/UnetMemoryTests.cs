using Peft.Typed.Models.Unet;
using Peft.Typed.Testing;
using TorchSharp;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Tests.Unet;

/// <summary>Repeated forwards leave no tensor behind: every intermediate dies in the forward's dispose scopes.</summary>
public class UnetMemoryTests
{
    [Fact]
    public void A_hundred_forward_passes_keep_the_live_tensor_count_flat()
    {
        using var model = UNet2DConditionModel.FromPretrained(Fixtures.PathOf("unet-tiny"));
        using var sample = randn(1, 4, 8, 8);
        using var timestep = tensor(400L);
        using var context = randn(1, 4, 32);
        using var noGrad = no_grad();
        var input = new UNet2DConditionInput(sample, timestep, context);
        model.call(input).Dispose();

        // No dispose scope around the calls: whatever a forward failed to dispose would stay alive and be counted.
        long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        for (int i = 0; i < 100; i++) model.call(input).Dispose();
        long after = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        Assert.Equal(before, after);

        // The counter does see a tensor that is not disposed.
        using var leaked = model.call(input);
        Assert.Equal(after + 1, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }
}
