namespace Peft.Typed.Models.Adapters.LoKr;

/// <summary>PEFT's (LyCORIS') <c>factorization(dimension, factor)</c>: dim = m · n with m ≤ n.</summary>
public static class LoKrFactorization
{
    /// <summary>
    /// A given positive factor that divides <paramref name="dimension"/> is used as is; otherwise the divisor pair is
    /// grown from (1, dim) while the smaller divisor stays ≤ the factor (≤ dim for -1), e.g. 72 → (8, 9), 37 → (1, 37),
    /// 256 → (16, 16), 256 with factor 4 → (4, 64).
    /// </summary>
    public static (int M, int N) Factorize(int dimension, int factor = -1)
    {
        if (dimension <= 0) throw new ArgumentOutOfRangeException(nameof(dimension), dimension, "A dimension must be positive.");
        if (factor > 0 && dimension % factor == 0) return (factor, dimension / factor);
        if (factor == -1) factor = dimension;
        int m = 1, n = dimension;
        while (m < n)
        {
            int newM = m + 1;
            while (dimension % newM != 0) newM++;
            int newN = dimension / newM;
            // PEFT also stops when newM + newN > 1 + dimension, which never happens for a divisor pair.
            if (newM > factor) break;
            m = newM;
            n = newN;
        }
        return m > n ? (n, m) : (m, n);
    }
}
