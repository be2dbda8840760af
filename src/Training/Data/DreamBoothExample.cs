namespace Peft.Typed.Training.Data;

/// <summary>
/// One training example: an instance image and, with prior preservation, a class image. <see cref="Seed"/> drives
/// every random choice made for it (crop, flip, VAE sample, noise, timestep), so the same example gets the same
/// randomness whatever the batch size, accumulation or resume point.
/// </summary>
public sealed record DreamBoothExample(int InstanceImage, int? ClassImage, long Seed);
