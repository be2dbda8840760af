namespace Peft.Typed.Training.Data;

/// <summary>
/// The order of examples: like diffusers' DreamBooth dataset (length = max(instance, class) images, index i uses
/// instance image i mod n and class image i mod m) with a shuffling DataLoader that keeps the last short batch.
/// Each epoch's permutation comes from the run seed and the epoch, so any epoch can be regenerated on resume.
/// </summary>
public sealed class DreamBoothSchedule
{
    public DreamBoothSchedule(int instanceImages, int classImages, int batchSize, int seed)
    {
        if (instanceImages <= 0) throw new ArgumentOutOfRangeException(nameof(instanceImages), instanceImages, "At least one instance image is needed.");
        InstanceImages = instanceImages;
        ClassImages = classImages;
        BatchSize = batchSize;
        Seed = seed;
        Length = Math.Max(instanceImages, classImages);
    }

    public int InstanceImages { get; }
    public int ClassImages { get; }
    public int BatchSize { get; }
    public int Seed { get; }

    /// <summary>Examples per epoch.</summary>
    public int Length { get; }

    public int BatchesPerEpoch => (Length + BatchSize - 1) / BatchSize;

    /// <summary>The batches of <paramref name="epoch"/>, in order.</summary>
    public IReadOnlyList<IReadOnlyList<DreamBoothExample>> Batches(int epoch)
    {
        var order = Enumerable.Range(0, Length).ToArray();
        new Random(unchecked(Seed * 1_000_003 + epoch)).Shuffle(order);
        var batches = new List<IReadOnlyList<DreamBoothExample>>();
        for (int start = 0; start < Length; start += BatchSize)
        {
            batches.Add(order.Skip(start).Take(BatchSize).Select((index, offset) => new DreamBoothExample(
                index % InstanceImages,
                ClassImages > 0 ? index % ClassImages : null,
                ExampleSeed(epoch, start + offset))).ToList());
        }
        return batches;
    }

    private long ExampleSeed(int epoch, int position) => ((long)(uint)Seed << 32) ^ ((long)epoch << 20) ^ position;
}
