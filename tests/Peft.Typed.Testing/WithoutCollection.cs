using System.Runtime;

namespace Peft.Typed.Testing;

/// <summary>
/// Runs reference code that hands libtorch Scalars it does not keep (TorchSharp's own optimizers, the banned arithmetic
/// members that TensorArithmetic replaces) with garbage collection held off: a collection during such a native call can
/// finalize the Scalar while libtorch still reads it (TorchSharp #1434, #1496; CI once failed in <c>optim.AdamW</c>'s
/// step with "Expected false to be true" from <c>Scalar::toFloat</c>; beside a thread that allocates, 3 of 20,000 such
/// steps failed, none of 20,000 run through this). Starting the region collects first, so finalizers then run only for
/// Scalars of calls already made. Callers belong to a test collection that runs without parallel tests, so no other
/// test's allocations use up the region's budget and end it early.
/// </summary>
public static class WithoutCollection
{
    // Managed allocations only (TorchSharp's wrappers, not tensor data): far more than any reference call here makes.
    private const long Budget = 16L << 20;

    public static T Run<T>(Func<T> reference)
    {
        ArgumentNullException.ThrowIfNull(reference);
        if (!GC.TryStartNoGCRegion(Budget))
            throw new InvalidOperationException("The runtime could not hold garbage collection off for a reference call.");
        try
        {
            return reference();
        }
        finally
        {
            // Allocating past the budget collects and ends the region by itself; ending it again would throw.
            if (GCSettings.LatencyMode == GCLatencyMode.NoGCRegion) GC.EndNoGCRegion();
        }
    }

    public static void Run(Action reference)
    {
        ArgumentNullException.ThrowIfNull(reference);
        Run(() =>
        {
            reference();
            return 0;
        });
    }
}
