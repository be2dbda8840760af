using Peft.Typed.Benchmarks.Flops;
using Peft.Typed.Models.Clip;
using Peft.Typed.Models.Tokenizers;
using Peft.Typed.Models.Unet;
using Peft.Typed.Testing;
using static TorchSharp.torch;

namespace Peft.Typed.Benchmarks.Models;

/// <summary>
/// The models and inputs that <see cref="ModelBenchmarks"/> times: unet-tiny on batch 2 of 32×32 latents with 77×32
/// context, clip-text-tiny on 2×77 token ids, and two 2048×2048 float32 matrices for the machine's matmul ceiling.
/// </summary>
public sealed class ModelWorkloads : IDisposable
{
    public const int MatrixSize = 2048;

    private static readonly Lazy<IReadOnlyDictionary<string, double>> LazyFlops = new(CountFlops);

    private ModelWorkloads()
    {
        using var generator = new Generator(2026);
        Unet = UNet2DConditionModel.FromPretrained(Fixtures.PathOf("unet-tiny"));
        Clip = CLIPTextModel.FromPretrained(Fixtures.PathOf("clip-text-tiny"));
        UnetInput = new UNet2DConditionInput(
            randn([2, 4, 32, 32], generator: generator).DetachFromDisposeScope(),
            tensor(new long[] { 10, 500 }).DetachFromDisposeScope(),
            randn([2, 77, 32], generator: generator).DetachFromDisposeScope());
        var tokenizer = ClipTokenizer.FromFolder(Fixtures.PathOf("clip-tokenizer"));
        var ids = new[] { "a photo of sks dog", "a watercolor painting of a lighthouse at dusk" }
            .SelectMany(p => tokenizer.EncodeForModel(p).Ids.Select(i => (long)i)).ToArray();
        TokenIds = tensor(ids, [2, ClipTokenizer.ModelMaxLength]).DetachFromDisposeScope();
        MatrixA = randn([MatrixSize, MatrixSize], generator: generator).DetachFromDisposeScope();
        MatrixB = randn([MatrixSize, MatrixSize], generator: generator).DetachFromDisposeScope();
    }

    public UNet2DConditionModel Unet { get; }

    public CLIPTextModel Clip { get; }

    public UNet2DConditionInput UnetInput { get; }

    public Tensor TokenIds { get; }

    public Tensor MatrixA { get; }

    public Tensor MatrixB { get; }

    /// <summary>
    /// FLOPs per call of each benchmark method, from <see cref="FlopCounter"/> on a real forward pass. A backward pass is
    /// counted as twice its forward (gradients with respect to inputs and to weights: one product each per layer).
    /// </summary>
    public static IReadOnlyDictionary<string, double> FlopsPerCall => LazyFlops.Value;

    public static ModelWorkloads Create() => new();

    public Tensor UnetForward() => Unet.call(UnetInput);

    public Tensor ClipForward() => Clip.call(TokenIds).LastHiddenState;

    public void Dispose()
    {
        Unet.Dispose();
        Clip.Dispose();
        UnetInput.Sample.Dispose();
        UnetInput.Timestep.Dispose();
        UnetInput.EncoderHiddenStates.Dispose();
        TokenIds.Dispose();
        MatrixA.Dispose();
        MatrixB.Dispose();
    }

    private static IReadOnlyDictionary<string, double> CountFlops()
    {
        using var workloads = Create();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        double unet = FlopCounter.Count(workloads.Unet, workloads.Unet.Tree, () => workloads.UnetForward()).Total;
        double clip = FlopCounter.Count(workloads.Clip, workloads.Clip.Tree, () => workloads.ClipForward()).Total;
        return new Dictionary<string, double>
        {
            [nameof(ModelBenchmarks.MatMul2048)] = FlopFormulas.MatMul(MatrixSize, MatrixSize, MatrixSize),
            [nameof(ModelBenchmarks.UnetForward)] = unet,
            [nameof(ModelBenchmarks.UnetForwardBackward)] = 3 * unet,
            [nameof(ModelBenchmarks.ClipTextEncode)] = clip,
        };
    }
}
