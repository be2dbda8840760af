using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Layers;

/// <summary>
/// torch <c>nn.Embedding</c> as a managed module: a [num_embeddings, embedding_dim] <c>weight</c> looked up by index.
/// TorchSharp's own Embedding wraps a native module whose weight wrapper is tied to the dispose scope active when the
/// model is built, so a model built inside a scope would lose it.
/// </summary>
public sealed class Embedding : nn.Module<Tensor, Tensor>
{
    private readonly Parameter weight;

    public Embedding(long numEmbeddings, long embeddingDim, Device device, ScalarType dtype) : base(nameof(Embedding))
    {
        using (no_grad())
        {
            // torch initialises embeddings from N(0, 1). Parameters outlive whatever dispose scope builds the model.
            using var initial = empty([numEmbeddings, embeddingDim], dtype, device).normal_();
            weight = (Parameter)new Parameter(initial).DetachFromDisposeScope();
        }
        RegisterComponents();
    }

    public Parameter Weight => weight;

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var rows = weight.index_select(0, input.flatten());
        return rows.view([.. input.shape, weight.shape[1]]).MoveToOuterDisposeScope();
    }
}
