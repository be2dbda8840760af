using static TorchSharp.torch;

namespace Peft.Typed.Models.Unet;

/// <summary>A down block's result: the output feature map and the skip tensors it adds for the up blocks, in order.</summary>
public sealed record DownBlockOutput(Tensor HiddenStates, IReadOnlyList<Tensor> ResSamples);
