using Peft.Typed.Models.Runtime;
using Peft.Typed.Testing;
using TorchSharp;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Tests.Runtime;

/// <summary>
/// Each helper computes exactly what the TorchSharp member it replaces computes (the references below are the banned
/// members themselves, called with garbage collection held off).
/// </summary>
#pragma warning disable RS0030 // The banned members are the references.
[Collection(ReferenceCallsCollection.Name)]
public class TensorArithmeticTests
{
    private static readonly Tensor X = randn([4, 5], generator: new Generator(11));
    private static readonly Tensor Y = randn([4, 5], generator: new Generator(12));
    private static readonly Tensor Z = randn([4, 5], generator: new Generator(13)).abs().add(0.5);

    public static TheoryData<string> Operations => new(Cases.Keys);

    private static readonly Dictionary<string, (Func<Tensor> Helper, Func<Tensor> Reference)> Cases = new()
    {
        ["x + y"] = (() => X.Add(Y), () => X + Y),
        ["x + 0.7"] = (() => X.Add(0.7), () => X + 0.7),
        ["x += y"] = (() => X.clone().AddInPlace(Y), () => X.clone().add_(Y)),
        ["x += 0.3 y"] = (() => X.clone().AddInPlace(Y, 0.3), () => X.clone().add_(Y, 0.3)),
        ["x += 0.7"] = (() => X.clone().AddInPlace(0.7), () => X.clone().add_(0.7)),
        ["x - 0.7"] = (() => X.Sub(0.7), () => X - 0.7),
        ["1 - x"] = (() => X.RSub(1), () => 1 - X),
        ["x * 0.3"] = (() => X.Mul(0.3), () => X * 0.3),
        ["x *= 0.3"] = (() => X.clone().MulInPlace(0.3), () => X.clone().mul_(0.3)),
        ["x / 3"] = (() => X.Div(3), () => X / 3.0),
        ["z ** 0.5"] = (() => Z.Pow(0.5), () => Z.pow(0.5)),
        ["clamp"] = (() => X.Clamp(-0.5, 0.25), () => X.clamp(-0.5, 0.25)),
        ["clamp_min"] = (() => X.ClampMin(0.1), () => X.clamp_min(0.1)),
        ["x == 1"] = (() => X.Mul(0).AddInPlace(1).Eq(1), () => (X * 0 + 1).eq(1)),
        ["x > 0.2"] = (() => X.Gt(0.2), () => X > 0.2),
        ["x < 0.2"] = (() => X.Lt(0.2), () => X < 0.2),
        ["masked_fill"] = (() => X.MaskedFill(X.Gt(0), double.NegativeInfinity), () => X.masked_fill(X > 0, double.NegativeInfinity)),
        ["fill_"] = (() => X.clone().FillInPlace(2.5), () => X.clone().fill_(2.5)),
        ["addcmul_"] = (() => X.clone().AddcmulInPlace(Y, Z, 0.1), () => X.clone().addcmul_(Y, Z, 0.1)),
        ["addcdiv_"] = (() => X.clone().AddcdivInPlace(Y, Z, -0.1), () => X.clone().addcdiv_(Y, Z, -0.1)),
        ["full"] = (() => TensorArithmetic.Full([2, 3], 2.5), () => full([2, 3], 2.5)),
        ["full_like"] = (() => TensorArithmetic.FullLike(X, -1.5), () => full_like(X, -1.5)),
        ["arange(start, stop, step)"] = (() => TensorArithmetic.Arange(9, -3, -2), () => arange(9, -3, -2)),
        ["arange(stop) float32"] = (() => TensorArithmetic.Arange(6, ScalarType.Float32), () => arange(6, dtype: ScalarType.Float32)),
        ["arange(stop) int8"] = (() => TensorArithmetic.Arange(5, ScalarType.Int8), () => arange(5, dtype: ScalarType.Int8)),
    };

    [Theory]
    [MemberData(nameof(Operations))]
    public void A_helper_equals_the_TorchSharp_operation_it_replaces(string operation)
    {
        using var scope = NewDisposeScope();
        var (helper, reference) = Cases[operation];
        var actual = helper();
        var expected = WithoutCollection.Run(reference);
        Assert.Equal(expected.dtype, actual.dtype);
        Assert.Equal(expected.shape, actual.shape);
        Assert.True(expected.equal(actual).all().item<bool>(), $"{operation}: values differ");
    }

    [Fact]
    public void An_in_place_helper_returns_the_tensor_it_changed()
    {
        using var scope = NewDisposeScope();
        var x = X.clone();
        Assert.Same(x, x.AddInPlace(Y));
        Assert.Same(x, x.MulInPlace(2));
        Assert.Same(x, x.FillInPlace(0));
        Assert.Equal(0f, x.abs().max().item<float>());
    }
}
