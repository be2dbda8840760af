using System.Text.Json;
using Peft.Typed.Testing;

namespace Peft.Typed.Generated.Tests.Support;

/// <summary>A fixture's modules.json (every module with its class, in registration order), read independently of the library.</summary>
public static class FixtureModules
{
    /// <summary>(qualified name, class) of every module of the fixture folder (<c>unet-tiny</c>, <c>architectures/sd15-unet</c>).</summary>
    public static IReadOnlyList<(string Name, string Kind)> Of(string folder)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(Fixtures.PathOf([.. folder.Split('/'), "modules.json"])));
        return document.RootElement.EnumerateObject().Select(p => (p.Name, p.Value.GetString()!)).ToList();
    }

    /// <summary>The Linear and Conv2d modules of the fixture, the layers adapters wrap.</summary>
    public static IReadOnlyList<string> Adaptable(string folder) =>
        Of(folder).Where(m => m.Kind is "Linear" or "Conv2d").Select(m => m.Name).ToList();

    /// <summary>The class of module <paramref name="name"/>.</summary>
    public static string KindOf(string folder, string name) => Of(folder).Single(m => m.Name == name).Kind;

    /// <summary>The elements of the list at <paramref name="list"/> (<c>down_blocks.0</c>, <c>down_blocks.1</c>, ...), in order.</summary>
    public static IReadOnlyList<(string Name, string Kind)> ElementsOf(string folder, string list) =>
        Of(folder).Where(m => m.Name.StartsWith(list + ".", StringComparison.Ordinal) && m.Name.Length > list.Length + 1
            && m.Name[(list.Length + 1)..].All(char.IsAsciiDigit)).ToList();

    /// <summary>The tensor names in the header of a fixture's safetensors file (<c>clip-text-tiny/model.safetensors</c>).</summary>
    public static IReadOnlyList<string> TensorNames(string folder, string file)
    {
        using var stream = File.OpenRead(Fixtures.PathOf([.. folder.Split('/'), file]));
        var length = new byte[8];
        stream.ReadExactly(length);
        var header = new byte[BitConverter.ToInt64(length)];
        stream.ReadExactly(header);
        using var document = JsonDocument.Parse(header);
        return document.RootElement.EnumerateObject().Select(p => p.Name).Where(n => n != "__metadata__").ToList();
    }

    /// <summary>True when <paramref name="name"/> is <paramref name="root"/> or lies below it.</summary>
    public static bool IsWithin(string name, string root) => name == root || name.StartsWith(root + ".", StringComparison.Ordinal);
}
