using static TorchSharp.torch;

namespace Peft.Typed.Training.Data.Shapes;

/// <summary>The captioned-shapes data set: every combination of kind, colour, size and position, split reproducibly.</summary>
public static class ShapeScenes
{
    /// <summary>Every scene, in a fixed order (kind, colour, size, position).</summary>
    public static IReadOnlyList<ShapeScene> All { get; } =
    [
        .. from kind in Enum.GetValues<ShapeKind>()
           from color in Enum.GetValues<ShapeColor>()
           from size in Enum.GetValues<ShapeSize>()
           from position in Enum.GetValues<ShapePosition>()
           select new ShapeScene(kind, color, size, position),
    ];

    /// <summary>
    /// A seeded split of <see cref="All"/>: <paramref name="heldBack"/> scenes the model never trains on (to check it
    /// composes captions it has not seen), the rest for training. The same seed gives the same split.
    /// </summary>
    public static (IReadOnlyList<ShapeScene> Train, IReadOnlyList<ShapeScene> HeldBack) Split(int seed, int heldBack)
    {
        if (heldBack < 0 || heldBack >= All.Count) throw new ArgumentOutOfRangeException(nameof(heldBack), $"Hold back 0 to {All.Count - 1} scenes, not {heldBack}.");
        var order = All.ToArray();
        new Random(seed).Shuffle(order);
        return (order[heldBack..], order[..heldBack]);
    }

    /// <summary>Each scene rendered with its own jitter from <paramref name="random"/>, as [N, 3, R, R] pixels in [-1, 1].</summary>
    public static Tensor Render(IReadOnlyList<ShapeScene> scenes, int resolution, Random random)
    {
        using var scope = NewDisposeScope();
        var pixels = scenes.Select(scene =>
        {
            using var image = scene.Render(resolution, random);
            return ImageTransform.ToPixels(image);
        }).ToList();
        return stack(pixels).MoveToOuterDisposeScope();
    }
}
