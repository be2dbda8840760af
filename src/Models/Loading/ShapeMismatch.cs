namespace Peft.Typed.Models.Loading;

/// <summary>A checkpoint tensor whose shape differs from the model parameter of the same name.</summary>
public sealed record ShapeMismatch(string Name, IReadOnlyList<long> CheckpointShape, IReadOnlyList<long> ModelShape)
{
    public override string ToString() => $"{Name} (checkpoint [{string.Join(", ", CheckpointShape)}], model [{string.Join(", ", ModelShape)}])";
}
