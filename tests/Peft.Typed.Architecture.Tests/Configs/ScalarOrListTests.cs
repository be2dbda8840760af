using Peft.Typed.Architecture.Configs;

namespace Peft.Typed.Architecture.Tests.Configs;

public sealed class ScalarOrListTests
{
    [Fact]
    public void A_list_is_indexed_per_down_block_reversed_for_up_blocks_and_last_for_mid()
    {
        var heads = ScalarOrList<int>.List([5, 10, 20]);

        Assert.Equal([5, 10, 20], new[] { 0, 1, 2 }.Select(heads.ForDownBlock));
        Assert.Equal([20, 10, 5], new[] { 0, 1, 2 }.Select(heads.ForUpBlock));
        Assert.Equal(20, heads.ForMidBlock());
        Assert.Equal("[5, 10, 20]", heads.ToString());
        Assert.Equal(3, heads.Count);
    }

    [Fact]
    public void A_scalar_applies_to_every_block_and_compares_by_value()
    {
        ScalarOrList<int> heads = 8;

        Assert.Equal((8, 8, 8), (heads.ForDownBlock(3), heads.ForUpBlock(0), heads.ForMidBlock()));
        Assert.Null(heads.Count);
        Assert.Equal(ScalarOrList<int>.Scalar(8), heads);
        Assert.NotEqual(ScalarOrList<int>.List([8]), heads);
        Assert.Equal("false", ScalarOrList<bool>.Scalar(false).ToString());
        Assert.Equal("The value is a list [1, 2], not a single value.", Assert.Throws<InvalidOperationException>(() => ScalarOrList<int>.List([1, 2]).ScalarValue).Message);
    }
}
