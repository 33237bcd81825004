using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace Functional.Properties;

/// <summary>Laws of Upsample, PixelShuffle/Unshuffle and the padding layers.</summary>
public class ResampleProperties
{
    private static Gen<float> Moderate => Generators.Uniform(-5, 5);

    /// <summary>An (N, C, spatial...) input of 1-3 spatial dims, extents 1..5.</summary>
    private static Gen<Tensor> Images(int minRank = 1, int maxRank = 3) =>
        from rank in Gen.Choose(minRank, maxRank)
        from n in Gen.Choose(1, 2)
        from c in Gen.Choose(1, 3)
        from sizes in Gen.Choose(1, 5).ArrayOf(rank)
        from x in Generators.TensorOf(new Shape(n, c).Concat(new Shape(sizes)), Moderate)
        select x;

    [Property]
    public Property Nearest_upsampling_then_average_pooling_by_the_same_factor_is_the_identity() =>
        Prop.ForAll((from x in Images() from k in Gen.Choose(1, 3) from bySize in Gen.Elements(true, false) select (x, k, bySize)).ToArbitrary(), t =>
        {
            var (x, k, bySize) = t;
            int rank = x.Rank - 2;
            var up = bySize ? new Upsample(size: x.Shape.Skip(2).Select(s => s * k).ToArray()) : new Upsample(scaleFactor: k);
            Layer pool = rank switch { 1 => new AvgPool1d(k), 2 => new AvgPool2d(k), _ => new AvgPool3d(k) };
            var y = (up >> pool).Forward(x);
            Assert.True(y.AllClose(x, 1e-6f, 1e-6f), $"{up}: max diff {y.MaxAbsDiff(x)}");
        });

    [Property]
    public Property Align_corners_keeps_the_corner_values() =>
        Prop.ForAll((from x in Images() from k in Gen.Choose(2, 7) from cubic in Gen.Elements(true, false) select (x, k, cubic)).ToArbitrary(), t =>
        {
            var (x, k, cubic) = t;
            int rank = x.Rank - 2;
            var mode = rank switch { 1 => UpsampleMode.Linear, 2 => cubic ? UpsampleMode.Bicubic : UpsampleMode.Bilinear, _ => UpsampleMode.Trilinear };
            var size = x.Shape.Skip(2).Select(s => s + k).ToArray();
            var y = new Upsample(size: size, mode: mode, alignCorners: true).Forward(x);
            // Every corner: each spatial index either 0 or last, in input and output alike.
            for (int corner = 0; corner < 1 << rank; corner++)
                for (int p = 0; p < x.Shape[0] * x.Shape[1]; p++)
                {
                    int[] xi = [p / x.Shape[1], p % x.Shape[1], .. Enumerable.Range(0, rank).Select(d => (corner >> d & 1) == 0 ? 0 : x.Shape[2 + d] - 1)];
                    int[] yi = [p / x.Shape[1], p % x.Shape[1], .. Enumerable.Range(0, rank).Select(d => (corner >> d & 1) == 0 ? 0 : size[d] - 1)];
                    Assert.True(Math.Abs(y[yi] - x[xi]) <= 1e-5f * (1 + Math.Abs(x[xi])), $"{mode} corner {corner}: {y[yi]} vs {x[xi]}");
                }
        });

    [Property]
    public Property PixelUnshuffle_inverts_PixelShuffle_and_back() =>
        Prop.ForAll((from r in Gen.Choose(1, 3)
                     from lead in Gen.Choose(0, 2)
                     from dims in Gen.Choose(1, 3).ArrayOf(lead + 3)
                     from x in Generators.TensorOf(new Shape(dims).With(-3, dims[^3] * r * r), Moderate)
                     select (r, x)).ToArbitrary(), t =>
        {
            var (r, x) = t;
            var shuffled = new PixelShuffle(r).Forward(x);
            Assert.Equal(x.Shape.Take(x.Rank - 3).Concat(new Shape(x.Shape[-3] / (r * r), x.Shape[-2] * r, x.Shape[-1] * r)), shuffled.Shape);
            Assert.Equal(x.ToArray(), new PixelUnshuffle(r).Forward(shuffled).ToArray());
            Assert.Equal(shuffled.ToArray(), new PixelShuffle(r).Forward(new PixelUnshuffle(r).Forward(shuffled)).ToArray());
        });

    /// <summary>A padding layer of every family and rank with non-negative sizes valid for <paramref name="x"/>.</summary>
    private static Gen<PadNd> Pads(Tensor x) =>
        from family in Gen.Choose(0, 4)
        // Batched input: the padded rank is the spatial rank (constant padding would also take fewer).
        let rank = x.Rank - 2
        from raw in Gen.Choose(0, 4).ArrayOf(2 * rank)
        // Keep reflection below the size, circular at most the size.
        let sizes = raw.Select((p, i) => Math.Min(p, x.Shape[x.Rank - 1 - i / 2] - (family == 2 ? 1 : 0))).ToArray()
        select family switch
        {
            0 => rank switch { 1 => (PadNd)new ZeroPad1d(sizes), 2 => new ZeroPad2d(sizes), _ => new ZeroPad3d(sizes) },
            1 => rank switch { 1 => (PadNd)new ConstantPad1d(sizes, 2.5), 2 => new ConstantPad2d(sizes, 2.5), _ => new ConstantPad3d(sizes, 2.5) },
            2 => rank switch { 1 => (PadNd)new ReflectionPad1d(sizes), 2 => new ReflectionPad2d(sizes), _ => new ReflectionPad3d(sizes) },
            3 => rank switch { 1 => (PadNd)new ReplicationPad1d(sizes), 2 => new ReplicationPad2d(sizes), _ => new ReplicationPad3d(sizes) },
            _ => rank switch { 1 => (PadNd)new CircularPad1d(sizes), 2 => new CircularPad2d(sizes), _ => new CircularPad3d(sizes) },
        };

    [Property]
    public Property Padding_then_cropping_with_negative_zero_padding_is_the_identity() =>
        Prop.ForAll(Images().SelectMany(x => Pads(x).Select(p => (x, p))).ToArbitrary(), t =>
        {
            var (x, pad) = t;
            var crop = pad.SpatialRank switch
            {
                1 => (Layer)new ZeroPad1d(pad.Padding.Values.ToArray().Select(v => -v).ToArray()),
                2 => new ZeroPad2d(pad.Padding.Values.ToArray().Select(v => -v).ToArray()),
                _ => new ZeroPad3d(pad.Padding.Values.ToArray().Select(v => -v).ToArray()),
            };
            var padded = pad.Forward(x);
            Assert.Equal(pad.OutputShape(x.Shape), padded.Shape);
            Assert.Equal(x.ToArray(), crop.Forward(padded).ToArray());
        });

    [Property]
    public Property Circular_padding_reads_the_input_modulo_its_size() =>
        Prop.ForAll(Images(2, 2).SelectMany(x =>
            from l in Gen.Choose(-1, x.Shape[3]) from r in Gen.Choose(0, x.Shape[3])
            from top in Gen.Choose(0, x.Shape[2]) from bottom in Gen.Choose(-1, x.Shape[2])
            select (x, new Dims(l, r, top, bottom))).ToArbitrary(), t =>
        {
            var (x, p) = t;
            int h = x.Shape[2], w = x.Shape[3];
            if (h + p[2] + p[3] < 1 || w + p[0] + p[1] < 1) return;
            var y = new CircularPad2d(p).Forward(x);
            Assert.Equal(new Shape(x.Shape[0], x.Shape[1], h + p[2] + p[3], w + p[0] + p[1]), y.Shape);
            for (int n = 0; n < y.Shape[0]; n++)
                for (int c = 0; c < y.Shape[1]; c++)
                    for (int i = 0; i < y.Shape[2]; i++)
                        for (int j = 0; j < y.Shape[3]; j++)
                            Assert.Equal(x[n, c, ((i - p[2]) % h + h) % h, ((j - p[0]) % w + w) % w], y[n, c, i, j]);
        });

    [Property]
    public Property Reflection_padding_mirrors_without_repeating_the_edge() =>
        Prop.ForAll((from n in Gen.Choose(2, 7) from x in Generators.TensorOf([1, n], Moderate) from l in Gen.Choose(0, n - 1) from r in Gen.Choose(0, n - 1)
                     select (x, l, r)).ToArbitrary(), t =>
        {
            var (x, l, r) = t;
            int n = x.Shape[1];
            var y = new ReflectionPad1d((l, r)).Forward(x);
            for (int j = 0; j < y.Shape[1]; j++)
            {
                int i = j - l;
                int src = i < 0 ? -i : i >= n ? 2 * (n - 1) - i : i;
                Assert.Equal(x[0, src], y[0, j]);
            }
        });

    /// <summary>Upsample configurations of every mode, by size or by scale factor.</summary>
    private static Gen<(Upsample Layer, Tensor Input)> UpsampleCases =>
        from x in Images()
        let rank = x.Rank - 2
        from mode in Gen.Elements(rank switch
        {
            1 => new[] { UpsampleMode.Nearest, UpsampleMode.NearestExact, UpsampleMode.Linear, UpsampleMode.Area },
            2 => [UpsampleMode.Nearest, UpsampleMode.NearestExact, UpsampleMode.Bilinear, UpsampleMode.Bicubic, UpsampleMode.Area],
            _ => [UpsampleMode.Nearest, UpsampleMode.NearestExact, UpsampleMode.Trilinear, UpsampleMode.Area],
        })
        from bySize in Gen.Elements(true, false)
        from size in Gen.Choose(1, 9)
        from scale in Gen.Elements(1.0, 1.5, 2.0, 2.5, 3.0)
        let interp = mode is UpsampleMode.Linear or UpsampleMode.Bilinear or UpsampleMode.Bicubic or UpsampleMode.Trilinear
        from align in Gen.Elements<bool?>(interp ? [true, false, null] : [null])
        select (bySize ? new Upsample(size: size, mode: mode, alignCorners: align) : new Upsample(scaleFactor: scale, mode: mode, alignCorners: align), x);

    [Property]
    public Property Upsample_OutputShape_equals_the_shape_Forward_gives() =>
        Prop.ForAll(UpsampleCases.ToArbitrary(), t =>
        {
            var (layer, x) = t;
            var y = layer.Forward(x);
            Assert.Equal(layer.OutputShape(x.Shape), y.Shape);
            Assert.All(y.ToArray(), v => Assert.True(float.IsFinite(v)));
        });

    [Fact]
    public void Printouts_match_PyTorch()
    {
        Assert.Equal("Upsample(scale_factor=2.0, mode=nearest)", new Upsample(scaleFactor: 2).ToString());
        Assert.Equal("Upsample(scale_factor=(1.5, 2.0), mode=bicubic)", new Upsample(scaleFactor: (1.5, 2), mode: UpsampleMode.Bicubic).ToString());
        Assert.Equal("Upsample(size=(5, 6), mode=bilinear)", new Upsample(size: (5, 6), mode: UpsampleMode.Bilinear, alignCorners: true).ToString());
        Assert.Equal("Upsample(size=5, mode=nearest-exact)", new Upsample(size: 5, mode: UpsampleMode.NearestExact).ToString());
        Assert.Equal("UpsamplingBilinear2d(size=4, mode=bilinear)", new UpsamplingBilinear2d(size: 4).ToString());
        Assert.Equal("UpsamplingNearest2d(scale_factor=2.0, mode=nearest)", new UpsamplingNearest2d(scaleFactor: 2).ToString());
        Assert.Equal("PixelShuffle(upscale_factor=2)", new PixelShuffle(2).ToString());
        Assert.Equal("PixelUnshuffle(downscale_factor=3)", new PixelUnshuffle(3).ToString());
        Assert.Equal("ZeroPad2d((1, 1, 1, 1))", new ZeroPad2d(1).ToString());
        Assert.Equal("ZeroPad2d((1, 2, 3, -1))", new ZeroPad2d(new Dims(1, 2, 3, -1)).ToString());
        Assert.Equal("ConstantPad1d(padding=(2, 2), value=3.5)", new ConstantPad1d(2, 3.5).ToString());
        Assert.Equal("ConstantPad2d(padding=(1, 2, 3, 4), value=0)", new ConstantPad2d(new Dims(1, 2, 3, 4), 0).ToString());
        Assert.Equal("ReflectionPad1d((2, 2))", new ReflectionPad1d(2).ToString());
        Assert.Equal("ReplicationPad3d((1, 2, 3, 4, 5, 6))", new ReplicationPad3d(new Dims(1, 2, 3, 4, 5, 6)).ToString());
        Assert.Equal("CircularPad2d((1, 1, 1, 1))", new CircularPad2d(1).ToString());
    }

    [Fact]
    public void Errors_name_the_layer_what_it_expected_and_what_it_got()
    {
        var e = Assert.Throws<ShapeException>(() => new Upsample(scaleFactor: 2, mode: UpsampleMode.Bilinear).Forward(Tensor.Zeros([1, 2, 5])));
        Assert.Contains("Upsample(scale_factor=2.0, mode=bilinear)", e.Message);
        Assert.Contains("[1, 2, 5]", e.Message);
        e = Assert.Throws<ShapeException>(() => new Upsample(scaleFactor: 0.2).Forward(Tensor.Zeros([1, 2, 4, 4])));
        Assert.Contains("greater than 0", e.Message);
        Assert.Throws<ShapeException>(() => new Upsample(scaleFactor: 2, alignCorners: true));
        Assert.Throws<ShapeException>(() => new Upsample());
        Assert.Throws<ShapeException>(() => new Upsample(size: 3, scaleFactor: 2));
        e = Assert.Throws<ShapeException>(() => new PixelShuffle(2).Forward(Tensor.Zeros([1, 6, 4, 4])));
        Assert.Contains("PixelShuffle(upscale_factor=2)", e.Message);
        Assert.Contains("[1, 6, 4, 4]", e.Message);
        e = Assert.Throws<ShapeException>(() => new PixelUnshuffle(2).Forward(Tensor.Zeros([1, 3, 5, 4])));
        Assert.Contains("PixelUnshuffle(downscale_factor=2)", e.Message);
        e = Assert.Throws<ShapeException>(() => new ReflectionPad2d(2).Forward(Tensor.Zeros([1, 1, 2, 5])));
        Assert.Contains("ReflectionPad2d((2, 2, 2, 2))", e.Message);
        Assert.Contains("less than", e.Message);
        e = Assert.Throws<ShapeException>(() => new ReplicationPad2d(1).Forward(Tensor.Zeros([3, 4])));
        Assert.Contains("ReplicationPad2d", e.Message);
        Assert.Contains("3D (unbatched) or 4D (batched)", e.Message);
        e = Assert.Throws<ShapeException>(() => new ZeroPad2d(new Dims(-3, -2, 0, 0)).Forward(Tensor.Zeros([1, 2, 3, 4])));
        Assert.Contains("ZeroPad2d((-3, -2, 0, 0))", e.Message);
        Assert.Throws<ShapeException>(() => new ZeroPad2d(new Dims(1, 2, 3)));
    }
}
