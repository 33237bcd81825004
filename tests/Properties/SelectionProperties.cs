using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace Functional.Properties;

/// <summary>ArgMax and TopK along a dimension, against their definitions read element by element.</summary>
public class SelectionProperties
{
    /// <summary>Tensors of rank 1-4 with values on a coarse grid, so ties happen.</summary>
    private static Arbitrary<(Tensor X, int Dim)> WithDim =>
        Generators.Tensors(Generators.Shapes(minRank: 1, maxRank: 4, maxExtent: 5), Gen.Choose(-3, 3).Select(i => (float)i))
            .SelectMany(x => Gen.Choose(-x.Rank, x.Rank - 1).Select(d => (x, d)))
            .ToArbitrary();

    /// <summary>The elements along <paramref name="axis"/> through the position of flat output index <paramref name="o"/>/<paramref name="i"/>.</summary>
    private static float[] Line(Tensor x, int axis, int o, int i)
    {
        int n = x.Shape[axis], inner = (int)x.Shape.Skip(axis + 1).ElementCount;
        return Enumerable.Range(0, n).Select(j => x.Span[o * n * inner + j * inner + i]).ToArray();
    }

    [Property]
    public Property TopK_takes_the_k_largest_in_order_ties_by_index() => Prop.ForAll(WithDim, Gen.Choose(0, 5).ToArbitrary(), (c, kk) =>
    {
        var (x, dim) = c;
        int axis = dim < 0 ? dim + x.Rank : dim, n = x.Shape[axis], k = Math.Min(kk, n);
        var (values, indices) = x.TopK(k, dim);
        Assert.Equal(x.Shape.With(axis, k), values.Shape);
        int inner = (int)x.Shape.Skip(axis + 1).ElementCount, outer = n * inner == 0 ? 0 : x.Count / (n * inner);
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                var line = Line(x, axis, o, i);
                var expected = Enumerable.Range(0, n).OrderByDescending(j => line[j]).ThenBy(j => j).Take(k).ToArray();
                for (int j = 0; j < k; j++)
                {
                    Assert.Equal(expected[j], indices.Span[(o * k + j) * inner + i]);
                    Assert.Equal(line[expected[j]], values.Span[(o * k + j) * inner + i]);
                }
            }
    });

    [Property]
    public Property Smallest_TopK_is_TopK_of_the_negation() => Prop.ForAll(WithDim, c =>
    {
        var (x, dim) = c;
        int k = Math.Min(2, x.Shape[dim]);
        var (small, si) = x.TopK(k, dim, largest: false);
        var (neg, ni) = (x * -1f).TopK(k, dim);
        Assert.True(si.SameAs(ni));
        Assert.Equal(small.ToArray(), (neg * -1f).ToArray());
    });

    [Property]
    public Property ArgMax_is_the_first_index_of_the_maximum() => Prop.ForAll(WithDim, c =>
    {
        var (x, dim) = c;
        if (x.Count == 0) return;
        int axis = dim < 0 ? dim + x.Rank : dim;
        var a = x.ArgMax(dim);
        var kept = x.ArgMax(dim, keepDim: true);
        Assert.Equal(x.Shape.RemoveAt(axis), a.Shape);
        Assert.Equal(x.Shape.With(axis, 1), kept.Shape);
        int n = x.Shape[axis], inner = (int)x.Shape.Skip(axis + 1).ElementCount;
        for (int o = 0; o < x.Count / (n * inner); o++)
            for (int i = 0; i < inner; i++)
            {
                var line = Line(x, axis, o, i);
                Assert.Equal(Array.IndexOf(line, line.Max()), a.Span[o * inner + i]);
            }
        Assert.Equal(Array.IndexOf(x.ToArray(), x.Max()), x.ArgMax());
    });

    [Fact]
    public void NaN_counts_as_the_largest_and_k_is_checked()
    {
        using var x = Tensor.FromArray(1f, float.NaN, 3f);
        Assert.Equal(1L, x.ArgMax());
        var (v, i) = x.TopK(2);
        Assert.True(float.IsNaN(v.Span[0]));
        Assert.Equal([1L, 2L], i.ToArray());
        var e = Assert.Throws<ShapeException>(() => x.TopK(4));
        Assert.Contains("k (4) must be in [0, 3]", e.Message);
    }

    [Fact]
    public void Softmax_then_TopK_gives_a_classifiers_top_classes()
    {
        using var logits = Tensor.RandomNormal([2, 10], seed: 5);
        using var p = logits.Softmax(1);
        var (top, classes) = p.TopK(3, 1);
        Assert.True(classes.SameAs(logits.TopK(3, 1).Indices));
        Assert.True(top.Span[0] >= top.Span[1] && top.Span[1] >= top.Span[2]);
    }
}
