using Peft.Typed.Architecture.Configs;
using Peft.Typed.Architecture.Diagnostics;
using Peft.Typed.Architecture.Reading;

namespace Peft.Typed.Architecture.Validation;

/// <summary>Every check the CLIP text builder relies on (model class, hidden_act, sizes, whole heads).</summary>
internal static class ClipTextConfigValidator
{
    public static ConfigProblems Validate(ClipTextConfig c)
    {
        var p = new ConfigProblems(c);
        if (c.Architectures.Count != 1)
        {
            p.Add(ArchitectureDiagnosticCode.UnknownModelClass, "architectures",
                $"'architectures' must name exactly one class ({OptionText.List(SupportedValues.ClipArchitectures)}); found {c.Architectures.Count}.");
        }
        else
        {
            p.EachOneOf("architectures", c.Architectures, name => name, SupportedValues.ClipArchitectures, ArchitectureDiagnosticCode.UnknownModelClass);
        }
        p.OneOf("hidden_act", c.HiddenAct, SupportedValues.ClipActivations);

        p.AtLeast("vocab_size", c.VocabSize, 1);
        p.AtLeast("hidden_size", c.HiddenSize, 1);
        p.AtLeast("intermediate_size", c.IntermediateSize, 1);
        p.AtLeast("projection_dim", c.ProjectionDim, 1);
        p.AtLeast("num_hidden_layers", c.NumHiddenLayers, 1);
        p.AtLeast("num_attention_heads", c.NumAttentionHeads, 1);
        p.AtLeast("max_position_embeddings", c.MaxPositionEmbeddings, 1);
        if (c.NumAttentionHeads >= 1 && c.HiddenSize % c.NumAttentionHeads != 0)
        {
            p.Add(ArchitectureDiagnosticCode.InvalidOptionValue, "hidden_size",
                $"'hidden_size' {c.HiddenSize} is not divisible by num_attention_heads {c.NumAttentionHeads} (transformers requires whole heads).");
        }
        return p;
    }
}
