using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace Functional.Properties;

/// <summary>
/// Laws of Linear, the reshaping layers, the dropouts, the softmax family, the remaining
/// activations and Embedding: each against its definition (a double-precision reference or an
/// algebraic identity), shapes without running, and errors that name the layer.
/// </summary>
public class BasicLayerProperties
{
    private const double Eps = 1.0 / (1 << 23);

    /// <summary>A shape of rank 1..4 with extents 1..5 and a dim valid for it (negative half the time).</summary>
    private static Gen<(Shape Shape, int Dim)> ShapeAndDim(int minRank = 1, int maxRank = 4, int maxExtent = 5) =>
        from shape in Generators.NonEmptyShapes(minRank, maxRank, maxExtent)
        from axis in Gen.Choose(0, Math.Max(shape.Rank - 1, 0))
        from negative in Gen.Elements(false, true)
        select (shape, negative ? axis - Math.Max(shape.Rank, 1) : axis);

    private static Gen<(Tensor X, int Dim)> TensorAndDim(Gen<float>? values = null) =>
        from sd in ShapeAndDim()
        from x in Generators.TensorOf(sd.Shape, values)
        select (x, sd.Dim);

    /// <summary>Sums of <paramref name="t"/> along <paramref name="axis"/>, in double.</summary>
    private static double[] SumsAlong(Tensor t, int axis)
    {
        int n = t.Shape[axis];
        int inner = (int)t.Shape.Skip(axis + 1).ElementCount;
        int outer = t.Count / Math.Max(n * inner, 1);
        var sums = new double[outer * inner];
        var s = t.Span;
        for (int o = 0; o < outer; o++)
            for (int j = 0; j < n; j++)
                for (int i = 0; i < inner; i++)
                    sums[o * inner + i] += s[(o * n + j) * inner + i];
        return sums;
    }

    private static void AssertClose(ReadOnlySpan<float> actual, Func<int, double> expected, double abs, double rel, string what)
    {
        for (int i = 0; i < actual.Length; i++)
        {
            double e = expected(i), tol = abs + rel * Math.Abs(e);
            Assert.True(Math.Abs(actual[i] - e) <= tol, $"{what}: element {i} is {actual[i]:R}, expected {e:R} (tolerance {tol:E2})");
        }
    }

    // ---- softmax family ----

    [Property]
    public Property Softmax_sums_to_1_along_dim_and_equals_exp_of_log_softmax() =>
        Prop.ForAll(TensorAndDim().ToArbitrary(), t =>
        {
            var (x, dim) = t;
            var p = new Softmax(dim).Forward(x);
            var logp = new LogSoftmax(dim).Forward(x);
            int axis = dim < 0 ? dim + x.Rank : dim;
            foreach (double s in SumsAlong(p, axis)) Assert.InRange(s, 1 - 1e-5, 1 + 1e-5);
            Assert.All(p.ToArray(), v => Assert.InRange(v, 0f, 1f));
            Assert.All(logp.ToArray(), v => Assert.True(v <= 0 && float.IsFinite(v), $"log_softmax gave {v}"));
            var lp = logp.ToArray();
            AssertClose(p.Span, i => Math.Exp(lp[i]), 1e-7, 1e-5, "softmax vs exp(log_softmax)");
        });

    [Property]
    public Property Softmax_matches_a_double_reference_at_plus_minus_100() =>
        Prop.ForAll(TensorAndDim().ToArbitrary(), t =>
        {
            var (x, dim) = t;
            int axis = dim < 0 ? dim + x.Rank : dim;
            int n = x.Shape[axis], inner = (int)x.Shape.Skip(axis + 1).ElementCount;
            var xs = x.ToArray();
            var expected = new double[xs.Length];
            var logExpected = new double[xs.Length];
            for (int o = 0; o < xs.Length / (n * inner); o++)
                for (int i = 0; i < inner; i++)
                {
                    int Index(int j) => (o * n + j) * inner + i;
                    double max = Enumerable.Range(0, n).Max(j => (double)xs[Index(j)]);
                    double sum = Enumerable.Range(0, n).Sum(j => Math.Exp(xs[Index(j)] - max));
                    for (int j = 0; j < n; j++)
                    {
                        expected[Index(j)] = Math.Exp(xs[Index(j)] - max) / sum;
                        logExpected[Index(j)] = xs[Index(j)] - max - Math.Log(sum);
                    }
                }
            AssertClose(x.Softmax(dim).Span, i => expected[i], 1e-7, 1e-5, "softmax");
            AssertClose(x.LogSoftmax(dim).Span, i => logExpected[i], 1e-6, 1e-6, "log_softmax");
        });

    [Property]
    public Property Softmin_is_softmax_of_the_negation() =>
        Prop.ForAll(TensorAndDim().ToArbitrary(), t =>
        {
            var (x, dim) = t;
            Assert.Equal(new Softmax(dim).Forward(x.Multiply(-1f)).ToArray(), new Softmin(dim).Forward(x).ToArray());
        });

    [Property]
    public Property Softmax_without_dim_follows_PyTorchs_legacy_rule() =>
        Prop.ForAll(Generators.Tensors(Generators.NonEmptyShapes(0, 4, 4)).ToArbitrary(), x =>
        {
            int legacy = x.Rank is 0 or 1 or 3 ? 0 : 1;
            Assert.Equal(x.Softmax(legacy).ToArray(), new Softmax().Forward(x).ToArray());
            Assert.Equal(x.LogSoftmax(legacy).ToArray(), new LogSoftmax().Forward(x).ToArray());
        });

    // ---- Linear ----

    /// <summary>A Linear (in 0..40, out 1..12, bias or not) and an input with 0..3 leading dims (rows 0..20 in total).</summary>
    private static Gen<(Linear Layer, Shape Input, int Seed)> Linears =>
        from inF in Gen.Frequency((1, Gen.Constant(0)), (1, Gen.Constant(1)), (8, Gen.Choose(2, 40)))
        from outF in Gen.Choose(1, 12)
        from bias in Gen.Elements(true, false)
        from lead in Gen.Choose(0, 3).SelectMany(r => Gen.Choose(1, 4).ArrayOf(r))
        from seed in Gen.Choose(0, 100_000)
        select (Linear.Load(Weights.Random(seed), inF, outF, bias), new Shape([.. lead, inF]), seed);

    [Property]
    public Property Linear_matches_a_double_reference_on_every_path() =>
        Prop.ForAll(Linears.ToArbitrary(), t =>
        {
            var (layer, shape, seed) = t;
            var x = Tensor.RandomUniform(shape, seed + 1, -1, 1);
            var y = layer.Forward(x);
            Assert.Equal(layer.OutputShape(shape), y.Shape);
            int k = layer.InFeatures, n = layer.OutFeatures;
            var w = layer.Weight.Span.ToArray();
            var b = layer.Bias?.ToArray();
            var xs = x.ToArray();
            AssertClose(y.Span, i =>
            {
                int r = i / n, o = i % n;
                double s = b?[o] ?? 0;
                for (int j = 0; j < k; j++) s += (double)xs[r * k + j] * w[o * k + j];
                return s;
            }, 1e-5, 1e-5, layer.ToString());
        });

    [Property]
    public Property Linear_weight_part_is_linear() =>
        Prop.ForAll(Gen.Zip(Linears, Gen.Choose(-300, 300)).ToArbitrary(), t =>
        {
            var ((layer, shape, seed), c100) = t;
            float c = c100 / 100f;
            var x = Tensor.RandomUniform(shape, seed + 1, -1, 1);
            var z = Tensor.RandomUniform(shape, seed + 2, -1, 1);
            var origin = layer.Forward(Tensor.Zeros(shape));
            Tensor G(Tensor v) => layer.Forward(v) - origin;
            // g(x + z) = g(x) + g(z) and g(c·x) = c·g(x), up to float rounding of ~k terms of size ≤ 1.
            double tol = 1e-5 * Math.Max(1, Math.Sqrt(layer.InFeatures)) * (1 + Math.Abs(c));
            Assert.True((G(x + z) - (G(x) + G(z))).ToArray().All(d => Math.Abs(d) <= tol), "additivity");
            Assert.True((G(x * c) - G(x) * c).ToArray().All(d => Math.Abs(d) <= tol), "homogeneity");
            // A zero input gives exactly the bias in every row (or zeros).
            var bias = layer.Bias?.ToArray() ?? new float[layer.OutFeatures];
            Assert.Equal(Enumerable.Range(0, origin.Count).Select(i => bias[i % layer.OutFeatures]), origin.ToArray());
        });

    [Fact]
    public void Linear_printout_parameters_and_with_validation()
    {
        var layer = Linear.Load(Weights.Random(3), 4, 2);
        Assert.Equal("Linear(in_features=4, out_features=2, bias=True)", layer.ToString());
        Assert.Equal(["weight", "bias"], layer.Parameters().Select(p => p.Name));
        Assert.Equal(10, layer.ParameterCount);
        Assert.Equal("Linear(in_features=4, out_features=2, bias=False)", Linear.Load(Weights.Random(3), 4, 2, bias: false).ToString());
        var e = Assert.Throws<ShapeException>(() => (layer with { InFeatures = 5 }).Forward(Tensor.Zeros([1, 5])));
        Assert.Contains("weight has shape [2, 4], expected [2, 5]", e.Message);
    }

    // ---- Flatten / Unflatten / Identity / Dropout ----

    [Property]
    public Property Flatten_then_Unflatten_is_the_identity() =>
        Prop.ForAll((from shape in Generators.Shapes(1, 5, 4)
                     from s in Gen.Choose(0, shape.Rank - 1)
                     from e in Gen.Choose(s, shape.Rank - 1)
                     from negative in Gen.Elements(false, true)
                     from infer in Gen.Choose(-1, e - s)
                     from x in Generators.TensorOf(shape)
                     select (x, s, e, negative, infer)).ToArbitrary(), t =>
        {
            var (x, s, e, negative, infer) = t;
            var flatten = negative ? new Flatten(s - x.Rank, e - x.Rank) : new Flatten(s, e);
            var flat = flatten.Forward(x);
            Assert.Equal(flatten.OutputShape(x.Shape), flat.Shape);
            Assert.Equal(x.Rank - (e - s), flat.Rank);
            var sizes = x.Shape.Take(e + 1).Skip(s).ToArray();
            // One size may be given as −1 when the others do not multiply to 0 (then it is inferable).
            if (infer >= 0 && sizes.Where((_, i) => i != infer).Aggregate(1L, (a, b) => a * b) != 0) sizes[infer] = -1;
            var unflatten = new Unflatten(negative ? s - flat.Rank : s, new Dims(sizes));
            var back = unflatten.Forward(flat);
            Assert.Equal(x.Shape, back.Shape);
            Assert.Equal(x.ToArray(), back.ToArray());
        });

    [Fact]
    public void Identity_and_dropouts_return_the_input_and_print_like_PyTorch()
    {
        var x = Tensor.RandomNormal([2, 3, 4], 1);
        Layer[] layers = [new Identity(1, "ignored"), new Dropout(), new Dropout1d(0.1), new Dropout2d(1), new Dropout3d(0.0, inplace: true),
            new AlphaDropout(0.2), new FeatureAlphaDropout()];
        foreach (var layer in layers) Assert.Same(x, layer.Forward(x));
        Assert.Equal("Identity()", layers[0].ToString());
        Assert.Equal("Dropout(p=0.5, inplace=False)", layers[1].ToString());
        Assert.Equal("Dropout2d(p=1, inplace=False)", layers[3].ToString());
        Assert.Equal("Dropout3d(p=0.0, inplace=True)", layers[4].ToString());
        Assert.Equal(new Identity(), new Identity(5));
        Assert.Contains("dropout probability has to be between 0 and 1, but got 1.5", Assert.Throws<ShapeException>(() => new Dropout(1.5)).Message);
        Assert.Throws<ShapeException>(() => (new Dropout() with { P = -0.1 }).Forward(x));
    }

    // ---- activations ----

    private static Arbitrary<Tensor> TensorsArb => Generators.Tensors().ToArbitrary();

    private static double Softplus(double x, double beta, double threshold) =>
        x * beta > threshold ? x : (Math.Max(x * beta, 0) + Math.Log(1 + Math.Exp(-Math.Abs(x * beta)))) / beta;

    private static double Log1pExp(double x) => Math.Max(x, 0) + Math.Log(1 + Math.Exp(-Math.Abs(x)));

    private static double Expm1(double x) => Math.Abs(x) < 1e-5 ? x + x * x / 2 + x * x * x / 6 : Math.Exp(x) - 1;

    /// <summary>Every new activation against a double reference (absolute 1e-6, or 4 ulps relative where larger).</summary>
    [Property]
    public Property Activations_match_double_references() =>
        Prop.ForAll(Gen.Zip(Gen.Choose(0, 13), Generators.Tensors()).ToArbitrary(), t =>
        {
            var (which, x) = t;
            (Layer, Func<double, double>) pick = which switch
            {
                0 => (new Hardtanh(-2, 3), v => Math.Clamp(v, -2, 3)),
                1 => (new Hardswish(), v => v * Math.Clamp(v + 3, 0, 6) / 6),
                2 => (new Hardsigmoid(), v => Math.Clamp(v + 3, 0, 6) / 6),
                3 => (new Mish(), v => v * Math.Tanh(Log1pExp(v))),
                4 => (new Softplus(), v => Softplus(v, 1, 20)),
                5 => (new Softplus(2, 10.0), v => Softplus(v, 2, 10)),
                6 => (new SELU(), v => v > 0 ? 1.0507009873554804934 * v : 1.0507009873554804934 * 1.6732632423543772848 * Expm1(v)),
                7 => (new CELU(0.5), v => Math.Max(0, v) + Math.Min(0, 0.5 * Expm1(v / 0.5))),
                8 => (new Softsign(), v => v / (1 + Math.Abs(v))),
                9 => (new Softshrink(0.5), v => v > 0.5 ? v - 0.5 : v < -0.5 ? v + 0.5 : 0),
                10 => (new Hardshrink(0.5), v => v >= -0.5 && v <= 0.5 ? 0 : v),
                11 => (new Tanhshrink(), v => v - Math.Tanh(v)),
                12 => (new LogSigmoid(), v => -Log1pExp(-v)),
                _ => (new Threshold(0.25, 20), v => v <= 0.25 ? 20 : v),
            };
            var (layer, f) = pick;
            var y = layer.Forward(x);
            Assert.Equal(x.Shape, y.Shape);
            var xs = x.ToArray();
            // The absolute term covers cancellation (x − tanh(x), softshrink) and results near 0.
            AssertClose(y.Span, i => f(xs[i]), 1e-6, 8 * Eps, $"{layer}");
        });

    [Property]
    public Property Activation_laws() => Prop.ForAll(TensorsArb, x =>
    {
        var xs = x.ToArray();
        Assert.All(x.Hardtanh(-0.5f, 2f).ToArray(), v => Assert.InRange(v, -0.5f, 2f));
        Assert.All(x.Hardsigmoid().ToArray(), v => Assert.InRange(v, 0f, 1f));
        Assert.All(x.Softsign().ToArray(), v => Assert.InRange(v, -1f, 1f));
        var sp = x.Softplus().ToArray();
        var ls = x.LogSigmoid().ToArray();
        var mish = x.Mish().ToArray();
        for (int i = 0; i < xs.Length; i++)
        {
            // softplus ≥ relu, > 0 wherever exp(x) is a normal float; logsigmoid = −softplus(−x) ≤ 0.
            Assert.True(sp[i] >= Math.Max(xs[i], 0) * (1 - 2 * Eps), $"softplus({xs[i]}) = {sp[i]} < relu");
            if (xs[i] > -80) Assert.True(sp[i] > 0, $"softplus({xs[i]}) = {sp[i]} is not positive");
            Assert.True(ls[i] <= 0, $"logsigmoid({xs[i]}) = {ls[i]} > 0");
            Assert.True(float.IsFinite(sp[i]) && float.IsFinite(ls[i]) && float.IsFinite(mish[i]), $"non-finite at {xs[i]}");
            Assert.True(mish[i] >= -0.30885, $"mish({xs[i]}) = {mish[i]} below its minimum");
        }
        Assert.Equal(x.ToArray(), x.Softshrink(0).ToArray());
        var shrink = x.Softshrink(0.5f).ToArray();
        for (int i = 0; i < xs.Length; i++) Assert.True(Math.Abs(shrink[i]) <= Math.Abs(xs[i]), "softshrink moves toward 0");
    });

    [Property]
    public Property Prelu_with_equal_slopes_is_leaky_relu_and_per_channel_uses_dim_1() =>
        Prop.ForAll((from shape in Generators.NonEmptyShapes(2, 4, 4)
                     from x in Generators.TensorOf(shape)
                     from slopes in Generators.Uniform(-1, 2).ArrayOf(shape[1])
                     select (x, slopes)).ToArbitrary(), t =>
        {
            var (x, slopes) = t;
            var shared = new PReLU(Tensor.Full([x.Shape[1]], 0.3f)).Forward(x);
            Assert.Equal(x.LeakyRelu(0.3f).ToArray(), shared.ToArray());
            var y = new PReLU(Tensor.FromArray(slopes)).Forward(x).ToArray();
            var xs = x.ToArray();
            int inner = (int)x.Shape.Skip(2).ElementCount, c = x.Shape[1];
            for (int i = 0; i < xs.Length; i++)
            {
                float s = slopes[i / inner % c];
                Assert.Equal(xs[i] > 0 ? xs[i] : s * xs[i], y[i]);
            }
        });

    [Property]
    public Property Glu_halves_its_dim_and_is_a_times_sigmoid_b() =>
        Prop.ForAll((from sd in ShapeAndDim(1, 4, 3)
                     let shape = sd.Shape.With(sd.Dim, 2 * sd.Shape[sd.Dim])
                     from x in Generators.TensorOf(shape)
                     select (x, sd.Dim)).ToArbitrary(), t =>
        {
            var (x, dim) = t;
            var glu = new GLU(dim);
            var y = glu.Forward(x);
            int axis = dim < 0 ? dim + x.Rank : dim;
            Assert.Equal(x.Shape.With(axis, x.Shape[axis] / 2), y.Shape);
            Assert.Equal(glu.OutputShape(x.Shape), y.Shape);
            int half = y.Shape[axis], inner = (int)x.Shape.Skip(axis + 1).ElementCount;
            var xs = x.ToArray();
            AssertClose(y.Span, i =>
            {
                int o = i / (half * inner), r = i % (half * inner);
                double a = xs[o * 2 * half * inner + r], b = xs[o * 2 * half * inner + half * inner + r];
                return a / (1 + Math.Exp(-b));
            }, 1e-6, 8 * Eps, glu.ToString());
        });

    // ---- Embedding ----

    [Property]
    public Property Embedding_looks_up_rows_for_float_and_int64_indices() =>
        Prop.ForAll((from num in Gen.Choose(1, 12)
                     from dim in Gen.Choose(0, 5)
                     from shape in Generators.Shapes(0, 3, 4)
                     from idx in Gen.Choose(0, num - 1).ArrayOf((int)shape.ElementCount)
                     from seed in Gen.Choose(0, 1000)
                     select (num, dim, shape, idx, seed)).ToArbitrary(), t =>
        {
            var (num, dim, shape, idx, seed) = t;
            var emb = Embedding.Load(Weights.Random(seed), num, dim);
            var y = emb.Forward(Tensor.FromArray(idx.Select(i => (float)i).ToArray(), shape));
            Assert.Equal(shape.Concat(new Shape(dim)), y.Shape);
            Assert.Equal(emb.OutputShape(shape), y.Shape);
            Assert.Equal(y.ToArray(), emb.Forward(IndexTensor.FromSpan(idx.Select(i => (long)i).ToArray(), shape)).ToArray());
            var w = emb.Weight.ToArray();
            Assert.Equal(idx.SelectMany(i => w.Skip(i * dim).Take(dim)), y.ToArray());
        });

    [Fact]
    public void Embedding_refuses_bad_indices_naming_them()
    {
        var emb = Embedding.Load(Weights.Random(1), 5, 2, paddingIdx: -1);
        Assert.Equal("Embedding(5, 2, padding_idx=4)", emb.ToString());
        var e = Assert.Throws<ShapeException>(() => emb.Forward(Tensor.FromArray(1f, 5f)));
        Assert.StartsWith("Embedding(5, 2, padding_idx=4): index 5 at position 1", e.Message);
        e = Assert.Throws<ShapeException>(() => emb.Forward(Tensor.FromArray(1.5f)));
        Assert.Contains("index 1.5 at position 0", e.Message);
        Assert.Throws<ShapeException>(() => emb.Forward(Tensor.FromArray(-1f)));
        Assert.Throws<ShapeException>(() => emb.Forward(IndexTensor.FromSpan([7L], [1])));
        Assert.Throws<ShapeException>(() => Embedding.Load(Weights.Random(1), 5, 2, paddingIdx: 5));
        var d = Assert.Throws<ModuleDescriptionException>(() => ModuleDescription.Build(
            """{"type": "Embedding", "num_embeddings": 5, "embedding_dim": 2, "padding_idx": null, "max_norm": 1.0, "norm_type": 2.0, "scale_grad_by_freq": false, "sparse": false}""",
            Weights.Random(0)));
        Assert.Contains("unsupported max_norm", d.Message);
    }

    // ---- shapes without running, errors naming the layer ----

    /// <summary>A random layer of this file's kinds, any arguments (valid or not for the shape).</summary>
    private static Gen<Layer> AnyLayer(Shape shape)
    {
        var dim = Gen.Choose(-5, 4);
        int last = shape.Rank == 0 ? 3 : shape[-1];
        return Gen.OneOf(
            dim.Select(d => (Layer)new Softmax(d)), dim.Select(d => (Layer)new LogSoftmax(d)), dim.Select(d => (Layer)new Softmin(d)),
            Gen.Constant<Layer>(new Softmax()), Gen.Constant<Layer>(new Softmax2d()),
            dim.Select(d => (Layer)new GLU(d)),
            Gen.Zip(dim, dim).Select(t => (Layer)new Flatten(t.Item1, t.Item2)),
            Gen.Zip(dim, Gen.Choose(-1, 4).ArrayOf(2)).Select(t => (Layer)new Unflatten(t.Item1, new Dims(t.Item2.Contains(-1) && t.Item2.All(v => v == -1) ? [t.Item2[0], 1] : t.Item2))),
            Gen.Choose(1, 4).Select(n => (Layer)new PReLU(Tensor.Full([n], 0.1f))),
            Gen.Zip(Gen.Elements(last, last + 1), Gen.Choose(1, 4)).Select(t => (Layer)Linear.Load(Weights.Random(t.Item2), t.Item1, t.Item2)),
            Gen.Constant<Layer>(new Dropout1d()), Gen.Constant<Layer>(new Identity()), Gen.Constant<Layer>(new Mish()),
            Gen.Constant<Layer>(Embedding.Load(Weights.Random(0), 10, 3)));
    }

    [Property]
    public Property OutputShape_agrees_with_Forward_and_errors_name_the_layer() =>
        Prop.ForAll((from shape in Generators.Shapes(0, 4, 4)
                     from layer in AnyLayer(shape)
                     from x in Generators.TensorOf(shape, Generators.Uniform(0, 9.4).Select(MathF.Floor))
                     select (layer, x)).ToArbitrary(), t =>
        {
            var (layer, x) = t;
            Shape? predicted = null;
            string? refusal = null;
            try { predicted = layer.OutputShape(x.Shape); }
            catch (ShapeException e) { refusal = e.Message; }
            if (predicted is { } p)
                Assert.Equal(p, layer.Forward(x).Shape);
            else
            {
                Assert.StartsWith(layer.ToString() + ":", refusal);
                Assert.Equal(refusal, Assert.Throws<ShapeException>(() => layer.Forward(x)).Message);
            }
        });

    [Fact]
    public void Errors_say_what_was_expected_and_what_came()
    {
        string Message(Layer l, Shape s) => Assert.Throws<ShapeException>(() => l.OutputShape(s)).Message;
        Assert.Equal("GLU(dim=1): Halving dimension must be even, but dimension 1 is size 3 (input [2, 3])", Message(new GLU(1), [2, 3]));
        Assert.Contains("expected the last dimension of the input to be in_features=4, got input of shape [2, 5]",
            Message(Linear.Load(Weights.Random(0), 4, 3), [2, 5]));
        Assert.Contains("Provided sizes (2, 2) don't multiply up to the size of dim 1 (6)", Message(new Unflatten(1, (2, 2)), [3, 6]));
        Assert.Contains("Found parameter numbers = 3 and channel size = 4", Message(new PReLU(Tensor.Full([3], 0.25f)), [2, 4, 5]));
        Assert.Contains("a 1-D input has one channel", Message(new PReLU(Tensor.Full([3], 0.25f)), [3]));
        Assert.Contains("expected to be in range of [-2, 1], but got 2", Message(new Softmax(2), [2, 3]));
        Assert.StartsWith("Dropout1d(p=0.5, inplace=False): Expected 2D or 3D input, but received a 4D input", Message(new Dropout1d(), [1, 2, 3, 4]));
        Assert.StartsWith("Flatten(start_dim=2, end_dim=1): start_dim cannot come after end_dim", Message(new Flatten(2, 1), [2, 3, 4]));
        Assert.Contains("Hardtanh: max_val must be greater than min_val", Assert.Throws<ShapeException>(() => new Hardtanh(1, 1)).Message);
        Assert.Contains("lambda must be greater or equal to 0", Assert.Throws<ShapeException>(() => new Softshrink(-1)).Message);
        Assert.Contains("alpha cannot be 0", Assert.Throws<ShapeException>(() => new CELU(0).Forward(Tensor.Zeros([2]))).Message);
    }

    [Fact]
    public void Printouts_match_PyTorchs_defaults()
    {
        Assert.Equal("Hardtanh(min_val=-1.0, max_val=1.0)", new Hardtanh().ToString());
        Assert.Equal("Hardtanh(min_val=-2, max_val=3, inplace=True)", new Hardtanh(-2, 3) { Inplace = true }.ToString());
        Assert.Equal("Softplus(beta=1, threshold=20)", new Softplus().ToString());
        Assert.Equal("CELU(alpha=1.0)", new CELU().ToString());
        Assert.Equal("Softshrink(0.5)", new Softshrink().ToString());
        Assert.Equal("Hardswish()", new Hardswish { Inplace = true }.ToString());
        Assert.Equal("Mish(inplace=True)", new Mish { Inplace = true }.ToString());
        Assert.Equal("Threshold(threshold=0.1, value=20)", new Threshold(0.1, 20).ToString());
        Assert.Equal("PReLU(num_parameters=3)", PReLU.Load(Weights.Random(0), 3).ToString());
        Assert.Equal("Softmax(dim=None)", new Softmax().ToString());
        Assert.Equal("LogSoftmax(dim=-1)", new LogSoftmax(-1).ToString());
        Assert.Equal("Flatten(start_dim=1, end_dim=-1)", new Flatten().ToString());
        Assert.Equal("Unflatten(dim=1, unflattened_size=(6,))", new Unflatten(1, new Dims(6)).ToString());
        Assert.Equal("GLU(dim=-1)", new GLU().ToString());
    }
}
