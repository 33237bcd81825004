using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Functional.Kernels;

namespace Functional.Properties.Kernels;

/// <summary>Double-precision references for the exp-based activation kernels.</summary>
internal static class ReferenceExp
{
    /// <summary>exp(x) − 1 by its Taylor series below |x| = ½ (no cancellation), else from Math.Exp.</summary>
    public static double Expm1(double x)
    {
        if (double.IsNaN(x)) return x;
        if (Math.Abs(x) >= 0.5) return Math.Exp(x) - 1;
        double term = x, sum = x;
        for (int k = 2; k < 40; k++)
        {
            term *= x / k;
            sum += term;
        }
        return sum;
    }

    /// <summary>log(1 + y), Goldberg's form: exact for y below double rounding.</summary>
    public static double Log1p(double y)
    {
        double u = 1 + y;
        return u == 1 ? y : Math.Log(u) * y / (u - 1);
    }

    public static double Softplus(double z) => Math.Max(z, 0) + Log1p(Math.Exp(-Math.Abs(z)));

    public static double Sigmoid(double x) => x >= 0 ? 1 / (1 + Math.Exp(-x)) : Math.Exp(x) / (1 + Math.Exp(x));
}

public class ActivationKernelTests
{
    private const float SeluNegative = MoreActivations.SeluAlpha * MoreActivations.SeluScale;
    private const float SeluPositive = MoreActivations.SeluScale;

    /// <summary>One kernel: its span form, its scalar form, a double reference, and the measured ulp bound.</summary>
    private sealed record Kernel(
        string Name, Action<float[], float[]> Span, Func<float, float> Scalar, Func<float, double> Reference, double MaxUlps);

    // Bounds: the worst error measured over the sweep below, rounded up (see Exponential's summary).
    private static readonly Kernel[] Kernels =
    [
        new("exp", (x, d) => Exponential.Exp(x, d), Exponential.Exp, x => Math.Exp(x), 1.1),
        new("expm1", (x, d) => Exponential.Expm1(x, d), Exponential.Expm1, x => ReferenceExp.Expm1(x), 1.5),
        new("sigmoid", (x, d) => Exponential.Sigmoid(x, d), Exponential.Sigmoid, x => ReferenceExp.Sigmoid(x), 2.5),
        new("silu", (x, d) => Exponential.Silu(x, d), Exponential.Silu, x => x * ReferenceExp.Sigmoid(x), 3.5),
        new("tanh", (x, d) => Exponential.Tanh(x, d), Exponential.Tanh, x => Math.Tanh(x), 2.5),
        new("elu", (x, d) => Exponential.Elu(x, d, 1f, 1f, 1f), x => Exponential.Elu(x, 1f, 1f, 1f),
            x => x > 0 ? x : ReferenceExp.Expm1(x), 1.5),
        new("selu", (x, d) => Exponential.Elu(x, d, 1f, SeluNegative, SeluPositive), x => Exponential.Elu(x, 1f, SeluNegative, SeluPositive),
            x => x > 0 ? (double)SeluPositive * x : SeluNegative * ReferenceExp.Expm1(x), 2),
        new("celu_0.5", (x, d) => Exponential.Elu(x, d, 2f, 0.5f, 1f), x => Exponential.Elu(x, 2f, 0.5f, 1f),
            x => x > 0 ? x : 0.5 * ReferenceExp.Expm1(x * 2f), 1.5),
        new("mish", (x, d) => Exponential.Mish(x, d), Exponential.Mish, x => x * Math.Tanh(ReferenceExp.Softplus(x)), 4),
        new("softplus", (x, d) => Exponential.Softplus(x, d, 1f, 20f), x => Exponential.Softplus(x, 1f, 20f),
            x => x > 20 ? x : ReferenceExp.Softplus(x), 2),
        new("softplus_beta2", (x, d) => Exponential.Softplus(x, d, 2f, 10f), x => Exponential.Softplus(x, 2f, 10f),
            x => 2f * x > 10 ? x : ReferenceExp.Softplus(2f * x) / 2, 2),
        new("logsigmoid", (x, d) => Exponential.LogSigmoid(x, d), Exponential.LogSigmoid,
            x => Math.Min(x, 0) - ReferenceExp.Log1p(Math.Exp(-Math.Abs(x))), 2),
    ];

    public static TheoryData<string> Names() => [.. Kernels.Select(k => k.Name)];

    private static Kernel Find(string name) => Kernels.Single(k => k.Name == name);

    private static float[] SweepInputs()
    {
        var xs = new List<float>();
        for (int i = -120_000; i <= 120_000; i++) xs.Add(i * (1f / 1000)); // [-120, 120], step 0.001
        // Every 509th float bit pattern in (0, 120], both signs: tiny, subnormal and large inputs.
        for (uint bits = 1; bits < BitConverter.SingleToUInt32Bits(120f); bits += 509)
        {
            float v = BitConverter.UInt32BitsToSingle(bits);
            xs.Add(v);
            xs.Add(-v);
        }
        return [.. xs];
    }

    private static readonly Lazy<float[]> Sweep = new(SweepInputs);

    [Theory]
    [MemberData(nameof(Names))]
    public void Dense_sweep_is_within_the_ulp_bound_of_double(string name)
    {
        var k = Find(name);
        var x = Sweep.Value;
        var y = new float[x.Length];
        k.Span(x, y);
        double worst = 0;
        float worstAt = 0;
        for (int i = 0; i < x.Length; i++)
        {
            double expected = k.Reference(x[i]);
            if (double.IsInfinity(expected) || Math.Abs(expected) > float.MaxValue)
            {
                Assert.True(y[i] == (float)expected, $"{name}({x[i]:R}) = {y[i]:R}, expected {(float)expected:R}");
                continue;
            }
            // Where the result is subnormal (or comes from a subnormal intermediate, as x·sigmoid(x)
            // below x ≈ −87) only an absolute bound is meaningful: well below any tolerance.
            if (Math.Abs(expected) < 1.1754943508222875e-38 || (Math.Abs(x[i]) > 85 && Math.Abs(expected) < 1e-20))
            {
                Assert.True(Math.Abs(y[i] - expected) < 1e-40, $"{name}({x[i]:R}) = {y[i]:R}, expected {expected:R}");
                continue;
            }
            double u = ReferenceErf.Ulps(y[i], expected);
            if (u > worst) { worst = u; worstAt = x[i]; }
        }
        Assert.True(worst <= k.MaxUlps, $"{name}: worst error {worst:F3} ulp at x = {worstAt:R}");
    }

    [Fact]
    public void Near_zero_the_absolute_error_is_below_1e_7()
    {
        // PyTorch-level accuracy where exp(x) − 1 and 2·sigmoid(2x) − 1 would cancel.
        var x = new float[20001];
        for (int i = 0; i < x.Length; i++) x[i] = (i - 10000) * 5e-5f; // [-0.5, 0.5]
        var y = new float[x.Length];
        foreach (var name in new[] { "expm1", "tanh", "elu", "selu", "sigmoid", "silu", "mish", "softplus", "logsigmoid" })
        {
            var k = Find(name);
            k.Span(x, y);
            for (int i = 0; i < x.Length; i++)
                Assert.True(Math.Abs(y[i] - k.Reference(x[i])) <= 1e-7, $"{name}({x[i]:R}) = {y[i]:R}, expected {k.Reference(x[i]):R}");
        }
    }

    [Fact]
    public void Special_values()
    {
        float inf = float.PositiveInfinity;
        // (x, exp, expm1, sigmoid, silu, tanh, elu, mish, softplus, logsigmoid)
        float[][] table =
        [
            [0f, 1f, 0f, 0.5f, 0f, 0f, 0f, 0f, MathF.Log(2), -MathF.Log(2)],
            [inf, inf, inf, 1f, inf, 1f, inf, inf, inf, 0f],
            [-inf, 0f, -1f, 0f, float.NaN, -1f, -1f, float.NaN, 0f, -inf],
            [100f, inf, inf, 1f, 100f, 1f, 100f, 100f, 100f, -3.8e-44f],
            [-100f, 3.8e-44f, -1f, 3.8e-44f, -3.784e-42f, -1f, -1f, -3.784e-42f, 3.8e-44f, -100f],
            [89f, inf, inf, 1f, 89f, 1f, 89f, 89f, 89f, float.NaN /* skipped */],
            [-110f, 0f, -1f, 0f, -0f, -1f, -1f, -0f, 0f, -110f],
        ];
        foreach (var row in table)
        {
            float x = row[0];
            Same(row[1], Exponential.Exp(x), "exp", x);
            Same(row[2], Exponential.Expm1(x), "expm1", x);
            Same(row[3], Exponential.Sigmoid(x), "sigmoid", x);
            Same(row[4], Exponential.Silu(x), "silu", x);
            Same(row[5], Exponential.Tanh(x), "tanh", x);
            Same(row[6], Exponential.Elu(x, 1f, 1f, 1f), "elu", x);
            Same(row[7], Exponential.Mish(x), "mish", x);
            Same(row[8], Exponential.Softplus(x, 1f, 20f), "softplus", x);
            if (!float.IsNaN(row[9])) Same(row[9], Exponential.LogSigmoid(x), "logsigmoid", x);
        }
        // NaN propagates everywhere; tanh keeps the sign of zero; exp overflows exactly past ln(FLT_MAX).
        foreach (var k in Kernels) Assert.True(float.IsNaN(k.Scalar(float.NaN)), k.Name);
        Assert.Equal(-0f, Exponential.Tanh(-0f));
        Assert.True(float.IsNegative(Exponential.Tanh(-0f)));
        Assert.False(float.IsNegative(Exponential.Tanh(0f)));
        Assert.True(float.IsFinite(Exponential.Exp(88.72283f)));
        Assert.Equal(inf, Exponential.Exp(88.7229f));
        // Subnormal results and arguments keep their value.
        Assert.Equal(1e-40f, Exponential.Expm1(1e-40f));
        Assert.Equal(-1e-40f, Exponential.Tanh(-1e-40f));
        Assert.Equal(float.Epsilon, Exponential.Exp(-103.2789f));
        Assert.True(Exponential.Exp(-90f) is > 0 and < 1.2e-38f);
    }

    private static void Same(float expected, float actual, string name, float x) =>
        Assert.True(
            float.IsNaN(expected) ? float.IsNaN(actual) : expected == actual && float.IsNegative(expected) == float.IsNegative(actual)
                || Math.Abs(expected - actual) <= 2e-7 * Math.Abs(expected),
            $"{name}({x:R}) = {actual:R}, expected {expected:R}");

    [Property(MaxTest = 300)]
    public Property Span_equals_Scalar_bitwise_for_any_length_and_values() =>
        Prop.ForAll(Gen.Choose(0, 70).ToArbitrary(), Gen.Choose(0, int.MaxValue).ToArbitrary(), (n, seed) =>
        {
            var rng = new Random(seed);
            var x = new float[n];
            for (int i = 0; i < n; i++)
                x[i] = rng.Next(6) == 0 ? BitConverter.Int32BitsToSingle(rng.Next() ^ (rng.Next(2) << 31)) : (float)(rng.NextDouble() * 240 - 120);
            var y = new float[n];
            foreach (var k in Kernels)
            {
                k.Span(x, y);
                for (int i = 0; i < n; i++)
                {
                    float s = k.Scalar(x[i]);
                    Assert.True(BitConverter.SingleToInt32Bits(s) == BitConverter.SingleToInt32Bits(y[i]) || (float.IsNaN(s) && float.IsNaN(y[i])),
                        $"{k.Name}({x[i]:R}): span {y[i]:R}, scalar {s:R}");
                }
            }
        });

    [Fact]
    public void Silu_is_x_times_sigmoid_bitwise()
    {
        var x = Sweep.Value;
        var s = new float[x.Length];
        var silu = new float[x.Length];
        Exponential.Sigmoid(x, s);
        Exponential.Silu(x, silu);
        for (int i = 0; i < x.Length; i++) Assert.Equal(x[i] * s[i], silu[i]);
    }

    [Fact]
    public void In_place_and_length_checks()
    {
        var source = new float[37];
        for (int i = 0; i < source.Length; i++) source[i] = (i - 18) * 0.7f;
        foreach (var k in Kernels)
        {
            var expected = new float[source.Length];
            k.Span(source, expected);
            var inPlace = (float[])source.Clone();
            k.Span(inPlace, inPlace);
            Assert.Equal(expected, inPlace);
            var e = Assert.Throws<ArgumentException>(() => k.Span(new float[3], new float[4]));
            Assert.Equal("destination", e.ParamName);
            k.Span([], []);
        }
    }

    [Fact]
    public void Tensor_activations_use_the_kernels()
    {
        var t = Tensor.RandomNormal([3, 20001], seed: 5, std: 4f); // several Map blocks and a ragged tail
        var x = t.ToArray();
        var expected = new float[x.Length];
        Exponential.Mish(x, expected);
        Assert.Equal(expected, t.Mish().ToArray());
        Exponential.Tanh(x, expected);
        Assert.Equal(expected, t.Tanh().ToArray());
        Exponential.Elu(x, expected, 1f / 0.5f, 0.5f, 1f);
        Assert.Equal(expected, t.Celu(0.5f).ToArray());
    }
}
