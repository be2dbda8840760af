using Peft.Typed.Architecture.Tree;
using Peft.Typed.Models.Layers;
using Peft.Typed.Models.Runtime;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Clip;

/// <summary>
/// transformers <c>CLIPTextTransformer</c>: embeddings, causal encoder, <c>final_layer_norm</c>, and pooling at the
/// end-of-text token: <c>argmax(input_ids)</c> for the legacy eos_token_id 2 (SD 1.x configs), else the first position
/// holding eos_token_id.
/// </summary>
public sealed class CLIPTextTransformer : nn.Module<Tensor, CLIPTextModelOutput>
{
    private const long LegacyEosTokenId = 2;

    private readonly CLIPTextEmbeddings embeddings;
    private readonly CLIPEncoder encoder;
    private readonly nn.Module<Tensor, Tensor> final_layer_norm;

    private readonly long? _eosTokenId;

    /// <param name="eosTokenId">The config's eos_token_id; null or 2 pool at argmax(input_ids).</param>
    public CLIPTextTransformer(ModuleNode node, LayerFactory layers, long? eosTokenId) : base(node.Path)
    {
        LayerFactory.Expect(node, nameof(CLIPTextTransformer));
        _eosTokenId = eosTokenId;
        embeddings = new CLIPTextEmbeddings(node.Child("embeddings"), layers);
        encoder = new CLIPEncoder(node.Child("encoder"), layers);
        final_layer_norm = layers.LayerNorm(node.Child("final_layer_norm"));
        RegisterComponents();
    }

    /// <summary>The final LayerNorm, e.g. for clip skip: <c>FinalLayerNorm.call(output.HiddenStates[^(clipSkip + 1)])</c>.</summary>
    public nn.Module<Tensor, Tensor> FinalLayerNorm => final_layer_norm;

    public override CLIPTextModelOutput forward(Tensor inputIds)
    {
        if (inputIds.dim() != 2) throw new ArgumentException($"input_ids must be [batch, tokens], got [{string.Join(", ", inputIds.shape)}].", nameof(inputIds));
        using var scope = NewDisposeScope();
        var hiddenStates = encoder.call(embeddings.call(inputIds));
        var lastHiddenState = final_layer_norm.call(hiddenStates[^1]);
        var eosPositions = _eosTokenId is null or LegacyEosTokenId
            ? inputIds.argmax(-1)
            : inputIds.Eq(_eosTokenId.Value).to_type(ScalarType.Int32).argmax(-1);
        var index = eosPositions.view(-1, 1, 1).expand(-1, 1, lastHiddenState.shape[^1]);
        var pooled = lastHiddenState.gather(1, index).squeeze(1);
        scope.MoveToOuter(hiddenStates);
        return new CLIPTextModelOutput(lastHiddenState.MoveToOuterDisposeScope(), pooled.MoveToOuterDisposeScope(), hiddenStates);
    }
}
