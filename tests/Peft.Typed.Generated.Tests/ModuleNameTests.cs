using Peft.Typed.Architecture.Targeting;
using Peft.Typed.Generated.Tests.Support;

namespace Peft.Typed.Generated.Tests;

/// <summary>The module list a generated class carries (<c>Targets.Modules</c>) is exactly the reference <c>modules.json</c>.</summary>
public sealed class ModuleNameTests
{
    public static TheoryData<string, string> Models() => new()
    {
        { "architectures/sd15-unet", nameof(Sd15Unet) },
        { "architectures/sd21-unet", nameof(Sd21Unet) },
        { "architectures/sdxl-base-unet", nameof(SdxlUnet) },
        { "architectures/sd-vae", nameof(SdVae) },
        { "architectures/sdxl-vae", nameof(SdxlVae) },
        { "unet-tiny", nameof(TinyUnet) },
        { "vae-tiny", nameof(TinyVae) },
    };

    private static IReadOnlyList<ModuleEntry> ModulesOf(string className) => className switch
    {
        nameof(Sd15Unet) => Sd15Unet.Targets.Modules,
        nameof(Sd21Unet) => Sd21Unet.Targets.Modules,
        nameof(SdxlUnet) => SdxlUnet.Targets.Modules,
        nameof(SdVae) => SdVae.Targets.Modules,
        nameof(SdxlVae) => SdxlVae.Targets.Modules,
        nameof(TinyUnet) => TinyUnet.Targets.Modules,
        nameof(TinyVae) => TinyVae.Targets.Modules,
        _ => throw new ArgumentOutOfRangeException(nameof(className), className, null),
    };

    [Theory]
    [MemberData(nameof(Models))]
    public void Generated_module_names_and_classes_equal_modules_json(string folder, string className)
    {
        var expected = FixtureModules.Of(folder).Select(m => $"{m.Name} {m.Kind}");

        Assert.Equal(expected, ModulesOf(className).Select(m => $"{m.Name} {m.Kind}"));
    }

    /// <summary>The module path counts the fixtures README publishes.</summary>
    [Theory]
    [InlineData(nameof(Sd15Unet), 709)]
    [InlineData(nameof(Sd21Unet), 709)]
    [InlineData(nameof(SdxlUnet), 1930)]
    [InlineData(nameof(SdVae), 243)]
    [InlineData(nameof(SdxlVae), 243)]
    public void Generated_module_count_is_the_published_count(string className, int count)
    {
        Assert.Equal(count, ModulesOf(className).Count);
    }
}
