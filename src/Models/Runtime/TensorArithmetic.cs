using TorchSharp;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Runtime;

/// <summary>
/// Tensor arithmetic with numbers, written so that every native scalar outlives the libtorch call that reads it.
/// </summary>
/// <remarks>
/// TorchSharp passes numbers to libtorch as native <see cref="Scalar"/>s owned by finalizable objects. When it makes
/// one itself (the alpha of 1 in <c>a + b</c>, the 0.5 of <c>x * 0.5</c>) nothing references that object once its
/// handle is read, so a garbage collection started by another thread during the native call can finalize it and free
/// the scalar while libtorch still reads it: the call then fails with "Expected false to be true" from
/// <c>Scalar::toFloat</c>, or computes with a wrong value. <c>build/BannedSymbols.TorchSharp.txt</c> bans those
/// TorchSharp members and the implicit number-to-Scalar conversions in this repository; these are the replacements.
/// Each computes with the same libtorch operation as the member it replaces, so results are bit-identical.
/// </remarks>
public static class TensorArithmetic
{
    // A static root is never finalized, so this one scalar serves every addition's alpha of 1.
    private static readonly Scalar One = Create(1L);

    /// <summary><c>x + other</c>.</summary>
    public static Tensor Add(this Tensor x, Tensor other) => x.add(other, One);

    /// <summary><c>x + value</c>.</summary>
    public static Tensor Add(this Tensor x, double value) => With(x, value, static (t, v) => t.add(v, One));

    /// <summary><c>x += other</c> (in place; returns <paramref name="x"/>).</summary>
    public static Tensor AddInPlace(this Tensor x, Tensor other) => x.add_(other, One);

    /// <summary><c>x += alpha * other</c> (in place; returns <paramref name="x"/>).</summary>
    public static Tensor AddInPlace(this Tensor x, Tensor other, double alpha)
    {
        using var a = Create(alpha);
        return x.add_(other, a);
    }

    /// <summary><c>x += value</c> (in place; returns <paramref name="x"/>).</summary>
    public static Tensor AddInPlace(this Tensor x, double value) => With(x, value, static (t, v) => t.add_(v, One));

    /// <summary><c>x - value</c>.</summary>
    public static Tensor Sub(this Tensor x, double value) => With(x, value, static (t, v) => t.sub(v));

    /// <summary><c>value - x</c>, computed as TorchSharp does: <c>(-x) + value</c>.</summary>
    public static Tensor RSub(this Tensor x, double value)
    {
        using var negated = x.negative();
        return negated.Add(value);
    }

    /// <summary><c>x * value</c>.</summary>
    public static Tensor Mul(this Tensor x, double value) => With(x, value, static (t, v) => t.mul(v));

    /// <summary><c>x *= value</c> (in place; returns <paramref name="x"/>).</summary>
    public static Tensor MulInPlace(this Tensor x, double value) => With(x, value, static (t, v) => t.mul_(v));

    /// <summary><c>x / value</c>.</summary>
    public static Tensor Div(this Tensor x, double value) => With(x, value, static (t, v) => t.div(v));

    /// <summary><c>x ** exponent</c>.</summary>
    public static Tensor Pow(this Tensor x, double exponent) => With(x, exponent, static (t, e) => t.pow(e));

    /// <summary><c>x.clamp(min, max)</c>.</summary>
    public static Tensor Clamp(this Tensor x, double min, double max)
    {
        using var lo = Create(min);
        using var hi = Create(max);
        return x.clamp(lo, hi);
    }

    /// <summary><c>x.clamp_min(min)</c>.</summary>
    public static Tensor ClampMin(this Tensor x, double min) => With(x, min, static (t, m) => t.clamp_min(m));

    /// <summary><c>x == value</c>, element-wise.</summary>
    public static Tensor Eq(this Tensor x, double value) => With(x, value, static (t, v) => t.eq(v));

    /// <summary><c>x &gt; value</c>, element-wise.</summary>
    public static Tensor Gt(this Tensor x, double value) => With(x, value, static (t, v) => t.gt(v));

    /// <summary><c>x &lt; value</c>, element-wise.</summary>
    public static Tensor Lt(this Tensor x, double value) => With(x, value, static (t, v) => t.lt(v));

    /// <summary><c>x.masked_fill(mask, value)</c>.</summary>
    public static Tensor MaskedFill(this Tensor x, Tensor mask, double value)
    {
        using var v = Create(value);
        return x.masked_fill(mask, v);
    }

    /// <summary><c>x.fill_(value)</c> (in place; returns <paramref name="x"/>).</summary>
    public static Tensor FillInPlace(this Tensor x, double value) => With(x, value, static (t, v) => t.fill_(v));

    /// <summary><c>x += value * t1 * t2</c> (in place; returns <paramref name="x"/>).</summary>
    public static Tensor AddcmulInPlace(this Tensor x, Tensor t1, Tensor t2, double value)
    {
        using var v = Create(value);
        return x.addcmul_(t1, t2, v);
    }

    /// <summary><c>x += value * t1 / t2</c> (in place; returns <paramref name="x"/>).</summary>
    public static Tensor AddcdivInPlace(this Tensor x, Tensor t1, Tensor t2, double value)
    {
        using var v = Create(value);
        return x.addcdiv_(t1, t2, v);
    }

    /// <summary>A tensor of <paramref name="size"/> filled with <paramref name="value"/> (<c>torch.full</c>).</summary>
    public static Tensor Full(long[] size, double value, ScalarType? dtype = null, Device? device = null)
    {
        using var v = Create(value);
        return full(size, v, dtype, device);
    }

    /// <summary>A tensor shaped like <paramref name="like"/> filled with <paramref name="value"/> (<c>torch.full_like</c>).</summary>
    public static Tensor FullLike(Tensor like, double value) => With(like, value, static (t, v) => full_like(t, v));

    /// <summary><c>torch.arange(start, stop, step)</c>.</summary>
    public static Tensor Arange(long start, long stop, long step = 1, ScalarType? dtype = null, Device? device = null)
    {
        using var from = Create(start);
        using var to = Create(stop);
        using var by = Create(step);
        return arange(from, to, by, dtype, device);
    }

    /// <summary><c>torch.arange(stop)</c>: 0, 1, …, stop − 1.</summary>
    public static Tensor Arange(long stop, ScalarType? dtype = null, Device? device = null) => Arange(0, stop, 1, dtype, device);

    // The scalar is disposed only after op returns, so it stays reachable for the whole native call.
    private static Tensor With(Tensor x, double value, Func<Tensor, Scalar, Tensor> op)
    {
        using var scalar = Create(value);
        return op(x, scalar);
    }

#pragma warning disable RS0030 // The one place that makes scalars; every caller keeps them alive with `using`.
    private static Scalar Create(double value) => value.ToScalar();

    private static Scalar Create(long value) => value.ToScalar();
#pragma warning restore RS0030
}
