using System.Text.Json;

namespace Peft.Typed.Models.Tests.Adapters.TinySd;

/// <summary>
/// The <c>spec</c> of a PEFT fixture's module.json: the sizes the toy module is built from (README of
/// shared/fixtures/peft). Structural choices this rebuild does not implement are refused naming the field.
/// </summary>
internal sealed record TinySdSpec(
    long InChannels, long Channels0, long MidChannels, long OutChannels, long TimeInput, long TimeDim,
    long GroupsIn, long GroupsMid, long GroupsOut, int Heads, long HeadDim, long ContextDim, long FeedForwardInner,
    long TextDim, int TextHeads, long TextInner)
{
    /// <summary>The transformer width: heads × head dim.</summary>
    public long Inner => Heads * HeadDim;

    /// <summary>Reads the spec from <paramref name="moduleJson"/> (a module.json file).</summary>
    public static TinySdSpec Read(string moduleJson)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(moduleJson));
        var spec = document.RootElement.GetProperty("spec");
        long Int(string name) => spec.GetProperty(name).GetInt64();
        void Require(string name, string expected)
        {
            var actual = spec.GetProperty(name).ToString();
            if (!string.Equals(actual, expected, StringComparison.OrdinalIgnoreCase))
                throw new NotSupportedException($"{moduleJson}: spec.{name} = {actual}; the rebuilt module implements {expected} only.");
        }
        Require("linear_projection", "false");
        Require("sampler", "down");
        Require("block_name", "down_block");
        Require("text_act", "quick_gelu");
        return new TinySdSpec(
            Int("in_ch"), Int("ch0"), Int("mid_ch"), Int("out_ch"), Int("temb_in"), Int("temb_dim"),
            Int("groups_in"), Int("groups_mid"), Int("groups_out"), (int)Int("heads"), Int("dim_head"), Int("context_dim"), Int("ff_inner"),
            Int("text_dim"), (int)Int("text_heads"), Int("text_inner"));
    }
}
