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

    // ---- sigmoid and SiLU: every vector path (Vector512, Vector256, scalar) on this machine ----

    /// <summary>The widths the sigmoid kernel can be limited to here (0: the scalar loop), widest first.</summary>
    public static TheoryData<int> SigmoidPaths()
    {
        var paths = new TheoryData<int>();
        foreach (int bits in new[] { 512, 256, 0 })
            if (bits <= Exponential.MaxVectorBits) paths.Add(bits);
        return paths;
    }

    private static float[] SigmoidPath(float[] x, bool silu, int bits)
    {
        var y = new float[x.Length];
        Exponential.Sigmoid(x, y, silu, bits);
        return y;
    }

    private static bool SameBits(float a, float b) =>
        BitConverter.SingleToInt32Bits(a) == BitConverter.SingleToInt32Bits(b) || (float.IsNaN(a) && float.IsNaN(b));

    [Theory]
    [MemberData(nameof(SigmoidPaths))]
    public void Sigmoid_paths_give_the_scalar_bits_within_the_ulp_bound(int bits)
    {
        // The dense sweep (whose length is no multiple of 64, so every loop of the path runs) against
        // the scalar form bit for bit, and against the double reference under the same rules as above.
        var x = Sweep.Value;
        foreach (var name in new[] { "sigmoid", "silu" })
        {
            var k = Find(name);
            var y = SigmoidPath(x, name == "silu", bits);
            double worst = 0;
            float worstAt = 0;
            for (int i = 0; i < x.Length; i++)
            {
                Assert.True(SameBits(k.Scalar(x[i]), y[i]), $"{name}[{bits}]({x[i]:R}) = {y[i]:R}, scalar {k.Scalar(x[i]):R}");
                double expected = k.Reference(x[i]);
                if (Math.Abs(expected) < 1.1754943508222875e-38 || (Math.Abs(x[i]) > 85 && Math.Abs(expected) < 1e-20))
                {
                    Assert.True(Math.Abs(y[i] - expected) < 1e-40, $"{name}[{bits}]({x[i]:R}) = {y[i]:R}, expected {expected:R}");
                    continue;
                }
                double u = ReferenceErf.Ulps(y[i], expected);
                if (u > worst) { worst = u; worstAt = x[i]; }
            }
            Assert.True(worst <= k.MaxUlps, $"{name}[{bits}]: worst error {worst:F3} ulp at x = {worstAt:R}");
        }
    }

    [Theory]
    [MemberData(nameof(SigmoidPaths))]
    public void Sigmoid_paths_handle_special_values(int bits)
    {
        float inf = float.PositiveInfinity, eps = float.Epsilon;
        // (x, sigmoid, silu): limits, signed zeros, the clamp bounds, subnormal results rounded once.
        float[][] table =
        [
            [inf, 1f, inf],
            [-inf, 0f, float.NaN], // −∞·0, as PyTorch's x/(1 + exp(−x)) = −∞/∞
            [float.NaN, float.NaN, float.NaN],
            [0f, 0.5f, 0f],
            [-0f, 0.5f, -0f],
            [eps, 0.5f, 0f], // ε/2 rounds to even
            [1e-30f, 0.5f, 5e-31f],
            [float.MaxValue, 1f, float.MaxValue],
            [-float.MaxValue, 0f, -0f],
            [17.5f, 1f, 17.5f],
            [20f, 1f, 20f],
            [25f, 1f, 25f],
            [-100f, 3.8e-44f, -3.784e-42f],
            [-103.5f, eps, -103.5f * eps], // e^−103.5 ≈ 0.8ε
            [-104f, 0f, -0f],
            [-130f, 0f, -0f],
            [-1e30f, 0f, -0f],
        ];
        // Length 93 = 64 + 16 + 8 + 5: the table cycles through every loop of the path (4-wide, single
        // vector, narrower vector, scalar tail).
        var x = new float[93];
        for (int i = 0; i < x.Length; i++) x[i] = table[i % table.Length][0];
        var sigmoid = SigmoidPath(x, false, bits);
        var silu = SigmoidPath(x, true, bits);
        for (int i = 0; i < x.Length; i++)
        {
            var row = table[i % table.Length];
            Assert.True(SameBits(row[1], sigmoid[i]), $"sigmoid[{bits}]({x[i]:R}) at {i} = {sigmoid[i]:R}, expected {row[1]:R}");
            Assert.True(SameBits(row[2], silu[i]), $"silu[{bits}]({x[i]:R}) at {i} = {silu[i]:R}, expected {row[2]:R}");
        }
    }

    [Property(MaxTest = 200)]
    public Property Sigmoid_paths_agree_for_any_length_offset_and_values() =>
        Prop.ForAll(Gen.Choose(0, 300).ToArbitrary(), Gen.Choose(0, 15).ToArbitrary(), Gen.Choose(0, int.MaxValue).ToArbitrary(), (n, offset, seed) =>
        {
            // Spans at an arbitrary element offset (unaligned), of lengths around every loop boundary.
            var rng = new Random(seed);
            var buffer = new float[offset + n];
            for (int i = 0; i < buffer.Length; i++)
                buffer[i] = rng.Next(5) switch
                {
                    0 => BitConverter.Int32BitsToSingle(rng.Next() ^ (rng.Next(2) << 31)), // any float, NaN and ∞ included
                    1 => (float)(rng.NextDouble() * 260 - 140), // past both clamp bounds
                    _ => (float)(rng.NextDouble() * 24 - 12),
                };
            var x = buffer.AsSpan(offset, n);
            foreach (bool silu in new[] { false, true })
                foreach (int bits in new[] { 512, 256, 0 })
                {
                    if (bits > Exponential.MaxVectorBits) continue;
                    var y = new float[offset + n];
                    Exponential.Sigmoid(x, y.AsSpan(offset, n), silu, bits);
                    var inPlace = (float[])buffer.Clone();
                    Exponential.Sigmoid(inPlace.AsSpan(offset, n), inPlace.AsSpan(offset, n), silu, bits);
                    for (int i = 0; i < n; i++)
                    {
                        float v = x[i];
                        float s = silu ? Exponential.Silu(v) : Exponential.Sigmoid(v);
                        Assert.True(SameBits(s, y[offset + i]), $"{(silu ? "silu" : "sigmoid")}[{bits}]({v:R}) = {y[offset + i]:R}, scalar {s:R}");
                        Assert.True(SameBits(s, inPlace[offset + i]), $"in place {(silu ? "silu" : "sigmoid")}[{bits}]({v:R}) = {inPlace[offset + i]:R}");
                    }
                    for (int i = 0; i < offset; i++) Assert.Equal(0f, y[i]);
                }
        });

    [Fact]
    public void Tensor_activations_use_the_kernels()
    {
        var t = Tensor.RandomNormal([3, 20001], seed: 5, std: 4f); // several Map blocks and a ragged tail
        var x = t.ToArray();
        var expected = new float[x.Length];
        Exponential.Sigmoid(x, expected);
        Assert.Equal(expected, t.Sigmoid().ToArray());
        Exponential.Silu(x, expected);
        Assert.Equal(expected, t.Silu().ToArray());
        Exponential.Mish(x, expected);
        Assert.Equal(expected, t.Mish().ToArray());
        Exponential.Tanh(x, expected);
        Assert.Equal(expected, t.Tanh().ToArray());
        Exponential.Elu(x, expected, 1f / 0.5f, 0.5f, 1f);
        Assert.Equal(expected, t.Celu(0.5f).ToArray());
    }
}
