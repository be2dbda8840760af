using System.Text.Json;
using Peft.Typed.Models.Loading;
using Peft.Typed.Models.SafeTensors;
using Peft.Typed.Models.Vae;
using Peft.Typed.Testing;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Tests.Loading;

/// <summary>
/// FromPretrained / LoadWeights on temporary copies of vae-tiny whose checkpoint is altered: strict errors name every
/// bad tensor and the file, partial loads report them, and fp16/bf16/sharded checkpoints load.
/// </summary>
public sealed class CheckpointLoadingTests : IDisposable
{
    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("checkpoint-loading-");

    private static string FixtureFolder => Fixtures.PathOf("vae-tiny");

    private string WeightsPath => Path.Combine(_folder.FullName, "diffusion_pytorch_model.safetensors");

    public CheckpointLoadingTests() => File.Copy(Path.Combine(FixtureFolder, "config.json"), Path.Combine(_folder.FullName, "config.json"));

    public void Dispose()
    {
        _folder.Delete(recursive: true);
    }

    [Fact]
    public void A_missing_tensor_is_named_with_the_file()
    {
        using var scope = NewDisposeScope();
        var tensors = FixtureTensors();
        tensors.Remove("encoder.conv_in.bias");
        SafetensorsWriter.Save(WeightsPath, tensors);

        var error = Assert.Throws<CheckpointMismatchException>(() => AutoencoderKL.FromPretrained(_folder.FullName));
        Assert.Equal($"Checkpoint '{WeightsPath}' does not match the model.\n1 missing from the checkpoint: encoder.conv_in.bias.", error.Message);
        Assert.Equal(["encoder.conv_in.bias"], error.Report.Missing);
    }

    [Fact]
    public void A_tensor_of_the_wrong_shape_is_named_with_both_shapes()
    {
        using var scope = NewDisposeScope();
        var tensors = FixtureTensors();
        tensors["decoder.conv_out.bias"] = zeros(4);
        SafetensorsWriter.Save(WeightsPath, tensors);

        var error = Assert.Throws<CheckpointMismatchException>(() => AutoencoderKL.FromPretrained(_folder.FullName));
        Assert.Equal($"Checkpoint '{WeightsPath}' does not match the model.\n1 with a different shape: decoder.conv_out.bias (checkpoint [4], model [3]).", error.Message);
    }

    [Fact]
    public void An_unexpected_key_is_named()
    {
        using var scope = NewDisposeScope();
        var tensors = FixtureTensors();
        tensors["encoder.extra.weight"] = zeros(2);
        SafetensorsWriter.Save(WeightsPath, tensors);

        var error = Assert.Throws<CheckpointMismatchException>(() => AutoencoderKL.FromPretrained(_folder.FullName));
        Assert.Equal($"Checkpoint '{WeightsPath}' does not match the model.\n1 unexpected (not in the model): encoder.extra.weight.", error.Message);
    }

    [Fact]
    public void Every_problem_is_reported_in_one_exception_and_nothing_is_copied()
    {
        using var scope = NewDisposeScope();
        var tensors = FixtureTensors();
        tensors.Remove("quant_conv.weight");
        tensors.Remove("post_quant_conv.bias");
        tensors["decoder.conv_out.bias"] = zeros(4);
        tensors["unknown"] = zeros(1);
        SafetensorsWriter.Save(WeightsPath, tensors);

        using var model = new AutoencoderKL(PretrainedFolder.ReadConfig<Architecture.Configs.AutoencoderKLConfig>(FixtureFolder));
        var before = Parameter(model, "encoder.conv_in.weight").clone();
        var error = Assert.Throws<CheckpointMismatchException>(() => model.LoadWeights(WeightsPath));
        Assert.Equal(
            $"Checkpoint '{WeightsPath}' does not match the model.\n" +
            "2 missing from the checkpoint: quant_conv.weight, post_quant_conv.bias.\n" +
            "1 unexpected (not in the model): unknown.\n" +
            "1 with a different shape: decoder.conv_out.bias (checkpoint [4], model [3]).",
            error.Message);
        Assert.True(Parameter(model, "encoder.conv_in.weight").equal(before).all().item<bool>(), "a failed strict load changed the model");
    }

    [Fact]
    public void A_partial_load_copies_what_matches_and_reports_the_rest()
    {
        using var scope = NewDisposeScope();
        var tensors = FixtureTensors();
        tensors.Remove("encoder.conv_in.bias");
        tensors["encoder.extra.weight"] = zeros(2);
        SafetensorsWriter.Save(WeightsPath, tensors);

        using var model = new AutoencoderKL(PretrainedFolder.ReadConfig<Architecture.Configs.AutoencoderKLConfig>(FixtureFolder));
        var report = model.LoadWeights(WeightsPath, strict: false);

        Assert.False(report.IsExact);
        Assert.Equal(["encoder.conv_in.bias"], report.Missing);
        Assert.Equal(["encoder.extra.weight"], report.Unexpected);
        Assert.Empty(report.Mismatched);
        Assert.Equal(155, report.Loaded.Count);
        Assert.True(Parameter(model, "encoder.conv_in.weight").equal(tensors["encoder.conv_in.weight"]).all().item<bool>());
    }

    [Theory]
    [InlineData(ScalarType.Float16)]
    [InlineData(ScalarType.BFloat16)]
    public void A_half_precision_checkpoint_loads_into_a_float32_model(ScalarType stored)
    {
        using var scope = NewDisposeScope();
        var tensors = FixtureTensors().ToDictionary(e => e.Key, e => e.Value.to_type(stored));
        SafetensorsWriter.Save(WeightsPath, tensors);

        using var model = AutoencoderKL.FromPretrained(_folder.FullName);
        foreach (var (name, parameter) in model.named_parameters())
        {
            Assert.Equal(ScalarType.Float32, parameter.dtype);
            Assert.True(parameter.equal(tensors[name].to_type(ScalarType.Float32)).all().item<bool>(), $"{name} differs from its {stored} value");
        }
    }

    [Fact]
    public void A_float32_checkpoint_loads_into_a_float16_model()
    {
        using var scope = NewDisposeScope();
        using var model = AutoencoderKL.FromPretrained(FixtureFolder, ScalarType.Float16);
        var tensors = FixtureTensors();
        foreach (var (name, parameter) in model.named_parameters())
        {
            Assert.Equal(ScalarType.Float16, parameter.dtype);
            Assert.True(parameter.equal(tensors[name].to_type(ScalarType.Float16)).all().item<bool>(), name);
        }
    }

    [Fact]
    public void A_sharded_checkpoint_loads_through_its_index()
    {
        using var scope = NewDisposeScope();
        var tensors = FixtureTensors();
        var names = tensors.Keys.Order(StringComparer.Ordinal).ToList();
        var shards = new[] { names.Take(70), names.Skip(70) }.Select((part, i) => (File: $"diffusion_pytorch_model-0000{i + 1}-of-00002.safetensors", Names: part.ToList())).ToList();
        foreach (var (file, shardNames) in shards)
            SafetensorsWriter.Save(Path.Combine(_folder.FullName, file), shardNames.Select(n => KeyValuePair.Create(n, tensors[n])));
        var weightMap = shards.SelectMany(s => s.Names.Select(n => (n, s.File))).ToDictionary(e => e.n, e => e.File);
        File.WriteAllText(Path.Combine(_folder.FullName, "diffusion_pytorch_model.safetensors.index.json"),
            JsonSerializer.Serialize(new { metadata = new { total_size = 0 }, weight_map = weightMap }));

        using var model = AutoencoderKL.FromPretrained(_folder.FullName);
        foreach (var (name, parameter) in model.named_parameters())
            Assert.True(parameter.equal(tensors[name]).all().item<bool>(), name);
    }

    [Fact]
    public void A_folder_without_weights_is_reported()
    {
        using var scope = NewDisposeScope();
        var error = Assert.Throws<FileNotFoundException>(() => AutoencoderKL.FromPretrained(_folder.FullName));
        Assert.Equal($"No weights in model folder '{_folder.FullName}': expected diffusion_pytorch_model.safetensors or " +
            "diffusion_pytorch_model.safetensors.index.json (only safetensors checkpoints are loaded).", error.Message);
    }

    private static Dictionary<string, Tensor> FixtureTensors() => SafetensorsFile.LoadAll(Path.Combine(FixtureFolder, "diffusion_pytorch_model.safetensors"));

    private static Tensor Parameter(TorchSharp.torch.nn.Module model, string name) => model.named_parameters().Single(p => p.name == name).parameter;
}
