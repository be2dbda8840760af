using System.Text.Json;
using Peft.Typed.Testing;

namespace Peft.Typed.Architecture.Tests.Support;

/// <summary>
/// One fixture folder (unet-tiny, architectures/sd15-unet, ...) read with System.Text.Json, independently of the
/// library's own JSON reader: modules.json, parameters.json, module_details.json and the config files.
/// </summary>
public sealed class FixtureModel
{
    public FixtureModel(string folder) => Folder = folder;

    /// <summary>Relative to the fixtures root, '/'-separated: "unet-tiny", "architectures/sd15-unet".</summary>
    public string Folder { get; }

    public string PathOf(string file) => Fixtures.PathOf([.. Folder.Split('/'), file]);

    public string ReadText(string file) => File.ReadAllText(PathOf(file));

    /// <summary>modules.json: (qualified path, class name) in registration order.</summary>
    public IReadOnlyList<(string Path, string ClassName)> Modules()
    {
        using var document = JsonDocument.Parse(ReadText("modules.json"));
        return document.RootElement.EnumerateObject().Select(p => (p.Name, p.Value.GetString()!)).ToList();
    }

    /// <summary>parameters.json: (name, shape) in state_dict order.</summary>
    public IReadOnlyList<(string Name, long[] Shape)> Parameters()
    {
        using var document = JsonDocument.Parse(ReadText("parameters.json"));
        return document.RootElement.EnumerateArray()
            .Select(p => (p.GetProperty("name").GetString()!, p.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()).ToArray()))
            .ToList();
    }

    /// <summary>module_details.json: path to its JSON object (class plus hyper-parameters).</summary>
    public IReadOnlyList<(string Path, JsonElement Details)> ModuleDetails()
    {
        using var document = JsonDocument.Parse(ReadText("module_details.json"));
        return document.RootElement.EnumerateObject().Select(p => (p.Name, p.Value.Clone())).ToList();
    }

    public override string ToString() => Folder;
}
