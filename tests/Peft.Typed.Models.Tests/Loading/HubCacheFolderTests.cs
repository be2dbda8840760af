using Peft.Typed.Models.Unet;
using Peft.Typed.Testing;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Tests.Loading;

/// <summary>
/// Model folders as a Hugging Face hub cache holds them: <c>snapshots/&lt;rev&gt;/unet/*</c> are symlinks into
/// <c>blobs/</c>. They load exactly like the files themselves, also through a chain of links.
/// </summary>
public sealed class HubCacheFolderTests : IDisposable
{
    private readonly DirectoryInfo _cache = Directory.CreateTempSubdirectory("hub-cache-");

    public void Dispose() => _cache.Delete(recursive: true);

    private static string Fixture => Fixtures.PathOf("unet-tiny");

    /// <summary>A snapshot folder whose files link to blobs; <paramref name="chained"/> links the weights through a second link.</summary>
    private string Snapshot(bool chained)
    {
        var blobs = Directory.CreateDirectory(Path.Combine(_cache.FullName, "blobs")).FullName;
        var unet = Directory.CreateDirectory(Path.Combine(_cache.FullName, "snapshots", "0123abcd", "unet")).FullName;
        foreach (var (name, blob) in new[] { ("config.json", "c0nf1g"), ("diffusion_pytorch_model.safetensors", "w31ghts") })
        {
            File.Copy(Path.Combine(Fixture, name), Path.Combine(blobs, blob));
            var target = Path.Combine("..", "..", "..", "blobs", blob);
            if (chained && name.EndsWith(".safetensors", StringComparison.Ordinal))
            {
                File.CreateSymbolicLink(Path.Combine(blobs, blob + ".link"), blob);
                target += ".link";
            }
            File.CreateSymbolicLink(Path.Combine(unet, name), target);
        }
        return unet;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_folder_of_symlinks_loads_the_same_weights_as_the_files(bool chained)
    {
        var folder = Snapshot(chained);
        Assert.NotNull(new FileInfo(Path.Combine(folder, "diffusion_pytorch_model.safetensors")).LinkTarget);

        using var linked = UNet2DConditionModel.FromPretrained(folder);
        using var direct = UNet2DConditionModel.FromPretrained(Fixture);
        var expected = direct.state_dict();
        var actual = linked.state_dict();
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        foreach (var (key, tensor) in expected) Assert.True(tensor.eq(actual[key]).all().item<bool>(), key);
    }

    [Fact]
    public void A_link_to_a_missing_blob_names_the_link_and_its_target()
    {
        var folder = Snapshot(chained: false);
        File.Delete(Path.Combine(_cache.FullName, "blobs", "w31ghts"));
        var error = Assert.Throws<FileNotFoundException>(() => UNet2DConditionModel.FromPretrained(folder));
        Assert.Contains(Path.Combine(folder, "diffusion_pytorch_model.safetensors"), error.Message);
        Assert.Contains(Path.Combine(_cache.FullName, "blobs", "w31ghts"), error.Message);
    }
}
