using Peft.Typed.Architecture.Tree;
using Peft.Typed.Models.Layers;
using Peft.Typed.Models.Runtime;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Clip;

/// <summary>transformers <c>CLIPTextEmbeddings</c>: <c>token_embedding(input_ids) + position_embedding(0 .. seq_len-1)</c>.</summary>
public sealed class CLIPTextEmbeddings : nn.Module<Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> token_embedding;
    private readonly nn.Module<Tensor, Tensor> position_embedding;

    private readonly long _maxPositions;

    public CLIPTextEmbeddings(ModuleNode node, LayerFactory layers) : base(node.Path)
    {
        LayerFactory.Expect(node, nameof(CLIPTextEmbeddings));
        token_embedding = layers.Embedding(node.Child("token_embedding"));
        var positions = node.Child("position_embedding");
        position_embedding = layers.Embedding(positions);
        _maxPositions = positions.Options.GetInt("num_embeddings");
        RegisterComponents();
    }

    public override Tensor forward(Tensor inputIds)
    {
        long length = inputIds.shape[^1];
        if (length > _maxPositions)
            throw new ArgumentException($"input_ids has {length} tokens; this text encoder takes at most {_maxPositions} (max_position_embeddings).", nameof(inputIds));
        using var scope = NewDisposeScope();
        var positionIds = TensorArithmetic.Arange(length, ScalarType.Int64, inputIds.device).unsqueeze(0);
        return token_embedding.call(inputIds).Add(position_embedding.call(positionIds)).MoveToOuterDisposeScope();
    }
}
