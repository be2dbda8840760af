using System.Text.Json;
using Peft.Typed.Architecture.Tree;
using Peft.Typed.Testing;

namespace Peft.Typed.Models.Tests.Support;

/// <summary>
/// The module tree of a diffusers fixture read straight from its module_details.json and parameters.json: an
/// independent source of truth the runtime modules are checked against.
/// </summary>
public static class FixtureTree
{
    public static ModuleNode Load(params string[] folder)
    {
        using var details = JsonDocument.Parse(File.ReadAllBytes(Fixtures.PathOf([.. folder, "module_details.json"])));
        using var parameters = JsonDocument.Parse(File.ReadAllBytes(Fixtures.PathOf([.. folder, "parameters.json"])));

        var modules = details.RootElement.EnumerateObject().Select(p => (Path: p.Name, Details: p.Value)).ToList();
        var parametersOf = parameters.RootElement.EnumerateArray()
            .Select(p => (Name: p.GetProperty("name").GetString()!, Shape: p.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()).ToList()))
            .GroupBy(p => Parent(p.Name))
            .ToDictionary(g => g.Key, g => g.Select(p => new ParameterSpec(Leaf(p.Name), p.Shape)).ToList());
        var childrenOf = modules.Where(m => m.Path.Length > 0).GroupBy(m => Parent(m.Path)).ToDictionary(g => g.Key, g => g.ToList());

        ModuleNode Build(string path, JsonElement element) => new(
            path,
            element.GetProperty("class").GetString()!,
            new ModuleOptions(element.EnumerateObject().Where(p => p.Name != "class").Select(p => new KeyValuePair<string, object?>(p.Name, Value(p.Value)))),
            parametersOf.GetValueOrDefault(path) ?? [],
            childrenOf.GetValueOrDefault(path)?.Select(c => Build(c.Path, c.Details)).ToList() ?? []);

        return Build("", modules.Single(m => m.Path.Length == 0).Details);
    }

    /// <summary>The node at <paramref name="path"/> of a tree.</summary>
    public static ModuleNode Find(this ModuleNode root, string path) =>
        path.Length == 0 ? root : path.Split('.').Aggregate(root, (node, segment) => node.Child(segment));

    private static string Parent(string path) => path.Contains('.') ? path[..path.LastIndexOf('.')] : "";

    private static string Leaf(string path) => path[(path.LastIndexOf('.') + 1)..];

    private static object? Value(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Number when value.TryGetInt64(out var integer) => integer,
        JsonValueKind.Number => value.GetDouble(),
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        JsonValueKind.String => value.GetString(),
        JsonValueKind.Null => null,
        JsonValueKind.Array => value.EnumerateArray().Select(v => v.GetInt64()).ToList(),
        _ => throw new InvalidDataException($"Unexpected module option value {value}."),
    };
}
