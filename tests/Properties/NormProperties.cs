using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace Functional.Properties;

/// <summary>Laws of the normalisation layers, each against a direct double-precision formula.</summary>
public class NormProperties
{
    /// <summary>Values in [-5, 5] (a row of them has variance far above eps).</summary>
    private static Gen<float> Moderate => Generators.Uniform(-5, 5);

    private static Weights Tensors(params (string Name, Tensor Value)[] items) =>
        Weights.FromTensors(items.ToDictionary(i => i.Name, i => i.Value));

    [Property]
    public Property LayerNorm_without_affine_gives_rows_of_mean_0_and_variance_1() =>
        Prop.ForAll((from rows in Gen.Choose(1, 4)
                     from cols in Gen.Choose(2, 40)
                     from x in Generators.TensorOf([rows, cols], Moderate)
                     select x).ToArbitrary(), x =>
        {
            int cols = x.Shape[1];
            var y = LayerNorm.Plain(cols).Forward(x);
            for (int r = 0; r < x.Shape[0]; r++)
            {
                var xr = x.Span.Slice(r * cols, cols).ToArray().Select(v => (double)v).ToArray();
                var yr = y.Span.Slice(r * cols, cols).ToArray().Select(v => (double)v).ToArray();
                double inVar = xr.Select(v => (v - xr.Average()) * (v - xr.Average())).Average();
                if (inVar < 1e-2) continue; // eps dominates a near-constant row
                double mean = yr.Average();
                double variance = yr.Select(v => (v - mean) * (v - mean)).Average();
                Assert.True(Math.Abs(mean) < 1e-5, $"row {r}: mean {mean}");
                Assert.True(Math.Abs(variance - inVar / (inVar + 1e-5)) < 1e-4, $"row {r}: variance {variance}");
            }
        });

    [Property]
    public Property BatchNorm_with_running_statistics_is_the_affine_formula() =>
        Prop.ForAll((from c in Gen.Choose(1, 4)
                     from n in Gen.Choose(1, 3)
                     from l in Gen.Choose(1, 5)
                     from x in Generators.TensorOf([n, c, l], Moderate)
                     from w in Generators.TensorOf([c], Generators.Uniform(0.5, 1.5))
                     from b in Generators.TensorOf([c], Generators.Uniform(-1, 1))
                     from m in Generators.TensorOf([c], Generators.Uniform(-1, 1))
                     from v in Generators.TensorOf([c], Generators.Uniform(0.1, 3))
                     from eps in Gen.Elements(1e-5, 1e-3, 0.1)
                     select (x, w, b, m, v, eps)).ToArbitrary(), t =>
        {
            var (x, w, b, m, v, eps) = t;
            int c = w.Count, l = x.Shape[2];
            var bn = BatchNorm1d.Load(Tensors(("weight", w), ("bias", b), ("running_mean", m), ("running_var", v)), c, eps);
            var y = bn.Forward(x);
            for (int i = 0; i < x.Count; i++)
            {
                int ch = i / l % c;
                double want = (x.Span[i] - m.Span[ch]) / Math.Sqrt(v.Span[ch] + eps) * w.Span[ch] + b.Span[ch];
                Assert.True(Math.Abs(y.Span[i] - want) <= 1e-5 + 1e-5 * Math.Abs(want), $"element {i}: {y.Span[i]} vs {want}");
            }
            Assert.Equal(["running_mean", "running_var"], bn.Buffers().Select(p => p.Name));
            Assert.Equal(["weight", "bias"], bn.Parameters().Select(p => p.Name));
        });

    [Property]
    public Property GroupNorm_with_one_group_per_channel_is_InstanceNorm() =>
        Prop.ForAll((from c in Gen.Choose(1, 4)
                     from n in Gen.Choose(1, 3)
                     from l in Gen.Choose(2, 9)
                     from x in Generators.TensorOf([n, c, l], Moderate)
                     select x).ToArbitrary(), x =>
        {
            int c = x.Shape[1];
            // A ramp along each row keeps its variance well away from 0, where both layers amplify rounding alike but not identically.
            x = TensorOps.Add(x, Tensor.Arange(x.Shape[2]));
            var group = GroupNorm.Plain(c, c).Forward(x);
            var instance = InstanceNorm1d.Load(Weights.Random(), c).Forward(x);
            // The two follow PyTorch's different statistics paths (GroupNorm in double, InstanceNorm via the
            // batch-norm kernel in float), so on unit-scale outputs they agree to float32 statistics, not bits.
            Assert.True(group.AllClose(instance, 1e-4f, 1e-4f), $"max diff {group.MaxAbsDiff(instance)}");
        });

    [Property]
    public Property InstanceNorm_unbatched_equals_batched_with_one_sample() =>
        Prop.ForAll((from c in Gen.Choose(1, 3)
                     from l in Gen.Choose(2, 9)
                     from x in Generators.TensorOf([c, l], Moderate)
                     select x).ToArbitrary(), x =>
        {
            var norm = InstanceNorm1d.Load(Weights.Random(3), x.Shape[0], affine: true);
            Assert.Equal(norm.Forward(x.Unsqueeze(0)).ToArray(), norm.Forward(x).ToArray());
        });

    /// <summary>Every norm layer with random flags, and an input it accepts.</summary>
    private static Gen<(Layer Layer, Tensor Input)> NormCases =>
        from kind in Gen.Choose(0, 3)
        from rank in Gen.Choose(1, 3)
        from c in Gen.Choose(1, 4)
        from flags in Gen.Choose(0, 3)
        from sizes in Gen.Choose(2, 4).ArrayOf(rank)
        let affine = (flags & 1) != 0
        let track = (flags & 2) != 0
        let w = Weights.Random(flags)
        let layer = kind switch
        {
            0 => (Layer)BatchNormNd.Load(rank, w, c, affine: affine, trackRunningStats: true),
            1 => InstanceNormNd.Load(rank, w, c, affine: affine, trackRunningStats: track),
            2 => LayerNorm.Load(w, sizes, elementwiseAffine: affine),
            _ => GroupNorm.Load(w, 1, c, affine: affine),
        }
        from x in Generators.TensorOf(new Shape(2, c).Concat(new Shape(sizes)), Moderate)
        select (layer, x);

    [Property]
    public Property OutputShape_equals_the_shape_Forward_gives() =>
        Prop.ForAll(NormCases.ToArbitrary(), t =>
        {
            var (layer, x) = t;
            Assert.Equal(layer.OutputShape(x.Shape), layer.Forward(x).Shape);
        });

    [Fact]
    public void Printouts_match_PyTorch()
    {
        Assert.Equal("BatchNorm2d(3, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)", BatchNorm2d.Load(Weights.Random(), 3).ToString());
        Assert.Equal("BatchNorm1d(4, eps=0.001, momentum=None, affine=False, track_running_stats=False)",
            BatchNorm1d.Load(Weights.Random(), 4, 1e-3, affine: false, trackRunningStats: false, momentumIsNone: true).ToString());
        Assert.Equal("InstanceNorm3d(2, eps=1e-05, momentum=0.1, affine=False, track_running_stats=False)", InstanceNorm3d.Load(Weights.Random(), 2).ToString());
        Assert.Equal("LayerNorm((4, 5), eps=1e-05, elementwise_affine=True)", LayerNorm.Load(Weights.Random(), (4, 5)).ToString());
        Assert.Equal("LayerNorm((8,), eps=1e-06, elementwise_affine=False)", LayerNorm.Plain(8, 1e-6).ToString());
        Assert.Equal("GroupNorm(2, 4, eps=1e-05, affine=True)", GroupNorm.Load(Weights.Random(), 2, 4).ToString());
    }

    [Fact]
    public void Errors_name_the_layer_what_it_expected_and_what_it_got()
    {
        var bn = BatchNorm2d.Load(Weights.Random(), 3);
        var e = Assert.Throws<ShapeException>(() => bn.Forward(Tensor.Zeros([3, 4, 4])));
        Assert.Contains("BatchNorm2d(3,", e.Message);
        Assert.Contains("4D", e.Message);
        Assert.Contains("[3, 4, 4]", e.Message);
        e = Assert.Throws<ShapeException>(() => bn.Forward(Tensor.Zeros([1, 2, 4, 4])));
        Assert.Contains("expected 3 channels", e.Message);
        e = Assert.Throws<ShapeException>(() => LayerNorm.Plain((4, 5)).Forward(Tensor.Zeros([2, 4, 6])));
        Assert.Contains("LayerNorm((4, 5)", e.Message);
        Assert.Contains("[2, 4, 6]", e.Message);
        e = Assert.Throws<ShapeException>(() => GroupNorm.Plain(2, 4).Forward(Tensor.Zeros([2, 5, 3])));
        Assert.Contains("GroupNorm(2, 4", e.Message);
        Assert.Contains("divisible by num_groups", e.Message);
        Assert.Throws<ShapeException>(() => GroupNorm.Plain(3, 4));
        e = Assert.Throws<ShapeException>(() => InstanceNorm1d.Load(Weights.Random(), 3).Forward(Tensor.Zeros([2, 3, 1])));
        Assert.Contains("InstanceNorm1d(3", e.Message);
        Assert.Contains("more than 1 value", e.Message);
    }
}
