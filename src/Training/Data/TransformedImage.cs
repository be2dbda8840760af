using static TorchSharp.torch;

namespace Peft.Typed.Training.Data;

/// <summary>
/// An image after <see cref="ImageTransform"/>: the pixels [3, H, W] in [-1, 1], the file's size before resizing and
/// the top-left corner of the crop in the resized (and, when flipped, flipped) image, as diffusers' SDXL script
/// records them for <c>add_time_ids</c>.
/// </summary>
public sealed record TransformedImage(Tensor Pixels, (int Height, int Width) OriginalSize, (int Top, int Left) CropTopLeft);
