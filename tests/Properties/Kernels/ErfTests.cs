using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Functional.Kernels;

namespace Functional.Properties.Kernels;

/// <summary>Double-precision erf for checking the float kernel.</summary>
internal static class ReferenceErf
{
    /// <summary>
    /// erf(x) = 2/√π · e^(−x²) · Σₙ (2x²)ⁿ x / (1·3·…·(2n+1)): every term is positive, so the sum
    /// carries no cancellation and is accurate to a few double ulp for |x| ≤ 6; beyond, erf is ±1
    /// to double precision (erfc(6) ≈ 2e−17).
    /// </summary>
    public static double Erf(double x)
    {
        if (double.IsNaN(x)) return double.NaN;
        if (x == 0) return x; // keeps the sign of zero
        double a = Math.Abs(x);
        if (a > 6) return Math.Sign(x);
        double x2 = a * a, term = a, sum = a;
        for (int n = 1; n < 400 && term > sum * 1e-18; n++)
        {
            term *= 2 * x2 / (2 * n + 1);
            sum += term;
        }
        double r = 2 / Math.Sqrt(Math.PI) * Math.Exp(-x2) * sum;
        return Math.Sign(x) * Math.Min(r, 1.0);
    }

    /// <summary>PyTorch's GELU, evaluated in double.</summary>
    public static double Gelu(double x) => x * 0.5 * (1 + Erf(x / Math.Sqrt(2)));

    /// <summary>|got − expected| in units of the float spacing at expected (denormal spacing near 0).</summary>
    public static double Ulps(float got, double expected)
    {
        double a = Math.Abs(expected);
        int exponent = a < 1.1754943508222875e-38 ? -126 : (int)Math.Floor(Math.Log2(a));
        if (a >= 1.1754943508222875e-38 && Math.ScaleB(1.0, exponent) > a) exponent--; // Log2 rounding
        double ulp = Math.ScaleB(1.0, Math.Max(exponent, -126) - 23);
        return Math.Abs(got - expected) / ulp;
    }
}

public class ErfTests
{
    // Eigen's rational form is within ~1.1 ulp in exact arithmetic; evaluated in float (Horner,
    // one division) the measured worst case over all floats in [0, 4] is 7.5 ulp near x = 3.9.
    private const double MaxUlps = 8;

    [Fact]
    public void Known_values()
    {
        // erf(1), erf(0.5), erf(2) to 17 digits (Abramowitz & Stegun / series).
        Assert.InRange(ReferenceErf.Erf(1) - 0.84270079294971487, -1e-15, 1e-15);
        Assert.InRange(ReferenceErf.Erf(0.5) - 0.52049987781304654, -1e-15, 1e-15);
        Assert.InRange(ReferenceErf.Erf(2) - 0.99532226501895273, -1e-15, 1e-15);
        Assert.InRange(ReferenceErf.Erf(4) - 0.99999998458274209, -1e-15, 1e-15);
        Assert.InRange(ReferenceErf.Erf(-1e-20) - -1.1283791670955126e-20, -1e-35, 1e-35);
        Assert.True(ReferenceErf.Ulps(Erf.Scalar(1f), 0.84270079294971487) <= MaxUlps);
    }

    [Fact]
    public void Dense_sweep_is_within_a_few_ulp_of_double_erf()
    {
        var xs = new List<float>();
        for (int i = -12000; i <= 12000; i++) xs.Add(i * (1f / 1000)); // [-12, 12], step 0.001
        // Every 97th float bit pattern in (0, 12], both signs: covers tiny and denormal inputs.
        for (uint bits = 1; bits < BitConverter.SingleToUInt32Bits(12f); bits += 97)
        {
            float v = BitConverter.UInt32BitsToSingle(bits);
            xs.Add(v);
            xs.Add(-v);
        }
        var x = xs.ToArray();
        var y = new float[x.Length];
        Erf.Compute(x, y);
        double worst = 0;
        float worstAt = 0;
        for (int i = 0; i < x.Length; i++)
        {
            double u = ReferenceErf.Ulps(y[i], ReferenceErf.Erf(x[i]));
            if (u > worst) { worst = u; worstAt = x[i]; }
        }
        Assert.True(worst <= MaxUlps, $"worst error {worst:F2} ulp at x = {worstAt:R}");
    }

    [Fact]
    public void Special_values()
    {
        float[] x = [0f, -0f, float.NaN, float.PositiveInfinity, float.NegativeInfinity, 4f, -4f, 5f, -7.5f, 10f, -10f,
            float.MaxValue, float.MinValue, float.Epsilon, -float.Epsilon, 1e-30f, -1e-30f, 1e-45f];
        var y = new float[x.Length];
        Erf.Compute(x, y);
        Assert.Equal(0, BitConverter.SingleToInt32Bits(y[0]));
        Assert.Equal(BitConverter.SingleToInt32Bits(-0f), BitConverter.SingleToInt32Bits(y[1]));
        Assert.True(float.IsNaN(y[2]));
        Assert.Equal(1f, y[3]);
        Assert.Equal(-1f, y[4]);
        for (int i = 5; i <= 12; i++) Assert.Equal(MathF.Sign(x[i]), y[i]);
        for (int i = 13; i < x.Length; i++)
        {
            Assert.Equal(MathF.Sign(x[i]), MathF.Sign(y[i]));
            Assert.True(ReferenceErf.Ulps(y[i], ReferenceErf.Erf(x[i])) <= MaxUlps, $"x = {x[i]:R}: {y[i]:R}");
        }
        for (int i = 0; i < x.Length; i++)
            Assert.Equal(BitConverter.SingleToInt32Bits(y[i]), BitConverter.SingleToInt32Bits(Erf.Scalar(x[i])));
    }

    [Property(MaxTest = 300)]
    public Property Compute_equals_Scalar_bitwise_for_any_length_and_values() =>
        Prop.ForAll(Gen.Choose(0, 70).ToArbitrary(), Gen.Choose(0, int.MaxValue).ToArbitrary(), (n, seed) =>
        {
            var rng = new Random(seed);
            var x = new float[n];
            for (int i = 0; i < n; i++)
                x[i] = rng.Next(10) == 0 ? BitConverter.Int32BitsToSingle(rng.Next() ^ (rng.Next(2) << 31)) : (float)(rng.NextDouble() * 12 - 6);
            var y = new float[n];
            var g = new float[n];
            Erf.Compute(x, y);
            Erf.Gelu(x, g);
            for (int i = 0; i < n; i++)
            {
                Assert.Equal(BitConverter.SingleToInt32Bits(Erf.Scalar(x[i])), BitConverter.SingleToInt32Bits(y[i]));
                float gelu = x[i] * 0.5f * (1f + Erf.Scalar(x[i] * 0.70710678118654752440f));
                Assert.Equal(BitConverter.SingleToInt32Bits(gelu), BitConverter.SingleToInt32Bits(g[i]));
            }
        });

    [Fact]
    public void Gelu_is_close_to_double_gelu()
    {
        var x = new float[40001];
        for (int i = 0; i < x.Length; i++) x[i] = (i - 20000) / 1000f; // [-20, 20]
        var y = new float[x.Length];
        Erf.Gelu(x, y);
        for (int i = 0; i < x.Length; i++)
        {
            double expected = ReferenceErf.Gelu(x[i]);
            // The error is dominated by erf's few ulp near ±1, scaled by |x|/2, plus the result's rounding.
            double tolerance = 8 * 6e-8 * Math.Abs(x[i]) + 2e-7 * Math.Abs(expected) + 1e-30;
            Assert.True(Math.Abs(y[i] - expected) <= tolerance, $"x = {x[i]:R}: got {y[i]:R}, expected {expected:R}");
        }
        float[] s = [float.NaN, float.PositiveInfinity, float.NegativeInfinity, 0f, -0f];
        var g = new float[s.Length];
        Erf.Gelu(s, g);
        Assert.True(float.IsNaN(g[0]));
        Assert.Equal(float.PositiveInfinity, g[1]);
        Assert.True(float.IsNaN(g[2])); // −∞ · (1 + erf(−∞)) = −∞ · 0
        Assert.Equal(0f, g[3]);
        Assert.Equal(0f, g[4]);
    }

    [Fact]
    public void In_place_and_length_checks()
    {
        var x = new float[] { -1f, 0.5f, 2f, 3f, -3f, 0.1f, 0.2f, 0.3f, 0.4f, 5f };
        var expected = new float[x.Length];
        Erf.Compute(x, expected);
        Erf.Compute(x, x);
        Assert.Equal(expected, x);
        Assert.Equal("destination", Assert.Throws<ArgumentException>(() => Erf.Compute(new float[3], new float[4])).ParamName);
        Assert.Equal("destination", Assert.Throws<ArgumentException>(() => Erf.Gelu(new float[3], new float[2])).ParamName);
        Erf.Compute([], []);
    }
}

[Collection("Parallelism")]
public class ErfThreadTests
{
    [Fact]
    public void Results_are_identical_on_1_and_2_threads()
    {
        var rng = new Random(11);
        var x = new float[100_003];
        for (int i = 0; i < x.Length; i++) x[i] = (float)(rng.NextDouble() * 16 - 8);
        int saved = Parallelism.Threads;
        try
        {
            var a = new float[x.Length];
            var b = new float[x.Length];
            var ga = new float[x.Length];
            var gb = new float[x.Length];
            Parallelism.Threads = 1;
            Erf.Compute(x, a);
            Erf.Gelu(x, ga);
            Parallelism.Threads = 2;
            Erf.Compute(x, b);
            Erf.Gelu(x, gb);
            Assert.Equal(a, b);
            Assert.Equal(ga, gb);
        }
        finally
        {
            Parallelism.Threads = saved;
        }
    }
}
