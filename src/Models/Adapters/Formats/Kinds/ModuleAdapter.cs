using static TorchSharp.torch;

namespace Peft.Typed.Models.Adapters.Formats.Kinds;

/// <summary>
/// One module's adapter as a file holds it: its tensors by PEFT tensor name (<c>lora_A.weight</c>, <c>hada_w1_a</c>),
/// the alpha the file carries (null: none) and the name the file gives the module (for messages).
/// </summary>
internal sealed record ModuleAdapter(string Module, IReadOnlyDictionary<string, Tensor> Tensors, double? Alpha, string FileName);
