using System.Text.Json;
using Peft.Typed.Architecture.Tests.Support;
using Peft.Typed.Architecture.Tree;

namespace Peft.Typed.Architecture.Tests.Trees;

/// <summary>The tree built from each fixture's config.json equals the diffusers 0.27.2 model listings.</summary>
public sealed class FixtureTreeTests
{
    [Theory]
    [MemberData(nameof(FixtureFolders.AllData), MemberType = typeof(FixtureFolders))]
    public void Module_paths_and_classes_equal_modules_json_in_order(string folder)
    {
        var expected = new FixtureModel(folder).Modules();
        var actual = TreeBuilding.FromFixture(folder).Modules.Select(m => (m.Path, m.ClassName)).ToList();

        SequenceAssert.Equal(expected, actual, m => $"{m.Path}: {m.ClassName}");
    }

    [Theory]
    [MemberData(nameof(FixtureFolders.AllData), MemberType = typeof(FixtureFolders))]
    public void Parameter_names_and_shapes_equal_parameters_json_in_order(string folder)
    {
        var expected = new FixtureModel(folder).Parameters();
        var actual = TreeBuilding.FromFixture(folder).Parameters.Select(p => (p.Name, Shape: p.Shape.ToArray())).ToList();

        SequenceAssert.Equal(expected, actual, p => $"{p.Name} [{string.Join(", ", p.Shape)}]");
    }

    [Theory]
    [MemberData(nameof(FixtureFolders.AllData), MemberType = typeof(FixtureFolders))]
    public void Options_equal_module_details_json_for_every_module_and_key(string folder)
    {
        var tree = TreeBuilding.FromFixture(folder);
        var details = new FixtureModel(folder).ModuleDetails();
        var mismatches = new List<string>();

        foreach (var (path, expected) in details)
        {
            var node = tree.FindOrNull(path);
            if (node is null)
            {
                mismatches.Add($"{path}: missing");
                continue;
            }
            mismatches.AddRange(OptionsComparison.Compare(path, node, expected));
        }

        Assert.Equal(details.Count, tree.Modules.Count);
        Assert.True(mismatches.Count == 0, $"{mismatches.Count} mismatches:\n" + string.Join("\n", mismatches.Take(30)));
    }

    /// <summary>The table of fixtures/README.md ("architectures/").</summary>
    [Theory]
    [InlineData("architectures/sd15-unet", 859_520_964L, 686, 709)]
    [InlineData("architectures/sd21-unet", 865_910_724L, 686, 709)]
    [InlineData("architectures/sdxl-base-unet", 2_567_463_684L, 1680, 1930)]
    [InlineData("architectures/sd-vae", 83_653_863L, 248, 243)]
    [InlineData("architectures/sdxl-vae", 83_653_863L, 248, 243)]
    public void Parameter_tensor_and_module_counts_match_the_fixtures_readme(string folder, long parameters, int tensors, int modulePaths)
    {
        var tree = TreeBuilding.FromFixture(folder);

        Assert.Equal(parameters, tree.ParameterCount);
        Assert.Equal(tensors, tree.Parameters.Count);
        Assert.Equal(modulePaths, tree.Modules.Count);
    }

    /// <summary>The tiny models: the tensor counts of their weights files (README), read from the safetensors headers.</summary>
    [Theory]
    [InlineData("unet-tiny", 304)]
    [InlineData("vae-tiny", 156)]
    public void Tiny_trees_have_exactly_the_tensors_of_the_weights_file(string folder, int tensors)
    {
        var weights = SafetensorsHeader.Read(new FixtureModel(folder).PathOf("diffusion_pytorch_model.safetensors"));
        var tree = TreeBuilding.FromFixture(folder);

        Assert.Equal(tensors, weights.Count);
        Assert.Equal(
            weights.OrderBy(w => w.Key, StringComparer.Ordinal).Select(w => $"{w.Key} [{string.Join(", ", w.Value)}]"),
            tree.Parameters.Select(p => p.ToString()).OrderBy(s => s, StringComparer.Ordinal));
    }
}
