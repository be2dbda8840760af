using Peft.Typed.Architecture.Tree;

namespace Peft.Typed.Architecture.Diffusers;

/// <summary>diffusers Timesteps: the parameterless sinusoidal timestep embedding.</summary>
internal static class TimestepsBuilder
{
    public static ModuleNode Build(string path, int channels, bool flipSinToCos, int downscaleFreqShift) =>
        TorchLayers.Module(
            path,
            "Timesteps",
            ModuleOptions.Of(("num_channels", channels), ("flip_sin_to_cos", flipSinToCos), ("downscale_freq_shift", downscaleFreqShift)),
            new ModuleNode[0]);
}
