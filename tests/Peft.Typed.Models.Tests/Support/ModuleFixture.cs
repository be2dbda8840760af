using Peft.Typed.Architecture;
using Peft.Typed.Architecture.Tree;
using Peft.Typed.Models.Layers;
using Peft.Typed.Models.Loading;
using Peft.Typed.Models.SafeTensors;
using Peft.Typed.Testing;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Tests.Support;

/// <summary>
/// One diffusers fixture folder (unet-tiny, vae-tiny): the tree its config.json describes, and single modules built
/// from a sub-tree with their weights loaded from the fixture's checkpoint, to replay the cases of units.safetensors.
/// </summary>
public sealed class ModuleFixture(string folder)
{
    private readonly Lazy<ModuleTree> _tree = new(() =>
    {
        var config = Fixtures.PathOf(folder, "config.json");
        return ArchitectureDescription.Parse(File.ReadAllText(config), config).BuildTree();
    });
    private readonly Lazy<Dictionary<string, Tensor>> _units = new(() => LoadShared(Fixtures.PathOf(folder, "units.safetensors")));

    public ModuleTree Tree => _tree.Value;

    public string WeightsPath => Fixtures.PathOf(folder, "diffusion_pytorch_model.safetensors");

    /// <summary>Builds the module at <paramref name="path"/> from its node and loads its weights strictly.</summary>
    public T Build<T>(string path, Func<ModuleNode, LayerFactory, T> create) where T : nn.Module
    {
        var module = create(Tree.Find(path), LayerFactory.Default);
        StateDictLoader.Load(module, WeightsPath, prefix: path + ".");
        module.eval();
        return module;
    }

    /// <summary>A tensor of units.safetensors: <c>{path}/{tag}/in.{argument}</c> or <c>{path}/{tag}/out</c>.</summary>
    public Tensor Unit(string path, string tag, string entry) => _units.Value[$"{path}/{tag}/{entry}"];

    /// <summary>Loads every tensor of a file for the whole test run: detached from the dispose scope of the test that loads it first.</summary>
    public static Dictionary<string, Tensor> LoadShared(string path) =>
        SafetensorsFile.LoadAll(path).ToDictionary(e => e.Key, e => e.Value.DetachFromDisposeScope());
}
