using System.Runtime;
using Peft.Typed.Testing;

namespace Peft.Typed.Testing.Tests;

public class WithoutCollectionTests
{
    [Fact]
    public void The_reference_runs_with_collection_held_off_and_the_mode_is_restored()
    {
        var before = GCSettings.LatencyMode;

        // Allocations well inside the budget (starting the region may collect first; inside it nothing may).
        var (mode, collections) = WithoutCollection.Run(() =>
        {
            int start = GC.CollectionCount(0);
            var blocks = Enumerable.Range(0, 1000).Select(_ => new byte[1024]).ToList();
            GC.KeepAlive(blocks);
            return (GCSettings.LatencyMode, GC.CollectionCount(0) - start);
        });

        Assert.Equal(GCLatencyMode.NoGCRegion, mode);
        Assert.Equal(0, collections);
        Assert.Equal(before, GCSettings.LatencyMode);
    }

    [Fact]
    public void A_reference_that_throws_still_ends_the_region()
    {
        var before = GCSettings.LatencyMode;
        Assert.Throws<InvalidOperationException>(() => WithoutCollection.Run(() => throw new InvalidOperationException("reference failed")));
        Assert.Equal(before, GCSettings.LatencyMode);
    }
}
