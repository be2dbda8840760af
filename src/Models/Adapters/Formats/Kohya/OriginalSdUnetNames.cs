using System.Globalization;
using Peft.Typed.Architecture.Targeting;

namespace Peft.Typed.Models.Adapters.Formats.Kohya;

/// <summary>
/// The original Stable Diffusion (CompVis/SGM) names of a diffusers UNet's modules, as A1111 LoRA files spell them
/// (<c>input_blocks.1.1.transformer_blocks.0.attn1.to_q</c>, <c>middle_block.0.in_layers.2</c>, <c>output_blocks.2.1.conv</c>).
/// Computed from the block structure of the model (how many resnets, attentions, down/upsamplers each block has,
/// i.e. the UNet config's <c>layers_per_block</c> and block types) the way kohya-ss <c>model_util</c> and diffusers'
/// <c>_maybe_map_sgm_blocks_to_diffusers</c> lay them out, not from a fixed table.
/// </summary>
public static class OriginalSdUnetNames
{
    private static readonly (string Diffusers, string Original)[] ResnetLayers =
    [
        ("conv1", "in_layers.2"), ("conv2", "out_layers.3"), ("time_emb_proj", "emb_layers.1"), ("conv_shortcut", "skip_connection"),
        ("norm1", "in_layers.0"), ("norm2", "out_layers.0"),
    ];

    /// <summary>Diffusers module name → original SD name, for every adaptable module the layout covers.</summary>
    public static IReadOnlyDictionary<string, string> Map(ModuleCatalog catalog)
    {
        var blocks = BlockPrefixes(catalog);
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var module in catalog.Modules)
        {
            if (module.Name.Length == 0 || !ModuleCatalog.IsAdaptableKind(module.Kind)) continue;
            if (Translate(module.Name, blocks) is { } original) map[module.Name] = original;
        }
        return map;
    }

    private static string? Translate(string name, IReadOnlyList<(string Diffusers, string Original, bool Resnet)> blocks)
    {
        foreach (var (prefix, original, resnet) in blocks)
        {
            if (name == prefix) return original;
            if (!name.StartsWith(prefix + ".", StringComparison.Ordinal)) continue;
            var rest = name.Substring(prefix.Length + 1);
            if (resnet)
            {
                foreach (var (d, o) in ResnetLayers)
                {
                    if (rest == d) return $"{original}.{o}";
                }
                return null;
            }
            return $"{original}.{rest}";
        }
        return null;
    }

    /// <summary>(diffusers prefix, original prefix, is a resnet), longest diffusers prefixes first.</summary>
    private static List<(string Diffusers, string Original, bool Resnet)> BlockPrefixes(ModuleCatalog catalog)
    {
        static string N(int i) => i.ToString(CultureInfo.InvariantCulture);
        var blocks = new List<(string, string, bool)>
        {
            ("conv_in", "input_blocks.0.0", false),
            ("conv_out", "out.2", false),
            ("time_embedding.linear_1", "time_embed.0", false),
            ("time_embedding.linear_2", "time_embed.2", false),
            ("add_embedding.linear_1", "label_emb.0.0", false),
            ("add_embedding.linear_2", "label_emb.0.2", false),
        };

        int input = 1;
        for (int i = 0; i < catalog.ChildCount("down_blocks"); i++)
        {
            var block = $"down_blocks.{N(i)}";
            int attentions = catalog.ChildCount($"{block}.attentions");
            for (int j = 0; j < catalog.ChildCount($"{block}.resnets"); j++, input++)
            {
                blocks.Add(($"{block}.resnets.{N(j)}", $"input_blocks.{N(input)}.0", true));
                if (j < attentions) blocks.Add(($"{block}.attentions.{N(j)}", $"input_blocks.{N(input)}.1", false));
            }
            if (catalog.Contains($"{block}.downsamplers.0"))
            {
                blocks.Add(($"{block}.downsamplers.0.conv", $"input_blocks.{N(input)}.0.op", false));
                input++;
            }
        }

        int mid = catalog.ChildCount("mid_block.attentions");
        for (int j = 0; j < catalog.ChildCount("mid_block.resnets"); j++)
        {
            blocks.Add(($"mid_block.resnets.{N(j)}", $"middle_block.{N(2 * j)}", true));
            if (j < mid) blocks.Add(($"mid_block.attentions.{N(j)}", $"middle_block.{N(2 * j + 1)}", false));
        }

        int output = 0;
        for (int i = 0; i < catalog.ChildCount("up_blocks"); i++)
        {
            var block = $"up_blocks.{N(i)}";
            int attentions = catalog.ChildCount($"{block}.attentions");
            int resnets = catalog.ChildCount($"{block}.resnets");
            for (int j = 0; j < resnets; j++, output++)
            {
                blocks.Add(($"{block}.resnets.{N(j)}", $"output_blocks.{N(output)}.0", true));
                if (j < attentions) blocks.Add(($"{block}.attentions.{N(j)}", $"output_blocks.{N(output)}.1", false));
                if (j == resnets - 1 && catalog.Contains($"{block}.upsamplers.0"))
                    blocks.Add(($"{block}.upsamplers.0", $"output_blocks.{N(output)}.{(attentions > 0 ? "2" : "1")}", false));
            }
        }
        return blocks.OrderByDescending(b => b.Item1.Length).ToList();
    }
}
