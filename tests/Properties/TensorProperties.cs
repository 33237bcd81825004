using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace Functional.Properties;

/// <summary>Tensor views, element access, arithmetic, comparison, printing and factories.</summary>
public class TensorProperties
{
    private static Arbitrary<Tensor> TensorsArb => Generators.Tensors().ToArbitrary();

    /// <summary>The row-major flat index of <paramref name="index"/> in <paramref name="shape"/>.</summary>
    private static int Flat(Shape shape, int[] index)
    {
        int flat = 0;
        for (int i = 0; i < shape.Rank; i++) flat = flat * shape.Dims[i] + index[i];
        return flat;
    }

    /// <summary>Every full index of <paramref name="shape"/> in row-major order.</summary>
    private static IEnumerable<int[]> Indices(Shape shape)
    {
        if (shape.ElementCount == 0) yield break;
        var index = new int[shape.Rank];
        while (true)
        {
            yield return (int[])index.Clone();
            int d = shape.Rank - 1;
            while (d >= 0 && ++index[d] == shape.Dims[d]) index[d--] = 0;
            if (d < 0) yield break;
        }
    }

    [Property]
    public Property Element_access_is_the_row_major_flat_element() => Prop.ForAll(TensorsArb, x =>
    {
        var flat = x.ToArray();
        int count = 0;
        foreach (var index in Indices(x.Shape))
        {
            Assert.Equal(flat[Flat(x.Shape, index)], x[index]);
            // Negative indices count from the end, per dimension.
            var negative = index.Select((k, d) => k - x.Shape.Dims[d]).ToArray();
            Assert.Equal(x[index], x[negative]);
            count++;
        }
        Assert.Equal(x.Count, count);
    });

    [Property]
    public Property Out_of_range_and_wrong_length_indices_throw() =>
        Prop.ForAll(Generators.Tensors(Generators.NonEmptyShapes(1, 4, 3)).ToArbitrary(), x =>
        {
            var shape = x.Shape;
            for (int d = 0; d < shape.Rank; d++)
            {
                var index = new int[shape.Rank];
                index[d] = shape.Dims[d];
                Assert.Throws<IndexOutOfRangeException>(() => x[index]);
                index[d] = -shape.Dims[d] - 1;
                Assert.Throws<IndexOutOfRangeException>(() => x[index]);
            }
            Assert.Throws<ShapeException>(() => x[new int[shape.Rank + 1]]);
        });

    [Property]
    public Property Reshape_with_minus_one_infers_the_missing_extent() =>
        Prop.ForAll(Generators.Tensors().SelectMany(t => Gen.Choose(0, t.Rank).Select(k => (t, k))).ToArbitrary(), p =>
        {
            var (x, k) = p;
            // Keep the first k extents, let -1 stand for the product of the rest.
            var head = x.Shape.Take(k);
            if (head.ElementCount == 0)
            {
                // PyTorch: a -1 next to a zero extent is ambiguous.
                Assert.Throws<ShapeException>(() => x.Reshape((int[])[.. head, -1]));
                return;
            }
            var y = x.Reshape((int[])[.. head, -1]);
            Assert.Equal(head.Concat(new Shape((int)(x.Count / head.ElementCount))), y.Shape);
            Assert.Equal(x.ToArray(), y.ToArray());
            Assert.Equal(new Shape(x.Count), x.Reshape(-1).Shape);
            Assert.Equal(x.ToArray(), y.Reshape(x.Shape).ToArray());
        });

    [Property]
    public Property Invalid_reshapes_throw_ShapeException() => Prop.ForAll(TensorsArb, x =>
    {
        Assert.Throws<ShapeException>(() => x.Reshape(x.Count + 1));
        Assert.Throws<ShapeException>(() => x.Reshape(-1, -1));
        Assert.Throws<ShapeException>(() => x.Reshape(-2, x.Count));
        if (x.Count > 1) Assert.Throws<ShapeException>(() => x.Reshape(x.Count + 1, -1));
    });

    [Property]
    public Property Unsqueeze_inserts_a_one_where_PyTorch_does() =>
        Prop.ForAll(Generators.Tensors().SelectMany(t => Gen.Choose(-t.Rank - 1, t.Rank).Select(d => (t, d))).ToArbitrary(), p =>
        {
            var (x, dim) = p;
            int axis = dim < 0 ? dim + x.Rank + 1 : dim;
            var y = x.Unsqueeze(dim);
            var expected = x.Shape.ToArray().ToList();
            expected.Insert(axis, 1);
            Assert.Equal(new Shape(expected.ToArray()), y.Shape);
            Assert.Equal(x.ToArray(), y.ToArray());
            Assert.Equal(x.Shape, y.Squeeze(dim < 0 ? dim : axis).Shape);
            Assert.Throws<ShapeException>(() => x.Unsqueeze(x.Rank + 1));
            Assert.Throws<ShapeException>(() => x.Unsqueeze(-x.Rank - 2));
        });

    [Property]
    public Property Squeeze_removes_ones() => Prop.ForAll(Generators.Tensors(Generators.Shapes(0, 5, 2)).ToArbitrary(), x =>
    {
        Assert.Equal(new Shape(x.Shape.Where(d => d != 1).ToArray()), x.Squeeze().Shape);
        Assert.Equal(x.ToArray(), x.Squeeze().ToArray());
        for (int d = -x.Rank; d < x.Rank; d++)
        {
            int axis = d < 0 ? d + x.Rank : d;
            var expected = x.Shape.Dims[axis] == 1 ? x.Shape.RemoveAt(axis) : x.Shape;
            Assert.Equal(expected, x.Squeeze(d).Shape);
        }
    });

    [Property]
    public Property Flatten_merges_the_range_of_dimensions() =>
        Prop.ForAll(Generators.Tensors(Generators.Shapes(1, 5, 4))
            .SelectMany(t => Gen.Zip(Gen.Choose(0, t.Rank - 1), Gen.Choose(0, t.Rank - 1)).Select(se => (t, se.Item1, se.Item2))).ToArbitrary(), p =>
        {
            var (x, a, b) = p;
            int s = Math.Min(a, b), e = Math.Max(a, b);
            var dims = x.Shape.ToArray();
            int merged = 1;
            for (int i = s; i <= e; i++) merged *= dims[i];
            var expected = new Shape([.. dims[..s], merged, .. dims[(e + 1)..]]);
            Assert.Equal(expected, x.Flatten(s, e).Shape);
            Assert.Equal(expected, x.Flatten(s - x.Rank, e - x.Rank).Shape);
            Assert.Equal(x.ToArray(), x.Flatten(s, e).ToArray());
            Assert.Equal(new Shape(x.Count), x.Flatten().Shape);
            if (s < e) Assert.Throws<ShapeException>(() => x.Flatten(e, s));
        });

    [Fact]
    public void Views_follow_PyTorch_examples()
    {
        var x = Tensor.Arange(24).Reshape(2, 3, 4);
        Assert.Equal(new Shape(2, 12), x.Flatten(1).Shape);
        Assert.Equal(new Shape(6, 4), x.Flatten(0, 1).Shape);
        Assert.Equal(new Shape(24), x.Flatten().Shape);
        Assert.Equal(new Shape(1), Tensor.Scalar(3f).Flatten().Shape);
        Assert.Equal(new Shape(1), Tensor.Scalar(3f).Unsqueeze(0).Shape);
        Assert.Equal(new Shape(1), Tensor.Scalar(3f).Unsqueeze(-1).Shape);
        Assert.Equal(new Shape(2, 1, 3, 4), x.Unsqueeze(1).Shape);
        Assert.Equal(new Shape(2, 3, 4, 1), x.Unsqueeze(-1).Shape);
        Assert.Equal(new Shape(4, 6), x.Reshape(4, -1).Shape);
        Assert.Equal(new Shape(3, 4), Tensor.Zeros([1, 3, 1, 4, 1]).Squeeze().Shape);
        Assert.Equal(new Shape(3, 1, 4, 1), Tensor.Zeros([1, 3, 1, 4, 1]).Squeeze(0).Shape);
        Assert.Equal(new Shape(1, 3, 1, 4, 1), Tensor.Zeros([1, 3, 1, 4, 1]).Squeeze(1).Shape);
        Assert.Equal(13f, x[1, 0, 1]);
        Assert.Equal(23f, x[-1, -1, -1]);
    }

    [Property]
    public Property Arithmetic_is_elementwise_float_arithmetic() =>
        Prop.ForAll(Generators.Shapes().SelectMany(s => Gen.Zip(Generators.TensorOf(s), Gen.Zip(Generators.TensorOf(s), Generators.Values))).ToArbitrary(), t =>
        {
            var (a, (b, c)) = t;
            var x = a.ToArray();
            var y = b.ToArray();
            Assert.Equal(x.Zip(y, (p, q) => p + q), (a + b).ToArray());
            Assert.Equal(x.Zip(y, (p, q) => p - q), (a - b).ToArray());
            Assert.Equal(x.Zip(y, (p, q) => p * q), (a * b).ToArray());
            Assert.Equal(x.Select(p => p * c), (a * c).ToArray());
            Assert.Equal(x.Select(p => c * p), (c * a).ToArray());
            Assert.Equal(x.Select(p => p + c), a.Add(c).ToArray());
            Assert.Equal(a.Shape, (a + b).Shape);
            Assert.Equal(x, a.ToArray()); // the operands are untouched
        });

    [Fact]
    public void Arithmetic_on_different_shapes_throws_ShapeException()
    {
        var a = Tensor.Zeros([2, 3]);
        var b = Tensor.Zeros([3, 2]);
        var e = Assert.Throws<ShapeException>(() => a + b);
        Assert.Contains("[2, 3]", e.Message);
        Assert.Contains("[3, 2]", e.Message);
        Assert.Throws<ShapeException>(() => a - b);
        Assert.Throws<ShapeException>(() => a * b);
        Assert.Throws<ShapeException>(() => a.MaxAbsDiff(b));
        Assert.False(a.AllClose(b));
    }

    [Property]
    public Property Sum_Dot_Max_Min_match_loops() =>
        Prop.ForAll(Generators.Shapes().SelectMany(s => Gen.Zip(Generators.TensorOf(s), Generators.TensorOf(s))).ToArbitrary(), t =>
        {
            var (a, b) = t;
            double sum = 0, abs = 0, dot = 0, absDot = 0;
            for (int i = 0; i < a.Count; i++)
            {
                sum += a.Span[i];
                abs += Math.Abs(a.Span[i]);
                dot += (double)a.Span[i] * b.Span[i];
                absDot += Math.Abs((double)a.Span[i] * b.Span[i]);
            }
            // Float accumulation inside a block: the classic bound n·eps·Σ|x|.
            double eps = Math.Pow(2, -24) * (a.Count + 1);
            Assert.True(Math.Abs(a.Sum() - sum) <= eps * abs, $"sum {a.Sum()} vs {sum}");
            Assert.True(Math.Abs(a.Dot(b) - dot) <= eps * absDot * 2, $"dot {a.Dot(b)} vs {dot}");
            if (a.Count > 0)
            {
                Assert.Equal(a.ToArray().Max(), a.Max());
                Assert.Equal(a.ToArray().Min(), a.Min());
            }
            else
            {
                Assert.Equal(0, a.Sum());
                Assert.Throws<InvalidOperationException>(() => a.Max());
            }
        });

    [Fact]
    public void Sum_of_a_large_tensor_is_accurate()
    {
        // 100 000 copies of 0.1f: a plain float running sum drifts by ~1e-3 relative; require
        // float-level accuracy (summing within blocks in float, as now, gives ~2e-6).
        var x = Tensor.Full([100_000], 0.1f);
        Assert.Equal(100_000 * (double)0.1f, x.Sum(), 0.1);
    }

    [Property]
    public Property MaxAbsDiff_and_AllClose_follow_torch_semantics() =>
        Prop.ForAll(Generators.Shapes().SelectMany(s => Gen.Zip(Generators.TensorOf(s), Generators.TensorOf(s))).ToArbitrary(), t =>
        {
            var (a, b) = t;
            float expected = 0;
            for (int i = 0; i < a.Count; i++) expected = Math.Max(expected, Math.Abs(a.Span[i] - b.Span[i]));
            Assert.Equal(expected, a.MaxAbsDiff(b));
            Assert.Equal(expected, b.MaxAbsDiff(a));
            Assert.Equal(0f, a.MaxAbsDiff(a));
            Assert.True(a.AllClose(a, 0, 0));
            // With rtol = 0, allclose is exactly max |a − b| ≤ atol.
            Assert.True(a.AllClose(b, expected, 0));
            if (expected > 0) Assert.False(a.AllClose(b, expected * 0.99f, 0));
            // allclose's tolerance is relative to the second argument, element by element.
            bool manual = Enumerable.Range(0, a.Count).All(i => Math.Abs(a.Span[i] - b.Span[i]) <= 1e-3f + 0.1f * Math.Abs(b.Span[i]));
            Assert.Equal(manual, a.AllClose(b, 1e-3f, 0.1f));
        });

    [Fact]
    public void NaN_and_infinity_in_comparisons()
    {
        var nan = Tensor.FromArray(1f, float.NaN, 3f);
        var num = Tensor.FromArray(1f, 2f, 3f);
        Assert.Equal(float.PositiveInfinity, nan.MaxAbsDiff(num));
        Assert.Equal(float.PositiveInfinity, num.MaxAbsDiff(nan));
        Assert.Equal(0f, nan.MaxAbsDiff(nan));
        Assert.False(nan.AllClose(nan));
        Assert.True(nan.AllClose(nan, equalNaN: true));
        Assert.False(nan.AllClose(num, atol: 100, equalNaN: true));
        var inf = Tensor.FromArray(float.PositiveInfinity, float.NegativeInfinity);
        Assert.Equal(0f, inf.MaxAbsDiff(inf));
        Assert.True(inf.AllClose(inf));
        Assert.False(inf.AllClose(Tensor.FromArray(float.NegativeInfinity, float.PositiveInfinity), atol: 1e30f));
        // torch.allclose(0, inf) is False: an infinite reference must not make the tolerance infinite.
        Assert.False(Tensor.FromArray(0f).AllClose(Tensor.FromArray(float.PositiveInfinity)));
        Assert.False(Tensor.FromArray(float.PositiveInfinity).AllClose(Tensor.FromArray(1e38f), rtol: 1f));
        Assert.Equal(1, Tensor.FromArray(0f, 1f).FirstMismatch(Tensor.FromArray(0f, 2f), 0.5f, 0));
        Assert.Equal(-1, Tensor.FromArray(0f, 1f).FirstMismatch(Tensor.FromArray(0f, 1.2f), 0.5f, 0));
    }

    [Property]
    public Property ToString_shows_shape_and_dtype_and_clips_long_tensors() =>
        Prop.ForAll(Generators.Tensors(Generators.Shapes(0, 4, 4)).ToArbitrary(), x =>
        {
            string s = x.ToString();
            Assert.StartsWith("tensor(", s);
            Assert.EndsWith($", shape={x.Shape}, dtype=float32)", s);
            Assert.DoesNotContain("...", s);
            // Every element is printed, with 4 decimals.
            Assert.Equal(x.Count, System.Text.RegularExpressions.Regex.Matches(s[..s.LastIndexOf(", shape=")], @"-?\d+\.\d{4}").Count);
        });

    [Theory]
    [InlineData(new[] { 2000 })]
    [InlineData(new[] { 40, 40 })]
    [InlineData(new[] { 3, 20, 20 })]
    public void ToString_clips_tensors_over_a_thousand_elements(int[] dims)
    {
        var x = Tensor.Arange((int)new Shape(dims).ElementCount).Reshape(dims);
        string s = x.ToString();
        Assert.Contains("...", s);
        Assert.Contains($"shape={x.Shape}", s);
        Assert.Contains("float32", s);
        Assert.True(s.Length < 2000, $"{s.Length} characters");
        Assert.Contains("0.0000", s);
        Assert.Contains($"{x.Count - 1}.0000", s); // the last element is shown
    }

    [Fact]
    public void ToString_of_small_tensors()
    {
        Assert.Equal("tensor(1.5000, shape=[], dtype=float32)", Tensor.Scalar(1.5f).ToString());
        Assert.Equal("tensor([1.0000, -2.0000], shape=[2], dtype=float32)", Tensor.FromArray(1f, -2f).ToString());
        Assert.Contains("shape=[0, 3]", Tensor.Zeros([0, 3]).ToString());
    }

    [Property]
    public Property Factories_fill_as_named() =>
        Prop.ForAll(Gen.Zip(Generators.Shapes(), Generators.Values).ToArbitrary(), t =>
        {
            var (shape, v) = t;
            Assert.All(Tensor.Zeros(shape).ToArray(), e => Assert.Equal(0f, e));
            Assert.All(Tensor.Ones(shape).ToArray(), e => Assert.Equal(1f, e));
            Assert.All(Tensor.Full(shape, v).ToArray(), e => Assert.Equal(v, e));
            foreach (var f in new[] { Tensor.Zeros(shape), Tensor.Ones(shape), Tensor.Full(shape, v) })
            {
                Assert.Equal(shape, f.Shape);
                Assert.Equal(shape.ElementCount, f.Count);
                Assert.Equal(shape.Rank, f.Rank);
            }
            Assert.Equal(v, Tensor.Scalar(v).ToScalar());
            Assert.Equal(Shape.Scalar, Tensor.Scalar(v).Shape);
            var data = Enumerable.Range(0, (int)shape.ElementCount).Select(i => (float)i).ToArray();
            Assert.Equal(data, Tensor.FromArray(data, shape).ToArray());
            Assert.Throws<ShapeException>(() => Tensor.FromArray([.. data, 1f], shape));
        });

    [Property]
    public Property Arange_has_torch_arange_length_and_spacing() =>
        Prop.ForAll(Gen.Zip(Gen.Zip(Gen.Choose(-200, 200), Gen.Choose(-200, 200)), Gen.Elements(1, 2, 3, 4, 5, 7, 10, 25, 50, 100, -1, -3, -10, -25)).ToArbitrary(), t =>
        {
            float start = t.Item1.Item1 / 8f, end = t.Item1.Item2 / 8f, step = t.Item2 / 40f;
            var a = Tensor.Arange(start, end, step);
            // torch.arange: ceil((end − start) / step) elements (none if that is ≤ 0), start + i·step.
            int n = Math.Max(0, (int)Math.Ceiling((end - (double)start) / step));
            Assert.Equal(new Shape(n), a.Shape);
            for (int i = 0; i < n; i++)
            {
                double expected = start + (double)i * step;
                Assert.True(Math.Abs(a.Span[i] - expected) <= 4e-7 * Math.Max(Math.Abs(start), Math.Abs(end)) + 1e-7,
                    $"arange({start}, {end}, {step})[{i}] = {a.Span[i]:R}, expected {expected:R}");
                Assert.True(step > 0 ? a.Span[i] <= end : a.Span[i] >= end, $"arange({start}, {end}, {step})[{i}] = {a.Span[i]:R} is past the end");
            }
        });

    [Fact]
    public void Arange_matches_PyTorch_examples()
    {
        Assert.Equal([0f, 1f, 2f, 3f, 4f], Tensor.Arange(5).ToArray());
        Assert.Equal([1f, 1.5f, 2f], Tensor.Arange(1f, 2.5f, 0.5f).ToArray());
        Assert.Equal([0f, -0.25f, -0.5f, -0.75f], Tensor.Arange(0f, -1f, -0.25f).ToArray());
        Assert.Equal(10, Tensor.Arange(0f, 1f, 0.1f).Count);
        Assert.Equal(0, Tensor.Arange(5f, 1f, 1f).Count);
        Assert.Throws<ArgumentException>(() => Tensor.Arange(0f, 1f, 0f));
    }

    [Property(MaxTest = 20)]
    public Property RandomNormal_is_seeded_and_roughly_standard() =>
        Prop.ForAll(Gen.Zip(Gen.Choose(int.MinValue, int.MaxValue), Gen.Zip(Gen.Choose(-5, 5), Gen.Choose(1, 4))).ToArbitrary(), t =>
        {
            var (seed, (mean, std)) = t;
            var a = Tensor.RandomNormal([10_001], seed, mean, std);
            Assert.Equal(a.ToArray(), Tensor.RandomNormal([10_001], seed, mean, std).ToArray());
            Assert.NotEqual(a.ToArray(), Tensor.RandomNormal([10_001], seed ^ 1, mean, std).ToArray());
            double m = a.Sum() / a.Count;
            double s = Math.Sqrt(a.ToArray().Sum(v => (v - m) * (v - m)) / (a.Count - 1));
            // Standard errors: std/√n ≈ 0.01·std for the mean, ≈ 0.007·std for the std; allow 5σ.
            Assert.InRange(m, mean - 0.05 * std, mean + 0.05 * std);
            Assert.InRange(s, std * 0.965, std * 1.035);
            Assert.All(a.ToArray(), v => Assert.True(float.IsFinite(v)));
        });

    [Fact]
    public void RandomUniform_stays_in_its_range()
    {
        var u = Tensor.RandomUniform([10_000], 7, -0.5f, 0.25f).ToArray();
        Assert.All(u, v => Assert.InRange(v, -0.5f, 0.25f));
        Assert.InRange(u.Average(), -0.125 - 0.01, -0.125 + 0.01);
    }

    [Property]
    public Property Tensors_cannot_be_changed_through_the_API() => Prop.ForAll(Generators.Tensors(Generators.NonEmptyShapes()).ToArbitrary(), x =>
    {
        var before = x.ToArray();
        var copy = x.ToArray();
        for (int i = 0; i < copy.Length; i++) copy[i] = float.NaN;
        Assert.Equal(before, x.ToArray());

        var source = (float[])before.Clone();
        var y = Tensor.FromArray(source, x.Shape);
        source[0] = 12345f;
        Assert.Equal(before, y.ToArray());

        // Operations return new tensors; views read the same values without touching them.
        _ = x + x;
        _ = x * 2f;
        _ = x.Relu();
        var view = x.Reshape(-1);
        Assert.Equal(before, view.ToArray());
        Assert.Equal(before, x.ToArray());
    });
}

/// <summary>Shape: value equality, printing, axis normalisation and validation.</summary>
public class ShapeProperties
{
    [Property]
    public Property Equality_and_hash_follow_the_extents() =>
        Prop.ForAll(Gen.Zip(Generators.Shapes(), Generators.Shapes()).ToArbitrary(), t =>
        {
            var (a, b) = t;
            bool same = a.ToArray().SequenceEqual(b.ToArray());
            Assert.Equal(same, a == b);
            Assert.Equal(!same, a != b);
            Assert.Equal(same, a.Equals((object)b));
            if (same) Assert.Equal(a.GetHashCode(), b.GetHashCode());
            var copy = new Shape(a.ToArray());
            Assert.Equal(a, copy);
            Assert.Equal(a.GetHashCode(), copy.GetHashCode());
        });

    [Property]
    public Property Printing_indexing_and_counting() => Prop.ForAll(Generators.Shapes().ToArbitrary(), s =>
    {
        Assert.Equal("[" + string.Join(", ", s.ToArray()) + "]", s.ToString());
        Assert.Equal(s.ToArray().Aggregate(1L, (p, d) => p * d), s.ElementCount);
        Assert.Equal(s.Rank, s.Count);
        Assert.Equal(s.ToArray(), s.AsEnumerable().ToArray());
        for (int i = 0; i < s.Rank; i++)
        {
            Assert.Equal(s.Dims[i], s[i]);
            Assert.Equal(s.Dims[i], s[i - s.Rank]);
            Assert.Equal(i, s.NormalizeAxis(i - s.Rank));
        }
        Assert.Throws<ShapeException>(() => s.NormalizeAxis(Math.Max(s.Rank, 1)));
        Assert.Throws<ShapeException>(() => s.NormalizeAxis(-Math.Max(s.Rank, 1) - 1));
    });

    [Fact]
    public void Known_shapes()
    {
        Shape s = [1, 16, 111];
        Assert.Equal("[1, 16, 111]", s.ToString());
        Assert.Equal(new Shape(1, 16, 111), s);
        Assert.Equal(1776, s.ElementCount);
        Assert.Equal(111, s[-1]);
        Assert.Equal(2, s.NormalizeAxis(-1));
        Assert.Equal("[]", Shape.Scalar.ToString());
        Assert.Equal(1, Shape.Scalar.ElementCount);
        Assert.Equal(Shape.Scalar, default);
        Assert.Equal(Shape.Scalar, new Shape());
        Assert.Equal(new Shape(1, 2, 111), s.With(1, 2));
        Assert.Equal(new Shape(1, 16, 111, 1, 16, 111), s.Concat(s));
        Assert.Equal(new Shape(16, 111), s.Skip(1));
        Assert.Equal(new Shape(1, 16), s.Take(2));
        Assert.Equal(new Shape(1, 5, 16, 111), s.Insert(1, 5));
        Assert.Equal(new Shape(1, 111), s.RemoveAt(1));
    }

    [Fact]
    public void Negative_extents_are_refused()
    {
        var e = Assert.Throws<ShapeException>(() => new Shape(2, -1, 3));
        Assert.Contains("[2, -1, 3]", e.Message);
        Assert.Throws<ShapeException>(() => { Shape s = [4, -4]; });
        Assert.Throws<ShapeException>(() => new Shape(2, 3).With(0, -1));
        Assert.IsAssignableFrom<ArgumentException>(e);
    }

    [Fact]
    public void Shapes_cannot_be_changed_through_ToArray()
    {
        var s = new Shape(2, 3);
        var dims = s.ToArray();
        dims[0] = 99;
        Assert.Equal(new Shape(2, 3), s);
        var source = new[] { 4, 5 };
        var t = new Shape(source);
        source[0] = 0;
        Assert.Equal(new Shape(4, 5), t);
    }
}
