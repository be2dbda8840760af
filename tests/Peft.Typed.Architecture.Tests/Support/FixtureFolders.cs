namespace Peft.Typed.Architecture.Tests.Support;

/// <summary>Every fixture folder with modules.json / parameters.json / module_details.json.</summary>
public static class FixtureFolders
{
    public static readonly string[] All =
    [
        "unet-tiny",
        "vae-tiny",
        "architectures/sd15-unet",
        "architectures/sd21-unet",
        "architectures/sdxl-base-unet",
        "architectures/sd-vae",
        "architectures/sdxl-vae",
    ];

    /// <summary>The folders with a config.resolved.json beside the published config.json.</summary>
    public static readonly string[] WithResolvedConfig =
    [
        "architectures/sd15-unet",
        "architectures/sd21-unet",
        "architectures/sdxl-base-unet",
        "architectures/sd-vae",
        "architectures/sdxl-vae",
    ];

    public static TheoryData<string> AllData() => new(All);

    public static TheoryData<string> WithResolvedConfigData() => new(WithResolvedConfig);
}
