using System.Text.Json;
using Peft.Typed.Architecture.Targeting;
using Peft.Typed.Generators.Tests.Support;
using Peft.Typed.Testing;

namespace Peft.Typed.Generators.Tests.Runtime;

/// <summary>The module list a generated class carries (<c>Targets.Modules</c>) is exactly the reference <c>modules.json</c>.</summary>
[Collection(GeneratedAssemblyCollection.Name)]
public sealed class ModuleNameTests(GeneratedAssembly generated)
{
    [Theory]
    [InlineData("architectures/sd15-unet", "Sd15Unet")]
    [InlineData("architectures/sd21-unet", "Sd21Unet")]
    [InlineData("architectures/sdxl-base-unet", "SdxlUnet")]
    [InlineData("architectures/sd-vae", "SdVae")]
    [InlineData("architectures/sdxl-vae", "SdxlVae")]
    [InlineData("unet-tiny", "TinyUnet")]
    [InlineData("vae-tiny", "TinyVae")]
    public void Generated_module_names_and_classes_equal_modules_json(string folder, string className)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(Fixtures.PathOf([.. folder.Split('/'), "modules.json"])));
        var expected = document.RootElement.EnumerateObject().Select(p => $"{p.Name} {p.Value.GetString()}").ToList();

        var modules = generated.Static<IReadOnlyList<ModuleEntry>>(className, "Targets", "Modules");

        Assert.Equal(expected, modules.Select(m => $"{m.Name} {m.Kind}"));
    }

    /// <summary>The module path counts the fixtures README publishes.</summary>
    [Theory]
    [InlineData("Sd15Unet", 709)]
    [InlineData("Sd21Unet", 709)]
    [InlineData("SdxlUnet", 1930)]
    [InlineData("SdVae", 243)]
    [InlineData("SdxlVae", 243)]
    public void Generated_module_count_is_the_published_count(string className, int count)
    {
        Assert.Equal(count, generated.Static<IReadOnlyList<ModuleEntry>>(className, "Targets", "Modules").Count);
    }
}
