using Peft.Typed.Architecture.Tree;

namespace Peft.Typed.Architecture.Tests.Support;

/// <summary>Parses a fixture's config.json with the library and builds its tree, caching per folder (trees are immutable).</summary>
public static class TreeBuilding
{
    private static readonly Dictionary<string, ModuleTree> Cache = new();

    public static ModuleTree FromFixture(string folder)
    {
        lock (Cache)
        {
            if (Cache.TryGetValue(folder, out var tree)) return tree;
            var model = new FixtureModel(folder);
            tree = ArchitectureDescription.Parse(model.ReadText("config.json"), model.PathOf("config.json")).BuildTree();
            Cache[folder] = tree;
            return tree;
        }
    }
}
