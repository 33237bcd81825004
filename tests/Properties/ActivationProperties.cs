using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace Functional.Properties;

/// <summary>
/// Double-precision references written from the definitions: erf by its Maclaurin series for
/// |z| &lt; 3 and erfc by its continued fraction beyond (both good to ~1e-14 there).
/// </summary>
internal static class ReferenceMath
{
    private static readonly double TwoOverSqrtPi = 2 / Math.Sqrt(Math.PI);

    /// <summary>erf(z) = 2/√π Σ (-1)ⁿ z²ⁿ⁺¹ / (n! (2n+1)).</summary>
    public static double ErfSeries(double z)
    {
        double sum = 0, term = z; // term = (-1)^n z^(2n+1) / n!
        for (int n = 0; n < 200; n++)
        {
            double add = term / (2 * n + 1);
            sum += add;
            if (Math.Abs(add) < 1e-17 * Math.Abs(sum)) break;
            term *= -z * z / (n + 1);
        }
        return TwoOverSqrtPi * sum;
    }

    /// <summary>erfc(z) for z &gt; 0 = e^(−z²)/√π · 1/(z + ½/(z + 1/(z + (3/2)/(z + …)))), evaluated backwards.</summary>
    public static double ErfcContinuedFraction(double z)
    {
        double t = z;
        for (int k = 400; k >= 1; k--) t = z + k / 2.0 / t;
        return Math.Exp(-z * z) / Math.Sqrt(Math.PI) / t;
    }

    public static double Erfc(double z) =>
        z >= 3 ? ErfcContinuedFraction(z)
        : z <= -3 ? 2 - ErfcContinuedFraction(-z)
        : 1 - ErfSeries(z);

    public static double Erf(double z) => Math.Abs(z) < 3 ? ErfSeries(z) : Math.Sign(z) * (1 - ErfcContinuedFraction(Math.Abs(z)));

    /// <summary>GELU exact: x·Φ(x) = x·½·erfc(−x/√2) (erfc keeps the negative tail accurate).</summary>
    public static double Gelu(double x) => x * 0.5 * Erfc(-x / Math.Sqrt(2));

    public static double GeluTanh(double x) => 0.5 * x * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));

    public static double Sigmoid(double x) => x >= 0 ? 1 / (1 + Math.Exp(-x)) : Math.Exp(x) / (1 + Math.Exp(x));

    /// <summary>exp(x) − 1 without cancellation near 0.</summary>
    public static double Expm1(double x) => Math.Abs(x) < 1e-5 ? x + x * x / 2 + x * x * x / 6 : Math.Exp(x) - 1;
}

/// <summary>Laws of the activations on generated tensors, and each one against a double-precision reference.</summary>
public class ActivationProperties
{
    private static Arbitrary<Tensor> TensorsArb => Generators.Tensors().ToArbitrary();

    /// <summary>A sorted 1-D tensor drawn from <paramref name="values"/>.</summary>
    private static Arbitrary<Tensor> Sorted(Gen<float>? values = null) =>
        Generators.Vectors(64, values).Select(t => { var a = t.ToArray(); Array.Sort(a); return Tensor.FromArray(a); }).ToArbitrary();

    private const double Eps = 1.0 / (1 << 23); // float's machine epsilon

    /// <summary>Asserts |actual − reference| ≤ abs + ulps·eps·|reference| element-wise, naming the first input that fails.</summary>
    private static void AssertClose(Tensor x, Tensor actual, Func<double, double> reference, double abs, double ulps, string what)
    {
        Assert.Equal(x.Shape, actual.Shape);
        var xs = x.Span;
        var ys = actual.Span;
        for (int i = 0; i < xs.Length; i++)
        {
            double r = reference(xs[i]);
            double tol = abs + ulps * Eps * Math.Abs(r);
            Assert.True(Math.Abs(ys[i] - r) <= tol,
                $"{what}({xs[i]:R}) = {ys[i]:R}, reference {r:R}, |diff| {Math.Abs(ys[i] - r):E3} > {tol:E3}");
        }
    }

    /// <summary>Asserts outputs never decrease by more than <paramref name="slack"/> ulps along a sorted input.</summary>
    private static void AssertMonotonic(Tensor sortedInput, Tensor output, double slack, string what)
    {
        var x = sortedInput.Span;
        var y = output.Span;
        for (int i = 1; i < y.Length; i++)
            Assert.True(y[i] >= y[i - 1] - slack * Eps * Math.Abs(y[i - 1]),
                $"{what} decreases: f({x[i - 1]:R}) = {y[i - 1]:R} > f({x[i]:R}) = {y[i]:R}");
    }

    [Property]
    public Property Layers_equal_their_extension_methods_and_keep_the_shape() =>
        Prop.ForAll(Gen.Zip(Generators.Activations, Generators.Tensors()).ToArbitrary(), t =>
        {
            var (a, x) = t;
            Tensor expected = a switch
            {
                ReLU => x.Relu(),
                ReLU6 => x.Relu6(),
                ReLUSquared => x.ReluSquared(),
                Sigmoid => x.Sigmoid(),
                SiLU => x.Silu(),
                Tanh => x.Tanh(),
                GELU g => x.Gelu(g.Approximate),
                LeakyReLU l => x.LeakyRelu((float)l.NegativeSlope),
                RReLU r => x.LeakyRelu((float)((r.Lower + r.Upper) / 2)),
                ELU e => x.Elu((float)e.Alpha),
                _ => throw new InvalidOperationException(a.ToString()),
            };
            var y = a.Forward(x);
            Assert.Equal(x.Shape, y.Shape);
            Assert.Equal(expected.ToArray(), y.ToArray());
        });

    [Property]
    public Property Relu_is_max_with_zero_and_idempotent() => Prop.ForAll(TensorsArb, x =>
    {
        var y = x.Relu();
        Assert.Equal(x.ToArray().Select(v => Math.Max(v, 0f)), y.ToArray());
        Assert.Equal(y.ToArray(), y.Relu().ToArray());
    });

    [Property]
    public Property Relu6_is_clamped_to_0_6() => Prop.ForAll(TensorsArb, x =>
    {
        var y = x.Relu6().ToArray();
        Assert.All(y, v => Assert.InRange(v, 0f, 6f));
        Assert.Equal(x.ToArray().Select(v => Math.Min(Math.Max(v, 0f), 6f)), y);
    });

    [Property]
    public Property ReluSquared_is_relu_squared() => Prop.ForAll(TensorsArb, x =>
        Assert.Equal(x.ToArray().Select(v => Math.Max(v, 0f) * Math.Max(v, 0f)), x.ReluSquared().ToArray()));

    [Property]
    public Property LeakyRelu_selects_x_or_slope_times_x() =>
        Prop.ForAll(Gen.Zip(Generators.UnitDouble, Generators.Tensors()).ToArbitrary(), t =>
        {
            var (slope, x) = t;
            float s = (float)slope;
            Assert.Equal(x.ToArray().Select(v => v > 0 ? v : s * v), new LeakyReLU(slope).Forward(x).ToArray());
        });

    [Property]
    public Property Rrelu_in_eval_is_leaky_relu_with_the_mean_slope() =>
        Prop.ForAll(Gen.Zip(Gen.Two(Generators.UnitDouble), Generators.Tensors()).ToArbitrary(), t =>
        {
            double lower = Math.Min(t.Item1.Item1, t.Item1.Item2), upper = Math.Max(t.Item1.Item1, t.Item1.Item2);
            var x = t.Item2;
            var y = new RReLU(lower, upper).Forward(x).ToArray();
            Assert.Equal(new LeakyReLU((lower + upper) / 2).Forward(x).ToArray(), y);
            float s = (float)((lower + upper) / 2);
            Assert.Equal(x.ToArray().Select(v => v > 0 ? v : s * v), y);
        });

    [Property]
    public Property Monotonic_activations_preserve_order()
    {
        var cases = Gen.Zip(
            Gen.OneOf(
                Gen.Constant<Activation>(new ReLU()), Gen.Constant<Activation>(new ReLU6()),
                Gen.Constant<Activation>(new ReLUSquared()),
                Gen.Constant<Activation>(new Sigmoid()), Gen.Constant<Activation>(new Tanh()),
                Generators.UnitDouble.Select(s => (Activation)new LeakyReLU(s)),
                Gen.Choose(0, 3000).Select(a => (Activation)new ELU(a / 1000.0))),
            Sorted().Generator);
        return Prop.ForAll(cases.ToArbitrary(), t =>
        {
            var (a, x) = t;
            // Piecewise-linear ones are exact; the transcendental ones may wobble by an ulp between vector lanes.
            double slack = a is Sigmoid or Tanh or ELU ? 2 : 0;
            AssertMonotonic(x, a.Forward(x), slack, a.ToString());
        });
    }

    [Property]
    public Property Gelu_is_monotonic_right_of_its_minimum() =>
        Prop.ForAll(Gen.Zip(Gen.Elements(GeluApproximation.None, GeluApproximation.Tanh), Sorted(Generators.Uniform(-0.75, 100)).Generator).ToArbitrary(), t =>
        {
            var (approx, x) = t;
            AssertMonotonic(x, x.Gelu(approx), 2, $"GELU({approx})");
        });

    [Property]
    public Property Sigmoid_and_tanh_stay_in_range() => Prop.ForAll(TensorsArb, x =>
    {
        Assert.All(x.Sigmoid().ToArray(), v => Assert.InRange(v, 0f, 1f));
        Assert.All(x.Tanh().ToArray(), v => Assert.InRange(v, -1f, 1f));
    });

    [Property]
    public Property Sigmoid_and_tanh_match_double_references() => Prop.ForAll(TensorsArb, x =>
    {
        AssertClose(x, x.Sigmoid(), ReferenceMath.Sigmoid, 1e-7, 4, "sigmoid");
        AssertClose(x, x.Tanh(), Math.Tanh, 1e-7, 4, "tanh");
    });

    [Property]
    public Property Tanh_is_odd_and_sigmoid_is_symmetric() => Prop.ForAll(TensorsArb, x =>
    {
        var neg = x * -1f;
        var t = x.Tanh().ToArray();
        var tn = neg.Tanh().ToArray();
        var s = x.Sigmoid().ToArray();
        var sn = neg.Sigmoid().ToArray();
        for (int i = 0; i < t.Length; i++)
        {
            Assert.True(Math.Abs(t[i] + tn[i]) <= 1e-7, $"tanh({x.Span[i]:R}) = {t[i]:R} but tanh(-x) = {tn[i]:R}");
            Assert.True(Math.Abs(s[i] + sn[i] - 1) <= 1e-6, $"sigmoid({x.Span[i]:R}) + sigmoid(-x) = {s[i] + sn[i]:R}");
        }
    });

    [Property]
    public Property Silu_is_x_times_sigmoid() => Prop.ForAll(TensorsArb, x =>
    {
        var y = x.Silu();
        var viaSigmoid = x * x.Sigmoid();
        AssertClose(x, y, v => v * ReferenceMath.Sigmoid(v), 1e-7, 4, "silu");
        Assert.True(y.MaxAbsDiff(viaSigmoid) <= 1e-6, $"silu vs x*sigmoid(x): {y.MaxAbsDiff(viaSigmoid)}");
        // Same sign as x wherever sigmoid(x) is a normal float (below about -87 exp(-x) overflows
        // and PyTorch's x / (1 + exp(-x)) is -0 as well).
        for (int i = 0; i < x.Count; i++)
            if (x.Span[i] != 0 && x.Span[i] > -80)
                Assert.True(Math.Sign(x.Span[i]) == Math.Sign(y.Span[i]), $"silu({x.Span[i]:R}) = {y.Span[i]:R}");
    });

    [Property]
    public Property Elu_matches_its_definition() =>
        Prop.ForAll(Gen.Zip(Gen.Choose(0, 3000).Select(a => a / 1000.0), Generators.Tensors()).ToArbitrary(), t =>
        {
            var (alpha, x) = t;
            float a = (float)alpha;
            AssertClose(x, new ELU(alpha).Forward(x), v => v > 0 ? v : a * ReferenceMath.Expm1(v), 1e-7, 4, $"elu[alpha={alpha}]");
        });

    [Property]
    public Property Gelu_erf_matches_a_double_reference() => Prop.ForAll(TensorsArb, x =>
        // 2e-6 absolute, or a few ulps of the result where that is looser (|gelu(x)| ≥ 8).
        AssertClose(x, x.Gelu(), ReferenceMath.Gelu, 2e-6, 4, "gelu"));

    [Property]
    public Property Gelu_tanh_matches_its_formula_and_is_near_the_erf_form() => Prop.ForAll(TensorsArb, x =>
    {
        var tanh = x.Gelu(GeluApproximation.Tanh);
        AssertClose(x, tanh, ReferenceMath.GeluTanh, 2e-6, 4, "gelu_tanh");
        var erf = x.Gelu(GeluApproximation.None);
        Assert.True(tanh.MaxAbsDiff(erf) < 1e-3, $"tanh and erf forms differ by {tanh.MaxAbsDiff(erf)}");
    });

    [Fact]
    public void Gelu_checked_densely_over_the_interesting_range()
    {
        // Every 1/512 from -10 to 10: where the erf approximation's pieces meet and the tails flatten.
        var x = Tensor.Arange(-10f, 10f, 1f / 512);
        AssertClose(x, x.Gelu(), ReferenceMath.Gelu, 2e-6, 4, "gelu");
        AssertClose(x, x.Gelu(GeluApproximation.Tanh), ReferenceMath.GeluTanh, 2e-6, 4, "gelu_tanh");
    }

    [Fact]
    public void Reference_erf_is_consistent_where_its_two_methods_meet()
    {
        // The series and the continued fraction are independent formulas; they must agree
        // around the switch point, and match erf's symmetry and limits.
        for (double z = 2.0; z <= 3.5; z += 0.03125)
        {
            double diff = Math.Abs(1 - ReferenceMath.ErfSeries(z) - ReferenceMath.ErfcContinuedFraction(z));
            Assert.True(diff < 1e-11, $"z={z}: series and continued fraction differ by {diff}");
        }
        for (double z = -5; z <= 5; z += 0.1)
            Assert.True(Math.Abs(ReferenceMath.Erf(z) + ReferenceMath.Erf(-z)) < 1e-15, $"odd at {z}");
        // erf(1) and erfc(3) to the digits tables give (DLMF 7.23 / A&S table 7.1).
        Assert.Equal(0.8427007929497149, ReferenceMath.Erf(1), 1e-15);
        Assert.Equal(2.209049699858544e-05, ReferenceMath.Erfc(3), 1e-18);
    }

    [Fact]
    public void Large_inputs_give_finite_limits()
    {
        var x = Tensor.FromArray(-100f, -88f, -50f, -30f, -10f, 10f, 30f, 50f, 88f, 89f, 100f);
        foreach (var a in new Activation[]
                 {
                     new ReLU(), new ReLU6(), new ReLUSquared(), new Sigmoid(), new SiLU(), new Tanh(),
                     new GELU(), new GELU(GeluApproximation.Tanh), new LeakyReLU(), new RReLU(), new ELU(), new ELU(2.5),
                 })
            Assert.All(a.Forward(x).ToArray(), v => Assert.True(float.IsFinite(v), $"{a} gave {v} on {Generators.Show(x.Span)}"));

        var big = Tensor.FromArray(-100f, 100f);
        var s = big.Sigmoid().ToArray();
        Assert.InRange(s[0], 0f, 1e-30f);
        Assert.Equal(1f, s[1]);
        var silu = big.Silu().ToArray();
        Assert.InRange(silu[0], -1e-30f, 0f);
        Assert.Equal(100f, silu[1]);
        Assert.Equal(-2.5f, new ELU(2.5).Forward(big).ToArray()[0], 1e-6f);
        Assert.Equal([-1f, 1f], big.Tanh().ToArray());
        foreach (var g in new[] { big.Gelu(), big.Gelu(GeluApproximation.Tanh) })
        {
            Assert.Equal(0f, g.ToArray()[0], 1e-30f);
            Assert.Equal(100f, g.ToArray()[1]);
        }
    }

    [Property]
    public Property No_activation_makes_NaN_or_infinity_from_finite_input() =>
        Prop.ForAll(Gen.Zip(Generators.Activations, Generators.Tensors()).ToArbitrary(), t =>
        {
            var (a, x) = t;
            Assert.All(a.Forward(x).ToArray(), v => Assert.True(float.IsFinite(v), $"{a} gave {v}"));
        });

    [Property]
    public Property Activations_keep_relative_accuracy_near_zero()
    {
        // Lengths past one vector so the SIMD body, not only the scalar tail, is exercised.
        var small = Gen.Frequency((3, Generators.Uniform(-1e-3, 1e-3)), (1, Generators.Uniform(-1e-20, 1e-20)), (1, Gen.Elements(0f, -0f)));
        var cases = Gen.Zip(Gen.Choose(0, 3000).Select(a => a / 1000.0), Gen.Choose(17, 80).SelectMany(n => Generators.TensorOf([n], small)));
        return Prop.ForAll(cases.ToArbitrary(), t =>
        {
            var (alpha, x) = t;
            float a = (float)alpha;
            // No absolute slack: a wrong sign or an offset of an ulp of 1 fails.
            AssertClose(x, x.Tanh(), Math.Tanh, 1e-44, 4, "tanh");
            AssertClose(x, new ELU(alpha).Forward(x), v => v > 0 ? v : a * ReferenceMath.Expm1(v), 1e-44, 4, $"elu[alpha={alpha}]");
            AssertClose(x, x.Silu(), v => v * ReferenceMath.Sigmoid(v), 1e-44, 4, "silu");
            AssertClose(x, x.Gelu(), ReferenceMath.Gelu, 1e-44, 8, "gelu");
            AssertClose(x, x.Gelu(GeluApproximation.Tanh), ReferenceMath.GeluTanh, 1e-44, 8, "gelu_tanh");
        });
    }

    [Fact]
    public void Zero_maps_to_zero_where_the_function_passes_through_the_origin()
    {
        var zeros = Tensor.Zeros([40]);
        foreach (var a in new Activation[]
                 {
                     new ReLU(), new ReLU6(), new ReLUSquared(), new SiLU(), new Tanh(), new GELU(),
                     new GELU(GeluApproximation.Tanh), new LeakyReLU(), new RReLU(), new ELU(), new ELU(2.5),
                 })
            Assert.All(a.Forward(zeros).ToArray(), v => Assert.True(v == 0, $"{a}(0) = {v:R}"));
        Assert.All(zeros.Sigmoid().ToArray(), v => Assert.Equal(0.5f, v));
    }

    [Fact]
    public void Relu_keeps_NaN_as_PyTorch()
    {
        var y = Tensor.FromArray(float.NaN, -1f, 2f).Relu().ToArray();
        Assert.True(float.IsNaN(y[0]));
        Assert.Equal([0f, 2f], y[1..]);
    }
}
