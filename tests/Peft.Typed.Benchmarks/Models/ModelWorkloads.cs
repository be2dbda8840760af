using Peft.Typed.Benchmarks.Flops;
using Peft.Typed.Models.Clip;
using Peft.Typed.Models.Tokenizers;
using Peft.Typed.Models.Unet;
using Peft.Typed.Testing;
using static TorchSharp.torch;

namespace Peft.Typed.Benchmarks.Models;

/// <summary>
/// The models and inputs that <see cref="ModelBenchmarks"/> times: unet-tiny on batch 2 of 32×32 latents with 77×32
/// context, clip-text-tiny on 2×77 token ids, two 2048×2048 float32 matrices for the machine's matmul ceiling, and
/// the self-attention of a 64×64 latent (4,096 tokens, 8 heads) at the training profile's mid head size (16) and
/// SD 1.5's (40).
/// </summary>
public sealed class ModelWorkloads : IDisposable
{
    /// <summary>The matrices of the matmul ceiling, here and in the training profile (its ceiling and machine probes).</summary>
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
        MidAttention = new AttentionInput(16, contiguousHeads: true, generator);
        Sd15Attention = new AttentionInput(40, contiguousHeads: true, generator);
    }

    /// <summary>Tokens and heads of the self-attention benchmarks: SD 1.5's first level at 512×512 pixels.</summary>
    public const int AttentionTokens = 4096, AttentionHeads = 8;

    /// <summary>
    /// Query, key and value of one self-attention: [1, heads, tokens, head size] from [1, tokens, heads·head size]
    /// projections that take gradients, either the transposed view or, as the UNet's Attention passes them, its contiguous
    /// copy; the output goes back to [1, tokens, heads·head size] as the Attention's output projection reads it, and its
    /// gradient is a fixed dense tensor, as inside a network.
    /// </summary>
    /// <remarks><paramref name="attention"/> computes the attention of [1, heads, tokens, head size] query, key and value;
    /// libtorch's scaled_dot_product_attention by default.</remarks>
    public sealed class AttentionInput(long headSize, bool contiguousHeads, Generator generator,
        Func<Tensor, Tensor, Tensor, Tensor>? attention = null) : IDisposable
    {
        private readonly Func<Tensor, Tensor, Tensor, Tensor> _attention =
            attention ?? ((q, k, v) => nn.functional.scaled_dot_product_attention(q, k, v));

        private readonly Tensor[] _projections = Enumerable.Range(0, 3)
            .Select(_ => randn([1, AttentionTokens, AttentionHeads * headSize], generator: generator).requires_grad_().DetachFromDisposeScope()).ToArray();

        private readonly Tensor _outputGradient = randn([1, AttentionTokens, AttentionHeads * headSize], generator: generator).DetachFromDisposeScope();

        public long HeadSize => headSize;

        public Tensor Forward()
        {
            var heads = _projections.Select(p => p.view(1, AttentionTokens, AttentionHeads, headSize).transpose(1, 2))
                .Select(h => contiguousHeads ? h.contiguous() : h).ToArray();
            return _attention(heads[0], heads[1], heads[2]).transpose(1, 2).flatten(2);
        }

        public Tensor ForwardBackward()
        {
            var output = Forward();
            output.backward([_outputGradient]);
            foreach (var p in _projections) p.grad = null;
            return output;
        }

        public void Dispose()
        {
            foreach (var p in _projections) p.Dispose();
            _outputGradient.Dispose();
        }
    }

    public AttentionInput MidAttention { get; }

    public AttentionInput Sd15Attention { get; }

    public UNet2DConditionModel Unet { get; }

    public CLIPTextModel Clip { get; }

    public UNet2DConditionInput UnetInput { get; }

    public Tensor TokenIds { get; }

    public Tensor MatrixA { get; }

    public Tensor MatrixB { get; }

    /// <summary>
    /// FLOPs per call of each benchmark method, from <see cref="FlopCounter"/> on a real forward pass. The UNet's backward
    /// is what <see cref="FlopCounter.BackwardByKind"/> counts for that pass (every weight trains; layers whose inputs need
    /// no gradient form none); a self-attention's backward is twice its forward (dP, dV, dQ, dK).
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
        MidAttention.Dispose();
        Sd15Attention.Dispose();
    }

    private static IReadOnlyDictionary<string, double> CountFlops()
    {
        using var workloads = Create();
        using var scope = NewDisposeScope();
        // With gradients on, as UnetForwardBackward runs: the counter then records what the backward forms.
        var unet = FlopCounter.Count(workloads.Unet, workloads.Unet.Tree, () => workloads.UnetForward());
        using var noGrad = no_grad();
        double clip = FlopCounter.Count(workloads.Clip, workloads.Clip.Tree, () => workloads.ClipForward()).Total;
        return new Dictionary<string, double>
        {
            [nameof(ModelBenchmarks.MatMul2048)] = FlopFormulas.MatMul(MatrixSize, MatrixSize, MatrixSize),
            [nameof(ModelBenchmarks.UnetForward)] = unet.Total,
            [nameof(ModelBenchmarks.UnetForwardBackward)] = unet.Total + unet.BackwardByKind.Values.Sum(),
            [nameof(ModelBenchmarks.ClipTextEncode)] = clip,
            [nameof(ModelBenchmarks.MidSelfAttentionForwardBackward)] = 3 * AttentionFlops(workloads.MidAttention),
            [nameof(ModelBenchmarks.Sd15SelfAttentionForwardBackward)] = 3 * AttentionFlops(workloads.Sd15Attention),
        };
    }

    private static double AttentionFlops(AttentionInput input) =>
        FlopFormulas.Attention(1, AttentionTokens, AttentionTokens, AttentionHeads * input.HeadSize);
}
