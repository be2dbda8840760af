using Peft.Typed.Architecture.Configs;
using Peft.Typed.Architecture.Diagnostics;
using Peft.Typed.Architecture.Reading;

namespace Peft.Typed.Architecture.Validation;

/// <summary>Every check the VAE builder relies on (block types, list lengths, sizes, GroupNorm widths, act_fn).</summary>
internal static class AutoencoderKLConfigValidator
{
    public static ConfigProblems Validate(AutoencoderKLConfig c)
    {
        var p = new ConfigProblems(c);
        var blocks = c.DownBlockTypes.Count;
        if (blocks == 0) p.Add(ArchitectureDiagnosticCode.InvalidOptionValue, "down_block_types", "'down_block_types' must list at least one block.");

        p.EachOneOf("down_block_types", c.DownBlockTypes, SupportedValues.BlockClass, SupportedValues.VaeDownBlocks, ArchitectureDiagnosticCode.UnknownBlockType);
        p.EachOneOf("up_block_types", c.UpBlockTypes, SupportedValues.BlockClass, SupportedValues.VaeUpBlocks, ArchitectureDiagnosticCode.UnknownBlockType);
        p.SameLength("up_block_types", c.UpBlockTypes.Count, "down_block_types", blocks);
        p.SameLength("block_out_channels", c.BlockOutChannels.Count, "down_block_types", blocks);
        p.OneOf("act_fn", c.ActFn.ToLowerInvariant(), SupportedValues.DiffusersActivations);

        p.AtLeast("in_channels", c.InChannels, 1);
        p.AtLeast("out_channels", c.OutChannels, 1);
        p.AtLeast("latent_channels", c.LatentChannels, 1);
        p.AtLeast("layers_per_block", c.LayersPerBlock, 1);
        p.AtLeast("block_out_channels", c.BlockOutChannels, 1);
        p.AtLeast("norm_num_groups", c.NormNumGroups, 1);
        p.DivisibleBy("block_out_channels", c.BlockOutChannels, c.NormNumGroups, "norm_num_groups", "GroupNorm needs whole groups");
        return p;
    }
}
