using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Functional.Kernels;

namespace Functional.Properties;

/// <summary>
/// Pooling layers over generated geometries: shapes against PyTorch's pooling_output_shape (ceil
/// mode included), constants, max ≥ avg, max values and indices, unpooling, adaptive identity,
/// LPPool against sums, thread independence and printouts.
/// </summary>
public class PoolProperties
{
    private const double U = 1.0 / (1 << 24);

    private static readonly Arbitrary<PoolConfig> MaxPools = LayerGenerators.Pools(PoolKind.Max).ToArbitrary();
    private static readonly Arbitrary<PoolConfig> AvgPools = LayerGenerators.Pools(PoolKind.Avg, dilated: false).ToArbitrary();

    /// <summary>A dyadic constant (k/8 in [−8, 8]): sums of up to 64 copies and their means are exact in float.</summary>
    private static readonly Gen<float> Dyadic = Gen.Choose(-64, 64).Select(k => k / 8f);

    // ---- the windows, written out here ----

    /// <summary>Input flat indices (within a plane) of the real taps of output element <paramref name="o"/> (3-D form).</summary>
    private static List<int> Taps(PoolConfig c, Dim3 o)
    {
        var I = LayerGenerators.To3D(c.Spatial);
        var K = LayerGenerators.To3D(c.Kernel);
        var S = LayerGenerators.To3D(c.EffectiveStride);
        var D = LayerGenerators.To3D(c.Dilation);
        var P = LayerGenerators.To3D(c.Padding, 0);
        var taps = new List<int>();
        for (int kd = 0; kd < K.D; kd++)
        for (int kh = 0; kh < K.H; kh++)
        for (int kw = 0; kw < K.W; kw++)
        {
            int d = o.D * S.D - P.D + kd * D.D, h = o.H * S.H - P.H + kh * D.H, w = o.W * S.W - P.W + kw * D.W;
            if (d >= 0 && d < I.D && h >= 0 && h < I.H && w >= 0 && w < I.W) taps.Add((d * I.H + h) * I.W + w);
        }
        return taps;
    }

    /// <summary>Calls <paramref name="visit"/>(plane, output flat index, output position) for every output element.</summary>
    private static void ForEachOutput(PoolConfig c, Action<int, int, Dim3> visit)
    {
        var O = LayerGenerators.To3D(c.OutputSpatial);
        int planes = c.Lead.Aggregate(1, (a, b) => a * b), at = 0;
        for (int p = 0; p < planes; p++)
        for (int d = 0; d < O.D; d++)
        for (int h = 0; h < O.H; h++)
        for (int w = 0; w < O.W; w++, at++)
            visit(p, at, new Dim3(d, h, w));
    }

    private static int PlaneSize(PoolConfig c) => c.Spatial.Aggregate(1, (a, b) => a * b);

    // ---- shapes ----

    [Property(MaxTest = 150)]
    public Property MaxPool_OutputShape_equals_Forward_shape_and_PyTorch_formula() => Prop.ForAll(MaxPools, c =>
    {
        var pool = c.Build();
        Assert.Equal(c.ExpectedOutputShape, pool.OutputShape(c.InputShape));
        Assert.Equal(c.ExpectedOutputShape, pool.Forward(c.Input()).Shape);
    });

    [Property(MaxTest = 150)]
    public Property AvgPool_OutputShape_equals_Forward_shape_and_PyTorch_formula() => Prop.ForAll(AvgPools, c =>
    {
        var pool = c.Build();
        Assert.Equal(c.ExpectedOutputShape, pool.OutputShape(c.InputShape));
        Assert.Equal(c.ExpectedOutputShape, pool.Forward(c.Input()).Shape);
    });

    [Fact]
    public void Ceil_mode_drops_a_last_window_that_would_start_in_the_right_padding()
    {
        // in 5, kernel 2, stride 2, padding 1: ⌈(5 + 2 − 2)/2⌉ + 1 = 4, but the 4th window starts at 6 − 1 = 5 ≥ 5.
        Assert.Equal(new Shape(1, 3), new MaxPool1d(2, 2, 1, ceilMode: true).OutputShape([1, 5]));
        Assert.Equal(new Shape(1, 3), new MaxPool1d(2, 2, 1, ceilMode: false).OutputShape([1, 5]));
        // in 6, kernel 3, stride 2, no padding: ⌈(6 − 3)/2⌉ + 1 = 3 (the last window is partial), floor gives 2.
        Assert.Equal(new Shape(1, 3), new AvgPool1d(3, 2, ceilMode: true).OutputShape([1, 6]));
        Assert.Equal(new Shape(1, 2), new AvgPool1d(3, 2).OutputShape([1, 6]));
    }

    // ---- values ----

    [Property(MaxTest = 100)]
    public Property A_constant_pools_to_the_same_constant() =>
        Prop.ForAll(Gen.Zip(LayerGenerators.Pools(PoolKind.Max), Dyadic).ToArbitrary(), t =>
        {
            var (c, v) = t;
            var x = Tensor.Full(c.InputShape, v);
            // Max: padding never wins, so every window with a real tap gives v; a window of only
            // padding (possible with dilation) gives −∞, as PyTorch.
            var max = c.BuildMax().Forward(x);
            ForEachOutput(c, (p, at, o) => Assert.Equal(Taps(c, o).Count > 0 ? v : float.NegativeInfinity, max.Span[at]));
            if (c.Dilation.All(d => d == 1))
            {
                var avgConfig = c with { CountIncludePad = c.CountIncludePad && c.Padding.All(p => p == 0) };
                var avg = avgConfig.BuildAvg().Forward(x);
                Assert.True(avg.Span.ToArray().All(y => y == v), $"{avgConfig}: constant {v} pooled to {Generators.Show(avg.Span)}");
            }
        });

    [Property(MaxTest = 100)]
    public Property Adaptive_pools_of_a_constant_give_the_constant() =>
        Prop.ForAll(Gen.Zip(Gen.Choose(1, 3).SelectMany(r => Gen.Zip(LayerGenerators.PoolInputs(r), Gen.Choose(1, 6).ArrayOf(r))), Dyadic).ToArbitrary(), t =>
        {
            var ((shape, size), v) = t;
            var x = Tensor.Full(shape, v);
            var sizes = size.Select(s => (int?)s).ToArray();
            foreach (var pool in Adaptive(size.Length, sizes))
            {
                var y = pool.Forward(x);
                Assert.True(y.Span.ToArray().All(e => e == v), $"{pool} on {shape}: constant {v} pooled to {Generators.Show(y.Span)}");
            }
        });

    private static Layer[] Adaptive(int rank, int?[] sizes) => rank switch
    {
        1 => [new AdaptiveAvgPool1d(sizes), new AdaptiveMaxPool1d(sizes)],
        2 => [new AdaptiveAvgPool2d(sizes), new AdaptiveMaxPool2d(sizes)],
        _ => [new AdaptiveAvgPool3d(sizes), new AdaptiveMaxPool3d(sizes)],
    };

    [Property(MaxTest = 100)]
    public Property Max_pool_is_at_least_avg_pool_without_padding() =>
        Prop.ForAll(LayerGenerators.Pools(PoolKind.Avg, dilated: false, padded: false).ToArbitrary(), c =>
        {
            var x = c.Input();
            var max = c.BuildMax().Forward(x);
            var avg = c.BuildAvg().Forward(x);
            int kvol = c.Kernel.Aggregate(1, (a, b) => a * b);
            double tol = 2 * (kvol + 2) * U * Math.Max(Math.Abs(x.Max()), Math.Abs(x.Min()));
            for (int i = 0; i < max.Count; i++)
                Assert.True(max.Span[i] >= avg.Span[i] - tol, $"{c}: element {i}: max {max.Span[i]:R} < avg {avg.Span[i]:R}");
        });

    [Property(MaxTest = 150)]
    public Property Max_pool_values_are_window_maxima_and_indices_point_at_them() => Prop.ForAll(MaxPools, c =>
    {
        var x = c.Input();
        var pool = c.BuildMax();
        var (y, indices) = pool.ForwardWithIndices(x);
        Assert.Equal(y.Shape, indices.Shape);
        Assert.True(y.Span.SequenceEqual(pool.Forward(x).Span), $"{c}: Forward and ForwardWithIndices disagree");
        int plane = PlaneSize(c);
        var xs = x.ToArray();
        var ys = y.ToArray();
        var idx = indices.ToArray();
        ForEachOutput(c, (p, at, o) =>
        {
            var taps = Taps(c, o);
            if (taps.Count == 0) { Assert.Equal(float.NegativeInfinity, ys[at]); return; }
            float best = taps.Max(t => xs[p * plane + t]);
            Assert.Equal(best, ys[at]);
            Assert.Contains((int)idx[at], taps);
            Assert.Equal(ys[at], xs[p * plane + (int)idx[at]]);
        });
    });

    /// <summary>Undilated max pools whose input size an unpool's output_size may name (within a stride of its default).</summary>
    private static readonly Arbitrary<PoolConfig> UnpoolCases = LayerGenerators.Pools(PoolKind.Max, dilated: false)
        .Where(c => Enumerable.Range(0, c.Rank).All(i =>
        {
            int def = (c.OutputSpatial[i] - 1) * c.EffectiveStride[i] - 2 * c.Padding[i] + c.Kernel[i];
            return def - c.EffectiveStride[i] < c.Spatial[i] && c.Spatial[i] < def + c.EffectiveStride[i];
        }))
        .ToArbitrary();

    private static MaxUnpoolNd Unpool(PoolConfig c) => c.Rank switch
    {
        1 => new MaxUnpool1d(new Dims(c.Kernel), new Dims(c.EffectiveStride), new Dims(c.Padding)),
        2 => new MaxUnpool2d(new Dims(c.Kernel), new Dims(c.EffectiveStride), new Dims(c.Padding)),
        _ => new MaxUnpool3d(new Dims(c.Kernel), new Dims(c.EffectiveStride), new Dims(c.Padding)),
    };

    [Property(MaxTest = 100)]
    public Property MaxUnpool_puts_each_maximum_back_and_zeros_elsewhere() => Prop.ForAll(UnpoolCases, c =>
    {
        var x = c.Input();
        var (y, indices) = c.BuildMax().ForwardWithIndices(x);
        var unpool = Unpool(c);
        var restored = unpool.Forward(y, indices, c.Spatial);
        Assert.Equal(x.Shape, restored.Shape);
        Assert.Equal(x.Shape, unpool.OutputShape(y.Shape, c.Spatial));
        int plane = PlaneSize(c), outPlane = c.OutputSpatial.Aggregate(1, (a, b) => a * b);
        var expected = new float[x.Count];
        for (int i = 0; i < y.Count; i++) expected[i / outPlane * plane + (int)indices.Span[i]] = y.Span[i];
        Assert.True(expected.AsSpan().SequenceEqual(restored.Span), $"{c}: unpooled {Generators.Show(restored.Span)}, expected {Generators.Show(expected)}");
        // Every maximum is an input element at its place.
        for (int i = 0; i < x.Count; i++)
            Assert.True(restored.Span[i] == 0 || restored.Span[i] == x.Span[i]);
    });

    [Property(MaxTest = 100)]
    public Property Adaptive_pooling_to_the_input_size_is_the_identity() =>
        Prop.ForAll(Gen.Zip(Gen.Choose(1, 3).SelectMany(r => LayerGenerators.PoolInputs(r, 6).Select(s => (r, s))), Gen.Elements(false, true)).ToArbitrary(), t =>
        {
            var ((rank, shape), keepWithNull) = t;
            var spatial = shape.Skip(shape.Rank - rank).ToArray();
            var sizes = keepWithNull ? new int?[rank] : spatial.Select(s => (int?)s).ToArray();
            var x = Tensor.RandomNormal(shape, shape.GetHashCode());
            foreach (var pool in Adaptive(rank, sizes))
            {
                var y = pool.Forward(x);
                Assert.Equal(x.Shape, y.Shape);
                Assert.True(x.Span.SequenceEqual(y.Span), $"{pool} on {shape} is not the identity");
                if (pool is AdaptiveMaxPoolNd max)
                {
                    var idx = max.ForwardWithIndices(x).Indices.Span;
                    int plane = spatial.Aggregate(1, (a, b) => a * b);
                    for (int i = 0; i < idx.Length; i++) Assert.Equal(i % plane, idx[i]);
                }
            }
        });

    [Property(MaxTest = 100)]
    public Property Adaptive_OutputShape_equals_Forward_shape() =>
        Prop.ForAll(Gen.Choose(1, 3).SelectMany(r => Gen.Zip(LayerGenerators.PoolInputs(r), Gen.Frequency((3, Gen.Choose(1, 6).Select(v => (int?)v)), (1, Gen.Constant((int?)null))).ArrayOf(r))).ToArbitrary(), t =>
        {
            var (shape, sizes) = t;
            int lead = shape.Rank - sizes.Length;
            var expected = new Shape([.. shape.Take(lead), .. sizes.Select((s, i) => s ?? shape[lead + i])]);
            var x = Tensor.RandomNormal(shape, 3);
            foreach (var pool in Adaptive(sizes.Length, sizes))
            {
                Assert.Equal(expected, pool.OutputShape(shape));
                Assert.Equal(expected, pool.Forward(x).Shape);
            }
        });

    // ---- LPPool ----

    private static LPPoolNd LP(PyNumber p, PoolConfig c) => c.Rank == 1
        ? new LPPool1d(p, new Dims(c.Kernel), c.Stride is { } s ? new Dims(s) : (Dims?)null, c.CeilMode)
        : new LPPool2d(p, new Dims(c.Kernel), c.Stride is { } s2 ? new Dims(s2) : (Dims?)null, c.CeilMode);

    /// <summary>Rank 1 and 2, no padding, no dilation (LPPool has neither).</summary>
    private static readonly Arbitrary<PoolConfig> LPCases = LayerGenerators.Pools(PoolKind.Avg, dilated: false, padded: false)
        .Where(c => c.Rank <= 2).ToArbitrary();

    [Property(MaxTest = 100)]
    public Property LPPool_with_p1_is_sum_pool_and_with_p2_the_root_of_the_sum_of_squares() => Prop.ForAll(LPCases, c =>
    {
        var x = Tensor.RandomUniform(c.InputShape, c.Seed, 0.1f, 2f);
        var xs = x.ToArray();
        int plane = PlaneSize(c), kvol = c.Kernel.Aggregate(1, (a, b) => a * b);
        var sum = LP(1, c).Forward(x);
        var norm = LP(2, c).Forward(x);
        Assert.Equal(c.ExpectedOutputShape, sum.Shape);
        Assert.Equal(c.ExpectedOutputShape, norm.Shape);
        ForEachOutput(c, (p, at, o) =>
        {
            var taps = Taps(c, o);
            // PyTorch computes (avg_pool(x^p)·kernel volume)^(1/p): a ceil_mode window cut short is
            // averaged over what it covers, then scaled by the full kernel volume.
            double scale = (double)kvol / taps.Count;
            double s1 = taps.Sum(t => (double)xs[p * plane + t]) * scale;
            double s2 = Math.Sqrt(taps.Sum(t => (double)xs[p * plane + t] * xs[p * plane + t]) * scale);
            Assert.True(Math.Abs(sum.Span[at] - s1) <= 4 * (kvol + 4) * U * s1, $"{c}: p=1 gives {sum.Span[at]:R}, sum {s1:R}");
            Assert.True(Math.Abs(norm.Span[at] - s2) <= 4 * (kvol + 4) * U * s2, $"{c}: p=2 gives {norm.Span[at]:R}, √Σx² {s2:R}");
        });
        if (!c.CeilMode)
        {
            // Without partial windows, p = 1 is the average pool times the kernel volume.
            var avg = c.BuildAvg().Forward(x);
            for (int i = 0; i < avg.Count; i++)
                Assert.True(Math.Abs(sum.Span[i] - avg.Span[i] * kvol) <= 4 * (kvol + 4) * U * Math.Abs(sum.Span[i]));
        }
    });

    // ---- tensor functions ----

    [Property(MaxTest = 100)]
    public Property Tensor_functions_equal_the_layers() =>
        Prop.ForAll(LayerGenerators.Pools(PoolKind.Max).ToArbitrary(), c =>
        {
            var x = c.Input();
            Dims k = new(c.Kernel), p = new(c.Padding), d = new(c.Dilation);
            Dims? s = c.Stride is { } st ? new Dims(st) : (Dims?)null;
            var max = c.Rank switch
            {
                1 => x.MaxPool1d(k, s, p, d, c.CeilMode),
                2 => x.MaxPool2d(k, s, p, d, c.CeilMode),
                _ => x.MaxPool3d(k, s, p, d, c.CeilMode),
            };
            Assert.True(max.Span.SequenceEqual(c.BuildMax().Forward(x).Span), $"{c}: F.max_pool differs from the layer");
            if (c.Dilation.All(v => v == 1))
            {
                var avg = c.Rank switch
                {
                    1 => x.AvgPool1d(k, s, p, c.CeilMode, c.CountIncludePad),
                    2 => x.AvgPool2d(k, s, p, c.CeilMode, c.CountIncludePad),
                    _ => x.AvgPool3d(k, s, p, c.CeilMode, c.CountIncludePad),
                };
                Assert.True(avg.Span.SequenceEqual(c.BuildAvg().Forward(x).Span), $"{c}: F.avg_pool differs from the layer");
            }
            var sizes = c.OutputSpatial.Select(v => (int?)v).ToArray();
            var (adaptiveAvg, adaptiveMax) = c.Rank switch
            {
                1 => (x.AdaptiveAvgPool1d(sizes), x.AdaptiveMaxPool1d(sizes)),
                2 => (x.AdaptiveAvgPool2d(sizes), x.AdaptiveMaxPool2d(sizes)),
                _ => (x.AdaptiveAvgPool3d(sizes), x.AdaptiveMaxPool3d(sizes)),
            };
            var layers = Adaptive(c.Rank, sizes);
            Assert.True(adaptiveAvg.Span.SequenceEqual(layers[0].Forward(x).Span), $"{c}: F.adaptive_avg_pool differs from the layer");
            Assert.True(adaptiveMax.Span.SequenceEqual(layers[1].Forward(x).Span), $"{c}: F.adaptive_max_pool differs from the layer");
            if (c.Rank <= 2 && c.Padding.All(v => v == 0) && c.Dilation.All(v => v == 1))
            {
                var positive = Tensor.RandomUniform(c.InputShape, c.Seed, 0.1f, 2f);
                var lp = c.Rank == 1 ? positive.LPPool1d(2, k, s, c.CeilMode) : positive.LPPool2d(2, k, s, c.CeilMode);
                Assert.True(lp.Span.SequenceEqual(LP(2, c).Forward(positive).Span), $"{c}: F.lp_pool differs from the layer");
            }
        });

    // ---- printouts (expected strings printed by PyTorch 1.13, Debian's python3-torch) ----

    public static TheoryData<string, string> PoolPrintouts => new()
    {
        { "MaxPool2d(kernel_size=3, stride=2, padding=0, dilation=1, ceil_mode=False)", new MaxPool2d(3, 2).ToString() },
        { "MaxPool1d(kernel_size=3, stride=3, padding=0, dilation=1, ceil_mode=False)", new MaxPool1d(3).ToString() },
        { "MaxPool2d(kernel_size=(2, 3), stride=(1, 2), padding=1, dilation=2, ceil_mode=True)", new MaxPool2d((2, 3), stride: (1, 2), padding: 1, dilation: 2, ceilMode: true).ToString() },
        { "AvgPool1d(kernel_size=(3,), stride=(3,), padding=(0,))", new AvgPool1d(3).ToString() },
        { "AvgPool1d(kernel_size=(3,), stride=(2,), padding=(1,))", new AvgPool1d(3, 2, 1).ToString() },
        { "AvgPool2d(kernel_size=2, stride=2, padding=0)", new AvgPool2d(2).ToString() },
        { "AvgPool2d(kernel_size=(2, 3), stride=1, padding=(1, 1))", new AvgPool2d((2, 3), stride: 1, padding: (1, 1), ceilMode: true, countIncludePad: false).ToString() },
        { "AdaptiveAvgPool2d(output_size=(None, 3))", new AdaptiveAvgPool2d(null, 3).ToString() },
        { "AdaptiveAvgPool2d(output_size=5)", new AdaptiveAvgPool2d(5).ToString() },
        { "AdaptiveMaxPool1d(output_size=4)", new AdaptiveMaxPool1d(4).ToString() },
        { "LPPool2d(norm_type=2, kernel_size=3, stride=None, ceil_mode=False)", new LPPool2d(2, 3).ToString() },
        { "LPPool1d(norm_type=1.5, kernel_size=2, stride=1, ceil_mode=False)", new LPPool1d(1.5, 2, stride: 1).ToString() },
        { "LPPool2d(norm_type=2.0, kernel_size=3, stride=None, ceil_mode=False)", new LPPool2d(2.0, 3).ToString() },
        { "MaxUnpool2d(kernel_size=(2, 2), stride=(2, 2), padding=(0, 0))", new MaxUnpool2d(2).ToString() },
        { "MaxUnpool1d(kernel_size=(3,), stride=(2,), padding=(1,))", new MaxUnpool1d(3, stride: 2, padding: 1).ToString() },
        {
            "Sequential(\n  (0): Conv2d(3, 16, kernel_size=(3, 3), stride=(2, 2), bias=False)\n  (1): MaxPool2d(kernel_size=3, stride=2, padding=0, dilation=1, ceil_mode=False)\n  (2): AvgPool2d(kernel_size=2, stride=2, padding=0)\n  (3): AdaptiveAvgPool2d(output_size=(None, 3))\n  (4): LPPool2d(norm_type=2, kernel_size=3, stride=None, ceil_mode=False)\n)",
            Sequential.Of(Conv2d.Load(Weights.Random(0).At("0"), 3, 16, 3, stride: 2, bias: false), new MaxPool2d(3, 2), new AvgPool2d(2),
                new AdaptiveAvgPool2d(null, 3), new LPPool2d(2, 3)).ToString()
        },
    };

    [Theory]
    [MemberData(nameof(PoolPrintouts))]
    public void Prints_as_PyTorch(string pytorch, string ours) => Assert.Equal(pytorch, ours);

    [Fact]
    public void With_variants_of_pools_use_the_new_window()
    {
        var pool = new MaxPool2d(3, 2);
        var wider = pool with { Stride = 1, Padding = 1 };
        Assert.Equal(new Shape(1, 2, 3, 3), pool.OutputShape([1, 2, 7, 7]));
        Assert.Equal(new Shape(1, 2, 7, 7), wider.OutputShape([1, 2, 7, 7]));
        Assert.Equal(new Shape(1, 2, 7, 7), wider.Forward(Tensor.RandomNormal([1, 2, 7, 7], 5)).Shape);
        Assert.Equal("MaxPool2d(kernel_size=3, stride=1, padding=1, dilation=1, ceil_mode=False)", wider.ToString());
        var unpool = new MaxUnpool2d(2) with { Stride = 3 };
        Assert.Equal(new Shape(1, 5, 5), unpool.OutputShape([1, 2, 2]));
        Assert.Equal("MaxUnpool2d(kernel_size=(2, 2), stride=(3, 3), padding=(0, 0))", unpool.ToString());
    }
}

/// <summary>Pools give bit-identical results whatever <see cref="Parallelism.Threads"/> is.</summary>
[Collection("Parallelism")]
public class PoolPropertiesAcrossThreads
{
    private static readonly int[] Large = [600, 40, 14];

    private static void Same(Layer pool, Tensor x, string context)
    {
        var one = ConvPropertiesAcrossThreads.WithThreads(1, () => pool.Forward(x));
        foreach (int t in new[] { 2, 3 })
            Assert.True(one.Span.SequenceEqual(ConvPropertiesAcrossThreads.WithThreads(t, () => pool.Forward(x)).Span), $"{context}: {t} threads differ from 1");
    }

    [Property(MaxTest = 30)]
    public Property Max_and_avg_pools_do_not_depend_on_the_thread_count() =>
        Prop.ForAll(LayerGenerators.Pools(PoolKind.Avg, dilated: false, maxExtra: Large).ToArbitrary(), c =>
        {
            var x = c.Input();
            Same(c.BuildMax(), x, c.ToString());
            Same(c.BuildAvg(), x, c.ToString());
            int saved = Parallelism.Threads;
            try
            {
                Parallelism.Threads = 1;
                var a = c.BuildMax().ForwardWithIndices(x).Indices;
                Parallelism.Threads = 3;
                var b = c.BuildMax().ForwardWithIndices(x).Indices;
                Assert.True(a.SameAs(b), $"{c}: indices depend on the thread count");
            }
            finally
            {
                Parallelism.Threads = saved;
            }
        });

    [Property(MaxTest = 30)]
    public Property Adaptive_pools_do_not_depend_on_the_thread_count() =>
        Prop.ForAll((from r in Gen.Choose(1, 3)
                     from lead in Gen.Choose(1, 3).ArrayOf(2)
                     from spatial in Gen.Choose(r == 1 ? 200 : r == 2 ? 20 : 8, r == 1 ? 600 : r == 2 ? 40 : 14).ArrayOf(r)
                     from sizes in Gen.Choose(1, 9).ArrayOf(r)
                     select (lead, spatial, sizes)).ToArbitrary(), t =>
        {
            var (lead, spatial, sizes) = t;
            var shape = new Shape([.. lead, .. spatial]);
            var x = Tensor.RandomNormal(shape, spatial.Sum());
            var s = sizes.Select(v => (int?)v).ToArray();
            var pools = spatial.Length switch
            {
                1 => new Layer[] { new AdaptiveAvgPool1d(s), new AdaptiveMaxPool1d(s) },
                2 => [new AdaptiveAvgPool2d(s), new AdaptiveMaxPool2d(s)],
                _ => [new AdaptiveAvgPool3d(s), new AdaptiveMaxPool3d(s)],
            };
            foreach (var pool in pools) Same(pool, x, $"{pool} on {shape}");
        });
}
