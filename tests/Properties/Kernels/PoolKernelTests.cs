using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Functional.Kernels;

namespace Functional.Properties.Kernels;

/// <summary>One dimension of a generated pool: input extent, kernel, stride, dilation, padding.</summary>
public readonly record struct PoolDim(int In, int K, int S, int Dil, int P)
{
    public static readonly PoolDim Unit = new(1, 1, 1, 1, 0);
}

/// <summary>A generated pooling problem (1-D/2-D/3-D through extents of 1) and the seed of its data.</summary>
public sealed record PoolCase(int Planes, PoolDim D, PoolDim H, PoolDim W, bool CeilMode, int Seed)
{
    public PoolPlan Plan => new(
        Planes,
        new Dim3(D.In, H.In, W.In),
        new Dim3(Out(D), Out(H), Out(W)),
        new Dim3(D.K, H.K, W.K),
        new Dim3(D.S, H.S, W.S),
        new Dim3(D.Dil, H.Dil, W.Dil),
        new Dim3(D.P, H.P, W.P));

    private int Out(PoolDim d) => ReferencePool.OutputSize(d.In, d.K, d.S, d.P, d.Dil, CeilMode);

    public override string ToString() => $"{Plan} ceil={CeilMode} seed={Seed}";
}

internal static class PoolGen
{
    private static Gen<PoolDim> Dim(int maxIn, bool dilated) =>
        from k in Gen.Choose(1, 4)
        from s in Gen.Choose(1, 3)
        from dil in dilated ? Gen.Choose(1, 3) : Gen.Constant(1)
        from p in Gen.Choose(0, k / 2)
        let lo = Math.Max(1, dil * (k - 1) + 1 - 2 * p) // smallest input giving at least one window
        from n in Gen.Choose(lo, Math.Max(lo, maxIn))
        select new PoolDim(n, k, s, dil, p);

    /// <summary>Pool problems of rank 1–3; widths up to 40 so the 8-wide paths and their tails run.</summary>
    public static Gen<PoolCase> Cases(bool dilated) =>
        from rank in Gen.Choose(1, 3)
        from planes in Gen.Choose(1, 3)
        from d in rank == 3 ? Dim(6, dilated) : Gen.Constant(PoolDim.Unit)
        from h in rank >= 2 ? Dim(rank == 3 ? 7 : 12, dilated) : Gen.Constant(PoolDim.Unit)
        from w in Dim(40, dilated)
        from ceil in Gen.Elements(false, true)
        from seed in Gen.Choose(0, int.MaxValue)
        select new PoolCase(planes, d, h, w, ceil, seed);

    public static Gen<(int Planes, Dim3 In, Dim3 Out, int Seed)> Adaptive =>
        from rank in Gen.Choose(1, 3)
        from planes in Gen.Choose(1, 3)
        from id in rank == 3 ? Gen.Choose(1, 7) : Gen.Constant(1)
        from ih in rank >= 2 ? Gen.Choose(1, 12) : Gen.Constant(1)
        from iw in Gen.Choose(1, 40)
        from od in rank == 3 ? Gen.Choose(1, 7) : Gen.Constant(1)
        from oh in rank >= 2 ? Gen.Choose(1, 12) : Gen.Constant(1)
        from ow in Gen.Choose(1, 40)
        from seed in Gen.Choose(0, int.MaxValue)
        select (planes, new Dim3(id, ih, iw), new Dim3(od, oh, ow), seed);

    /// <summary>
    /// Values in [-4, 4] with repeats (ties), signed zeros and, when <paramref name="specials"/>,
    /// occasional NaN and infinities.
    /// </summary>
    public static float[] Data(long length, int seed, bool specials)
    {
        var rng = new Random(seed);
        var a = new float[length];
        for (long i = 0; i < length; i++)
        {
            int r = rng.Next(100);
            a[i] = r switch
            {
                < 2 when specials => float.NaN,
                < 4 when specials => rng.Next(2) == 0 ? float.PositiveInfinity : float.NegativeInfinity,
                < 8 => rng.Next(2) == 0 ? 0f : -0f,
                < 20 => rng.Next(-3, 4), // ties
                _ => (float)(rng.NextDouble() * 8 - 4),
            };
        }
        return a;
    }

    /// <summary>Multiples of 1/4 in [-8, 8]: sums are exact in float whatever the order.</summary>
    public static float[] Dyadic(long length, int seed)
    {
        var rng = new Random(seed);
        var a = new float[length];
        for (long i = 0; i < length; i++) a[i] = rng.Next(-32, 33) / 4f;
        return a;
    }

    public static float[] NaNs(long length)
    {
        var a = new float[length];
        Array.Fill(a, float.NaN);
        return a;
    }

    /// <summary>Equal as PyTorch compares results: NaN matches NaN, −0 matches +0.</summary>
    public static bool Same(float a, float b) => a == b || (float.IsNaN(a) && float.IsNaN(b));
}

public class PoolKernelTests
{
    private static void AssertSame(float[] expected, float[] actual, string context)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            if (!PoolGen.Same(expected[i], actual[i]))
                Assert.Fail($"{context}: element {i}: expected {expected[i]}, got {actual[i]}");
    }

    private static void AssertBits(float[] expected, float[] actual, string context)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            if (BitConverter.SingleToInt32Bits(expected[i]) != BitConverter.SingleToInt32Bits(actual[i])
                && !(float.IsNaN(expected[i]) && float.IsNaN(actual[i])))
                Assert.Fail($"{context}: element {i}: expected {expected[i]}, got {actual[i]}");
    }

    [Property(MaxTest = 300)]
    public Property Max_without_indices_matches_reference() =>
        Prop.ForAll(PoolGen.Cases(dilated: true).ToArbitrary(), c =>
        {
            var plan = c.Plan;
            var input = PoolGen.Data(plan.Planes * plan.Input.Volume, c.Seed, specials: true);
            var (expected, _) = ReferencePool.Max(plan, input);
            var output = PoolGen.NaNs(expected.Length);
            Pooling.Max(plan, input, output, Span<long>.Empty);
            AssertSame(expected, output, c.ToString());
        });

    [Property(MaxTest = 300)]
    public Property Max_with_indices_matches_reference_exactly() =>
        Prop.ForAll(PoolGen.Cases(dilated: true).ToArbitrary(), c =>
        {
            var plan = c.Plan;
            var input = PoolGen.Data(plan.Planes * plan.Input.Volume, c.Seed, specials: true);
            var (expected, expectedIndices) = ReferencePool.Max(plan, input);
            var output = PoolGen.NaNs(expected.Length);
            var indices = new long[expected.Length];
            Array.Fill(indices, -7L);
            Pooling.Max(plan, input, output, indices);
            AssertBits(expected, output, c.ToString());
            Assert.Equal(expectedIndices, indices);
        });

    [Property(MaxTest = 200)]
    public Property Max_indices_point_at_elements_equal_to_the_output() =>
        Prop.ForAll(PoolGen.Cases(dilated: true).ToArbitrary(), c =>
        {
            var plan = c.Plan;
            var input = PoolGen.Data(plan.Planes * plan.Input.Volume, c.Seed, specials: true);
            var output = new float[plan.Planes * plan.Output.Volume];
            var indices = new long[output.Length];
            Pooling.Max(plan, input, output, indices);
            long outVolume = plan.Output.Volume;
            for (int i = 0; i < output.Length; i++)
            {
                long plane = i / outVolume;
                long index = indices[i];
                // PyTorch allows dilated windows whose taps all fall in padding: they give −∞ and the
                // index of the first in-window position clipped, possibly outside the window or plane.
                if (output[i] == float.NegativeInfinity) continue;
                Assert.InRange(index, 0, plan.Input.Volume - 1);
                Assert.Equal(BitConverter.SingleToInt32Bits(input[plane * plan.Input.Volume + index]),
                    BitConverter.SingleToInt32Bits(output[i]));
            }
        });

    [Property(MaxTest = 300)]
    public Property Avg_matches_reference_exactly_on_dyadic_values() =>
        Prop.ForAll(PoolGen.Cases(dilated: false).ToArbitrary(), Gen.Elements(false, true).ToArbitrary(), Gen.Choose(-1, 9).ToArbitrary(),
            (c, countIncludePad, divisor) =>
            {
                var plan = c.Plan;
                var input = PoolGen.Dyadic(plan.Planes * plan.Input.Volume, c.Seed);
                var expected = ReferencePool.Avg(plan, input, countIncludePad, divisor);
                var output = PoolGen.NaNs(expected.Length);
                Pooling.Avg(plan, input, output, countIncludePad, divisor);
                AssertBits(expected, output, $"{c} cip={countIncludePad} div={divisor}");
            });

    [Property(MaxTest = 300)]
    public Property Avg_is_within_1e6_of_the_exact_average() =>
        Prop.ForAll(PoolGen.Cases(dilated: false).ToArbitrary(), Gen.Elements(false, true).ToArbitrary(), Gen.Choose(0, 9).ToArbitrary(),
            (c, countIncludePad, divisor) =>
            {
                var plan = c.Plan;
                var input = PoolGen.Data(plan.Planes * plan.Input.Volume, c.Seed, specials: false);
                var exact = ReferencePool.AvgExact(plan, input, countIncludePad, divisor, out var absMean);
                var output = PoolGen.NaNs(exact.Length);
                Pooling.Avg(plan, input, output, countIncludePad, divisor);
                for (int i = 0; i < exact.Length; i++)
                    Assert.True(Math.Abs(output[i] - exact[i]) <= 1e-6 * Math.Max(1, absMean[i]),
                        $"{c} cip={countIncludePad} div={divisor}: element {i}: exact {exact[i]}, got {output[i]}");
            });

    [Property(MaxTest = 100)]
    public Property Avg_with_nan_and_infinity_matches_reference() =>
        Prop.ForAll(PoolGen.Cases(dilated: false).ToArbitrary(), c =>
        {
            var plan = c.Plan;
            var input = PoolGen.Data(plan.Planes * plan.Input.Volume, c.Seed, specials: true);
            var expected = ReferencePool.Avg(plan, input, countIncludePad: false, divisorOverride: 0);
            var output = PoolGen.NaNs(expected.Length);
            Pooling.Avg(plan, input, output, false, 0);
            for (int i = 0; i < expected.Length; i++)
            {
                // Finite results may differ by summation order; non-finite ones must agree exactly.
                if (float.IsFinite(expected[i]) && float.IsFinite(output[i]))
                    continue;
                Assert.True(PoolGen.Same(expected[i], output[i]), $"{c}: element {i}: expected {expected[i]}, got {output[i]}");
            }
        });

    [Property(MaxTest = 200)]
    public Property Constant_input_pools_to_the_constant() =>
        Prop.ForAll(PoolGen.Cases(dilated: false).ToArbitrary(), c =>
        {
            var plan = c.Plan;
            float value = (c.Seed % 2001 - 1000) / 7f;
            var input = new float[plan.Planes * plan.Input.Volume];
            Array.Fill(input, value);
            var output = PoolGen.NaNs(plan.Planes * plan.Output.Volume);
            Pooling.Max(plan, input, output, Span<long>.Empty);
            Assert.All(output, v => Assert.Equal(value, v));
            output = PoolGen.NaNs(output.Length);
            Pooling.Avg(plan, input, output, countIncludePad: false, divisorOverride: 0);
            Assert.All(output, v => Assert.True(Math.Abs(v - value) <= 1e-5f * Math.Abs(value), $"{c}: {v} vs {value}"));
        });

    [Fact]
    public void Fully_padded_windows_give_minus_infinity_and_pytorch_index_or_zero_average()
    {
        // An output larger than PyTorch's formula allows: the last windows lie beyond the input.
        var plan = new PoolPlan(2, new Dim3(1, 1, 10), new Dim3(1, 1, 9), new Dim3(1, 1, 2), new Dim3(1, 1, 2), Dim3.All(1), new Dim3(0, 0, 1));
        var input = PoolGen.Data(2 * 10, 5, specials: false);
        var (expected, expectedIdx) = ReferencePool.Max(plan, input);
        var output = PoolGen.NaNs(18);
        var idx = new long[18];
        Pooling.Max(plan, input, output, Span<long>.Empty);
        AssertSame(expected, output, "values");
        Assert.Equal(float.NegativeInfinity, output[8]);
        Pooling.Max(plan, input, output, idx);
        Assert.Equal(expectedIdx, idx);
        foreach (bool cip in new[] { false, true })
        {
            var avg = PoolGen.NaNs(18);
            Pooling.Avg(plan, input, avg, cip, 0);
            AssertSame(ReferencePool.Avg(plan, input, cip, 0), avg, "avg");
            Assert.Equal(0f, avg[8]);
        }
        // Fully padded rows (height) as well.
        var tall = new PoolPlan(1, new Dim3(1, 3, 12), new Dim3(1, 4, 9), new Dim3(1, 2, 2), new Dim3(1, 2, 1), Dim3.All(1), new Dim3(0, 1, 1));
        input = PoolGen.Dyadic(36, 6); // exact sums, so summation order cannot matter
        output = PoolGen.NaNs(36);
        Pooling.Max(tall, input, output, Span<long>.Empty);
        AssertSame(ReferencePool.Max(tall, input).Values, output, "tall max");
        output = PoolGen.NaNs(36);
        Pooling.Avg(tall, input, output, true, 0);
        AssertSame(ReferencePool.Avg(tall, input, true, 0), output, "tall avg");
    }

    [Theory]
    [InlineData(1, 1, 224, 224, 3, 2, 0)] // MaxPool2d(3, 2) on a 224 image
    [InlineData(4, 1, 112, 112, 3, 2, 1)] // ResNet stem pool
    [InlineData(3, 1, 57, 61, 2, 2, 0)]
    [InlineData(3, 1, 33, 47, 3, 1, 1)]
    [InlineData(2, 5, 9, 29, 3, 2, 1)]
    [InlineData(2, 1, 20, 50, 3, 3, 1)]
    public void Benchmark_shapes_match_reference(int planes, int d, int h, int w, int k, int s, int p)
    {
        var kernel = new Dim3(d == 1 ? 1 : k, k, k);
        var stride = new Dim3(d == 1 ? 1 : s, s, s);
        var pad = new Dim3(d == 1 ? 0 : p, p, p);
        var output = new Dim3(
            ReferencePool.OutputSize(d, kernel.D, stride.D, pad.D, 1, false),
            ReferencePool.OutputSize(h, k, s, p, 1, false),
            ReferencePool.OutputSize(w, k, s, p, 1, false));
        var plan = new PoolPlan(planes, new Dim3(d, h, w), output, kernel, stride, Dim3.All(1), pad);
        var input = PoolGen.Data(plan.Planes * plan.Input.Volume, 42 + h, specials: false);
        var got = PoolGen.NaNs(planes * output.Volume);
        Pooling.Max(plan, input, got, Span<long>.Empty);
        var (refValues, refIndices) = ReferencePool.Max(plan, input);
        AssertSame(refValues, got, "max");
        var indices = new long[got.Length];
        got = PoolGen.NaNs(got.Length);
        Pooling.Max(plan, input, got, indices);
        AssertBits(refValues, got, "max with indices");
        Assert.Equal(refIndices, indices);
        input = PoolGen.Dyadic(input.Length, 7);
        got = PoolGen.NaNs(got.Length);
        Pooling.Avg(plan, input, got, true, 0);
        AssertBits(ReferencePool.Avg(plan, input, true, 0), got, "avg");
        got = PoolGen.NaNs(got.Length);
        Pooling.Avg(plan, input, got, false, 0);
        AssertBits(ReferencePool.Avg(plan, input, false, 0), got, "avg no pad");
    }

    [Property(MaxTest = 300)]
    public Property Adaptive_avg_matches_reference() =>
        Prop.ForAll(PoolGen.Adaptive.ToArbitrary(), a =>
        {
            var input = PoolGen.Dyadic(a.Planes * a.In.Volume, a.Seed);
            var expected = ReferencePool.AdaptiveAvg(a.Planes, a.In, a.Out, input);
            var output = PoolGen.NaNs(expected.Length);
            AdaptivePooling.Avg(a.Planes, a.In, a.Out, input, output);
            // Dyadic sums are exact, and the divisions are performed in PyTorch's order.
            AssertBits(expected, output, a.ToString());

            input = PoolGen.Data(input.Length, a.Seed, specials: false);
            expected = ReferencePool.AdaptiveAvg(a.Planes, a.In, a.Out, input);
            AdaptivePooling.Avg(a.Planes, a.In, a.Out, input, output);
            for (int i = 0; i < expected.Length; i++)
                Assert.True(Math.Abs(expected[i] - output[i]) <= 2e-6f * Math.Max(1f, Math.Abs(expected[i])) + 1e-6f,
                    $"{a}: element {i}: expected {expected[i]}, got {output[i]}");
        });

    [Property(MaxTest = 300)]
    public Property Adaptive_max_matches_reference() =>
        Prop.ForAll(PoolGen.Adaptive.ToArbitrary(), a =>
        {
            var input = PoolGen.Data(a.Planes * a.In.Volume, a.Seed, specials: true);
            var (expected, expectedIdx) = ReferencePool.AdaptiveMax(a.Planes, a.In, a.Out, input);
            var output = PoolGen.NaNs(expected.Length);
            AdaptivePooling.Max(a.Planes, a.In, a.Out, input, output, Span<long>.Empty);
            AssertSame(expected, output, a.ToString());
            var indices = new long[expected.Length];
            output = PoolGen.NaNs(expected.Length);
            AdaptivePooling.Max(a.Planes, a.In, a.Out, input, output, indices);
            AssertBits(expected, output, a.ToString());
            Assert.Equal(expectedIdx, indices);
        });

    [Property(MaxTest = 200)]
    public Property MaxUnpool_of_max_indices_puts_each_max_back() =>
        // Undilated windows always hold an input element, so every index is valid.
        Prop.ForAll(PoolGen.Cases(dilated: false).ToArbitrary(), c =>
        {
            var plan = c.Plan;
            var input = PoolGen.Data(plan.Planes * plan.Input.Volume, c.Seed, specials: false);
            var pooled = new float[plan.Planes * plan.Output.Volume];
            var indices = new long[pooled.Length];
            Pooling.Max(plan, input, pooled, indices);
            var restored = PoolGen.NaNs(input.Length);
            Unpooling.MaxUnpool(plan.Planes, plan.Output, plan.Input, pooled, indices, restored);
            AssertBits(ReferencePool.MaxUnpool(plan.Planes, plan.Output, plan.Input, pooled, indices), restored, c.ToString());
            var chosen = new HashSet<long>();
            for (int i = 0; i < pooled.Length; i++)
            {
                long plane = i / plan.Output.Volume;
                long at = plane * plan.Input.Volume + indices[i];
                chosen.Add(at);
                Assert.Equal(input[at], restored[at]);
            }
            for (int i = 0; i < restored.Length; i++)
                if (!chosen.Contains(i)) Assert.Equal(0f, restored[i]);
        });

    [Fact]
    public void MaxUnpool_later_writes_win()
    {
        var source = new[] { 1f, 2f, 3f, 4f };
        var indices = new[] { 2L, 2L, 0L, 0L };
        var destination = PoolGen.NaNs(6);
        Unpooling.MaxUnpool(2, new Dim3(1, 1, 2), new Dim3(1, 1, 3), source, indices, destination);
        Assert.Equal(new[] { 0f, 0f, 2f, 4f, 0f, 0f }, destination);
    }

    [Theory]
    [InlineData(-1L)]
    [InlineData(3L)]
    [InlineData(long.MaxValue)]
    [InlineData(long.MinValue)]
    public void MaxUnpool_rejects_an_invalid_index(long bad)
    {
        var destination = new float[6];
        var ex = Assert.Throws<ArgumentException>(() =>
            Unpooling.MaxUnpool(2, new Dim3(1, 1, 2), new Dim3(1, 1, 3), new[] { 1f, 2f, 3f, 4f }, new[] { 0L, 1L, bad, 2L }, destination));
        Assert.Equal("indices", ex.ParamName);
        Assert.Contains("invalid max index", ex.Message);
        Assert.Contains(bad.ToString(), ex.Message);
    }

    [Fact]
    public void Bad_spans_throw_argument_exceptions_naming_them()
    {
        var plan = new PoolPlan(2, new Dim3(1, 4, 4), new Dim3(1, 2, 2), new Dim3(1, 2, 2), new Dim3(1, 2, 2), Dim3.All(1), Dim3.All(0));
        var input = new float[32];
        var output = new float[8];
        Assert.Equal("input", Assert.Throws<ArgumentException>(() => Pooling.Max(plan, new float[31], output, Span<long>.Empty)).ParamName);
        Assert.Equal("output", Assert.Throws<ArgumentException>(() => Pooling.Max(plan, input, new float[9], Span<long>.Empty)).ParamName);
        Assert.Equal("indices", Assert.Throws<ArgumentException>(() => Pooling.Max(plan, input, output, new long[7])).ParamName);
        Assert.Equal("input", Assert.Throws<ArgumentException>(() => Pooling.Avg(plan, new float[33], output, false, 0)).ParamName);
        Assert.Equal("output", Assert.Throws<ArgumentException>(() => Pooling.Avg(plan, input, new float[7], false, 0)).ParamName);
        var ex = Assert.Throws<ArgumentException>(() => Pooling.Max(plan, new float[31], output, Span<long>.Empty));
        Assert.Contains("31", ex.Message);
        Assert.Contains("32", ex.Message);

        Dim3 i3 = new(1, 4, 4), o3 = new(1, 2, 2);
        Assert.Equal("source", Assert.Throws<ArgumentException>(() => AdaptivePooling.Avg(2, i3, o3, new float[30], output)).ParamName);
        Assert.Equal("destination", Assert.Throws<ArgumentException>(() => AdaptivePooling.Avg(2, i3, o3, input, new float[3])).ParamName);
        Assert.Equal("source", Assert.Throws<ArgumentException>(() => AdaptivePooling.Max(2, i3, o3, new float[30], output, Span<long>.Empty)).ParamName);
        Assert.Equal("destination", Assert.Throws<ArgumentException>(() => AdaptivePooling.Max(2, i3, o3, input, new float[3], Span<long>.Empty)).ParamName);
        Assert.Equal("indices", Assert.Throws<ArgumentException>(() => AdaptivePooling.Max(2, i3, o3, input, output, new long[3])).ParamName);

        Assert.Equal("source", Assert.Throws<ArgumentException>(() => Unpooling.MaxUnpool(2, o3, i3, new float[7], new long[8], input)).ParamName);
        Assert.Equal("indices", Assert.Throws<ArgumentException>(() => Unpooling.MaxUnpool(2, o3, i3, output, new long[7], input)).ParamName);
        Assert.Equal("destination", Assert.Throws<ArgumentException>(() => Unpooling.MaxUnpool(2, o3, i3, output, new long[8], new float[31])).ParamName);
    }

    [Fact]
    public void Bad_plans_throw_argument_exceptions()
    {
        var good = new PoolPlan(1, new Dim3(1, 4, 4), new Dim3(1, 2, 2), new Dim3(1, 2, 2), new Dim3(1, 2, 2), Dim3.All(1), Dim3.All(0));
        var input = new float[16];
        var output = new float[4];
        foreach (var bad in new[]
        {
            good with { Kernel = new Dim3(1, 0, 2) },
            good with { Stride = new Dim3(0, 2, 2) },
            good with { Dilation = new Dim3(1, 1, 0) },
            good with { PadLo = new Dim3(0, -1, 0) },
            good with { Planes = -1 },
            good with { Input = new Dim3(0, 4, 4) },
            good with { Output = new Dim3(1, 2, -2) },
            // Extents whose product wraps around must not pass the length check.
            good with { Input = new Dim3(65536, 65536, 65536) },
        })
        {
            Assert.ThrowsAny<ArgumentException>(() => Pooling.Max(bad, input, output, Span<long>.Empty));
            if (bad.Dilation == Dim3.All(1))
                Assert.ThrowsAny<ArgumentException>(() => Pooling.Avg(bad, input, output, false, 0));
        }
        Assert.ThrowsAny<ArgumentException>(() => Pooling.Avg(good with { Dilation = new Dim3(1, 2, 1) }, input, output, false, 0));
        Assert.ThrowsAny<ArgumentException>(() => AdaptivePooling.Avg(1, new Dim3(1, 0, 16), new Dim3(1, 1, 4), input, output));
        Assert.ThrowsAny<ArgumentException>(() => AdaptivePooling.Max(1, new Dim3(1, 1, 16), new Dim3(1, 1, 0), input, output, Span<long>.Empty));
        Assert.ThrowsAny<ArgumentException>(() => AdaptivePooling.Avg(-1, new Dim3(1, 1, 16), new Dim3(1, 1, 4), input, output));
    }

    [Fact]
    public void Zero_planes_is_a_no_op()
    {
        var plan = new PoolPlan(0, new Dim3(1, 4, 4), new Dim3(1, 2, 2), new Dim3(1, 2, 2), new Dim3(1, 2, 2), Dim3.All(1), Dim3.All(0));
        Pooling.Max(plan, [], [], []);
        Pooling.Avg(plan, [], [], false, 0);
        AdaptivePooling.Avg(0, new Dim3(1, 4, 4), new Dim3(1, 2, 2), [], []);
        AdaptivePooling.Max(0, new Dim3(1, 4, 4), new Dim3(1, 2, 2), [], [], []);
        Unpooling.MaxUnpool(0, new Dim3(1, 2, 2), new Dim3(1, 4, 4), [], [], []);
    }
}

[Collection("Parallelism")]
public class PoolKernelThreadTests
{
    private static T WithThreads<T>(int threads, Func<T> run)
    {
        int saved = Parallelism.Threads;
        try
        {
            Parallelism.Threads = threads;
            return run();
        }
        finally
        {
            Parallelism.Threads = saved;
        }
    }

    private static void AssertBitIdentical(float[] a, float[] b)
    {
        Assert.Equal(a.Length, b.Length);
        for (int i = 0; i < a.Length; i++)
            Assert.Equal(BitConverter.SingleToInt32Bits(a[i]), BitConverter.SingleToInt32Bits(b[i]));
    }

    [Theory]
    [InlineData(3, 1, 224, 224, 3, 2, 0)]
    [InlineData(8, 1, 64, 67, 3, 2, 1)]
    [InlineData(5, 1, 61, 70, 3, 1, 1)]
    [InlineData(3, 9, 30, 35, 2, 2, 1)]
    [InlineData(6, 1, 50, 90, 3, 3, 1)]
    public void Pools_are_bit_identical_on_1_and_2_threads(int planes, int d, int h, int w, int k, int s, int p)
    {
        var kernel = new Dim3(d == 1 ? 1 : k, k, k);
        var stride = new Dim3(d == 1 ? 1 : s, s, s);
        var pad = new Dim3(d == 1 ? 0 : p, p, p);
        var output = new Dim3(
            ReferencePool.OutputSize(d, kernel.D, stride.D, pad.D, 1, true),
            ReferencePool.OutputSize(h, k, s, p, 1, true),
            ReferencePool.OutputSize(w, k, s, p, 1, true));
        var plan = new PoolPlan(planes, new Dim3(d, h, w), output, kernel, stride, Dim3.All(1), pad);
        var input = PoolGen.Data(planes * plan.Input.Volume, 3, specials: true);
        int n = (int)(planes * output.Volume);

        (float[], long[]) MaxIdx()
        {
            var o = new float[n];
            var i = new long[n];
            Pooling.Max(plan, input, o, i);
            return (o, i);
        }
        float[] Run(Action<float[]> f)
        {
            var o = PoolGen.NaNs(n);
            f(o);
            return o;
        }

        AssertBitIdentical(
            WithThreads(1, () => Run(o => Pooling.Max(plan, input, o, Span<long>.Empty))),
            WithThreads(2, () => Run(o => Pooling.Max(plan, input, o, Span<long>.Empty))));
        AssertBitIdentical(
            WithThreads(1, () => Run(o => Pooling.Avg(plan, input, o, true, 0))),
            WithThreads(2, () => Run(o => Pooling.Avg(plan, input, o, true, 0))));
        var (v1, i1) = WithThreads(1, MaxIdx);
        var (v2, i2) = WithThreads(2, MaxIdx);
        AssertBitIdentical(v1, v2);
        Assert.Equal(i1, i2);

        var ao = new Dim3(Math.Max(1, d / 2), 7, 9);
        int an = planes * (int)ao.Volume;
        float[] Adaptive(bool avg)
        {
            var o = PoolGen.NaNs(an);
            if (avg) AdaptivePooling.Avg(planes, plan.Input, ao, input, o);
            else AdaptivePooling.Max(planes, plan.Input, ao, input, o, Span<long>.Empty);
            return o;
        }
        AssertBitIdentical(WithThreads(1, () => Adaptive(true)), WithThreads(2, () => Adaptive(true)));
        AssertBitIdentical(WithThreads(1, () => Adaptive(false)), WithThreads(2, () => Adaptive(false)));
    }
}
