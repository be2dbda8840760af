using System.Text.Json;
using TorchSharp;

namespace Peft.Typed.Models.Tests.Support;

/// <summary>The parameters.json and modules.json listings of a fixture folder, and the same listings of a TorchSharp model.</summary>
public static class FixtureListings
{
    /// <summary>"name [shape]" per parameter, in state_dict order.</summary>
    public static List<string> Parameters(string parametersJson)
    {
        using var document = JsonDocument.Parse(File.ReadAllBytes(parametersJson));
        return document.RootElement.EnumerateArray()
            .Select(p => $"{p.GetProperty("name").GetString()} [{string.Join(", ", p.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()))}]")
            .ToList();
    }

    public static List<string> Parameters(torch.nn.Module model) =>
        model.named_parameters().Select(p => $"{p.name} [{string.Join(", ", p.parameter.shape)}]").ToList();

    /// <summary>"path: Class" per registered submodule (the root excluded), sorted by path.</summary>
    public static List<string> Modules(string modulesJson)
    {
        using var document = JsonDocument.Parse(File.ReadAllBytes(modulesJson));
        return document.RootElement.EnumerateObject().Where(p => p.Name.Length > 0)
            .Select(p => $"{p.Name}: {p.Value.GetString()}").Order(StringComparer.Ordinal).ToList();
    }

    /// <summary>The model's named_modules as "path: Class", the class being the Python name the module stands for.</summary>
    public static List<string> Modules(torch.nn.Module model) =>
        model.named_modules().Select(m => $"{m.name}: {ClassName(m.module)}").Order(StringComparer.Ordinal).ToList();

    private static string ClassName(torch.nn.Module module)
    {
        var name = module.GetType().Name;
        return name.Contains('`') ? name[..name.IndexOf('`')] : name;
    }
}
