using Peft.Typed.Models.Adapters.Lora;
using Peft.Typed.Models.Unet;
using Peft.Typed.TypedTargets;
using static TorchSharp.torch;

// TinyUnet and TinyTextEncoder are generated at build time from the two config.json files the .csproj lists.
// Here they get random weights; TinyUnet.FromPretrained(folder) would load a checkpoint whose config matches.
manual_seed(0);
using var unet = TinyUnet.Create();
using var textEncoder = TinyTextEncoder.Create();
Console.WriteLine($"TinyUnet: {TinyUnet.Targets.Modules.Count} modules, {TinyUnet.Targets.All.Count} of them Linear or Conv2d.");

// The hierarchy is typed with diffusers' names and returns the runtime modules.
var attention = unet.MidBlock.Attentions[0].TransformerBlocks[0].Attn2;
Console.WriteLine($"{attention.Path}: {attention.Module.GetType().Name}, to_k weight [{string.Join(", ", attention.ToK.Layer.weight!.shape)}].");

// Targets compose: the cross-attention key/value projections, plus the resnets' conv1 outside the first up block.
var unetTargets = (TinyUnet.Targets.ToK | TinyUnet.Targets.ToV).Within(TinyUnet.Scopes.Attn2)
    | TinyUnet.Targets.Conv1.Except(TinyUnet.Scopes.UpBlocks[0]);
Console.WriteLine($"UNet targets: {unetTargets.Count} modules.");

var unetPeft = unet.WithAdapter(new LoraConfig { R = 4, LoraAlpha = 4, TargetModules = unetTargets });
foreach (var name in unetPeft.TargetedModuleNames()) Console.WriteLine($"  adapted {name}");
unetPeft.PrintTrainableParameters();

// After the adapter is applied the same typed path leads to the LoRA layer and its weights.
var lora = attention.ToK.Adapter<LoraLayer>();
Console.WriteLine($"{lora.ModuleName}: lora_A [{string.Join(", ", lora.WeightA("default").shape)}], lora_B [{string.Join(", ", lora.WeightB("default").shape)}].");

// The text encoder with the seed script's minimal list (q_proj, v_proj) as a ready-made set.
var textPeft = textEncoder.WithAdapter(new LoraConfig { R = 4, LoraAlpha = 4, TargetModules = TinyTextEncoder.Targets.Minimal });
Console.WriteLine($"Text encoder targets: {TinyTextEncoder.Targets.Minimal}");
textPeft.PrintTrainableParameters();
Console.WriteLine($"Layer 1 q_proj adapted: {textEncoder.TextModel.Encoder.Layers[1].SelfAttn.QProj.IsAdapted}, k_proj adapted: {textEncoder.TextModel.Encoder.Layers[1].SelfAttn.KProj.IsAdapted}.");

// The adapted UNet still runs: one denoising prediction on random latents.
using (no_grad())
{
    using var scope = NewDisposeScope();
    var prediction = unet.Model.call(new UNet2DConditionInput(randn(1, 4, 32, 32), tensor(10L), randn(1, 77, 32)));
    Console.WriteLine($"UNet output [{string.Join(", ", prediction.shape)}].");
}
