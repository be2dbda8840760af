using static TorchSharp.torch;

namespace Peft.Typed.Models.Clip;

/// <summary>transformers <c>BaseModelOutputWithPooling</c> of the CLIP text encoder.</summary>
/// <param name="LastHiddenState"><c>final_layer_norm</c> of the last layer's output, [B, tokens, hidden].</param>
/// <param name="PooledOutput">The last hidden state at each row's end-of-text token, [B, hidden].</param>
/// <param name="HiddenStates">The embeddings, then each layer's output (without final_layer_norm): num_hidden_layers + 1 tensors.</param>
public sealed record CLIPTextModelOutput(Tensor LastHiddenState, Tensor PooledOutput, IReadOnlyList<Tensor> HiddenStates);
