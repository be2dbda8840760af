using Peft.Typed.Benchmarks.Training;

namespace Peft.Typed.Benchmarks.Tests;

/// <summary>The training profile's adapter path, pair by pair.</summary>
public class TrainingStepProfileTests
{
    [Fact]
    public void The_adapter_path_is_taken_within_each_pair_of_steps()
    {
        // A slow spell in the second pair: the medians' difference (20 - 12 = 8) mistakes it for adapter cost.
        double[] withAdapters = [10, 20, 30];
        double[] withoutAdapters = [9, 12, 29];

        var paired = TrainingStepProfile.PairedDifferences(withAdapters, withoutAdapters);

        Assert.Equal([1, 8, 1], paired);
    }

    [Fact]
    public void Unpaired_steps_are_refused()
    {
        var error = Assert.Throws<ArgumentException>(() => TrainingStepProfile.PairedDifferences([1, 2], [1]));
        Assert.Equal("2 steps with adapters but 1 without: the steps come in pairs.", error.Message);
    }
}
