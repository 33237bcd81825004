using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Functional.Kernels;
using Functional.Properties.Kernels;

namespace Functional.Properties;

/// <summary>
/// Convolution and transposed-convolution layers over generated geometries: shapes against
/// PyTorch's formulas, a direct reference loop (every padding mode, asymmetric "same"),
/// linearity, the adjoint identity, delta kernels, batching, <c>with</c> variants and printouts.
/// </summary>
public class ConvProperties
{
    private static readonly Arbitrary<ConvConfig> Convs = LayerGenerators.Convs().ToArbitrary();

    /// <summary>Unit roundoff of float32.</summary>
    private const double U = 1.0 / (1 << 24);

    // ---- shapes ----

    [Property(MaxTest = 200)]
    public Property OutputShape_equals_Forward_shape_and_PyTorch_formula() => Prop.ForAll(Convs, c =>
    {
        var conv = c.Build();
        var predicted = conv.OutputShape(c.InputShape);
        Assert.Equal(c.ExpectedOutputShape, predicted);
        Assert.Equal(predicted, conv.Forward(c.Input()).Shape);
        if (c.Padding.Kind == PaddingKind.Same) Assert.Equal(c.Spatial, c.OutputSpatial);
    });

    [Property(MaxTest = 100)]
    public Property ConvTranspose_OutputShape_equals_Forward_shape_and_PyTorch_formula() =>
        Prop.ForAll(LayerGenerators.ConvTransposes.ToArbitrary(), c =>
        {
            var conv = c.Build();
            var predicted = conv.OutputShape(c.InputShape);
            Assert.Equal(c.ExpectedOutputShape, predicted);
            Assert.Equal(predicted, conv.Forward(c.Input()).Shape);
        });

    // ---- against a direct loop ----

    /// <summary>
    /// out[n, oc, o] = bias[oc] + Σ_{ic in group, k} x[n, ic, src(o·s − lo + k·d)]·w[oc, ic, k], where
    /// src maps a padded position to the input per padding mode (−1 = zero). Double accumulation;
    /// also returns Σ|terms| per element, the scale of float rounding.
    /// </summary>
    private static (double[] Value, double[] Magnitude) Reference(ConvConfig c, Tensor input, Tensor weight, Tensor? bias)
    {
        var x = input.ToArray();
        var w = weight.ToArray();
        var b = bias?.ToArray();
        int batch = Math.Max(c.Batch, 1), cg = c.InChannels / c.Groups, ocg = c.OutChannels / c.Groups;
        var I = LayerGenerators.To3D(c.Spatial);
        var O = LayerGenerators.To3D(c.OutputSpatial);
        var K = LayerGenerators.To3D(c.Kernel);
        var S = LayerGenerators.To3D(c.Stride);
        var D = LayerGenerators.To3D(c.Dilation);
        var P = LayerGenerators.To3D(c.PadLo, 0);
        var value = new double[batch * c.OutChannels * O.Volume];
        var magnitude = new double[value.Length];
        int at = 0;
        for (int n = 0; n < batch; n++)
        for (int oc = 0; oc < c.OutChannels; oc++)
        for (int od = 0; od < O.D; od++)
        for (int oh = 0; oh < O.H; oh++)
        for (int ow = 0; ow < O.W; ow++, at++)
        {
            double s = b is null ? 0 : b[oc], m = Math.Abs(s);
            int g = oc / ocg;
            for (int ic = 0; ic < cg; ic++)
            for (int kd = 0; kd < K.D; kd++)
            for (int kh = 0; kh < K.H; kh++)
            for (int kw = 0; kw < K.W; kw++)
            {
                int id = Source(od * S.D - P.D + kd * D.D, I.D, c.Mode);
                int ih = Source(oh * S.H - P.H + kh * D.H, I.H, c.Mode);
                int iw = Source(ow * S.W - P.W + kw * D.W, I.W, c.Mode);
                if (id < 0 || ih < 0 || iw < 0) continue;
                double xv = x[(((n * c.InChannels + g * cg + ic) * I.D + id) * I.H + ih) * I.W + iw];
                double wv = w[(((oc * cg + ic) * K.D + kd) * K.H + kh) * K.W + kw];
                s += xv * wv;
                m += Math.Abs(xv * wv);
            }
            value[at] = s;
            magnitude[at] = m;
        }
        return (value, magnitude);
    }

    /// <summary>The input index a padded position reads, or −1 for a zero.</summary>
    private static int Source(int i, int n, PaddingMode mode)
    {
        if (i >= 0 && i < n) return i;
        return mode switch
        {
            PaddingMode.Zeros => -1,
            PaddingMode.Reflect => i < 0 ? -i : 2 * (n - 1) - i,   // mirror without repeating the edge
            PaddingMode.Replicate => i < 0 ? 0 : n - 1,
            _ => i < 0 ? i + n : i - n,                              // circular: padding ≤ n wraps once
        };
    }

    /// <summary>Each element within a rounding bound: (terms + 2)·u·Σ|terms|, doubled for the kernel's blocking.</summary>
    private static void AssertClose(double[] expected, double[] magnitude, ReadOnlySpan<float> actual, int terms, string context)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            double tol = 2 * (terms + 2) * U * magnitude[i] + 1e-30;
            if (!(Math.Abs(actual[i] - expected[i]) <= tol))
                Assert.Fail($"{context}: element {i} is {actual[i]:R}, reference {expected[i]:R} (tolerance {tol:G3})");
        }
    }

    [Property(MaxTest = 150)]
    public Property Forward_agrees_with_a_direct_loop_in_every_padding_mode() => Prop.ForAll(Convs, c =>
    {
        var conv = c.Build();
        var x = c.Input();
        var (value, magnitude) = Reference(c, x, conv.Weight, conv.Bias);
        AssertClose(value, magnitude, conv.Forward(x).Span, c.Terms, c.ToString());
    });

    [Property(MaxTest = 60)]
    public Property Same_padding_with_even_kernels_pads_one_more_after() =>
        Prop.ForAll(LayerGenerators.Convs().Select(c => Resame(c with { Kernel = c.Kernel.Select(k => 2 * ((k + 1) / 2)).ToArray() })).ToArbitrary(), c =>
        {
            var conv = c.Build();
            int lead = c.InputShape.Rank - c.Rank;
            Assert.Equal(c.InputShape.Skip(lead), conv.OutputShape(c.InputShape).Skip(lead));
            var (before, after) = conv.ResolvedPadding;
            Assert.Equal(c.PadLo, before.Values.ToArray());
            Assert.Equal(c.PadHi, after.Values.ToArray());
            var x = c.Input();
            var (value, magnitude) = Reference(c, x, conv.Weight, conv.Bias);
            AssertClose(value, magnitude, conv.Forward(x).Span, c.Terms, c.ToString());
        });

    /// <summary>The configuration with padding="same" (stride 1), re-resolved and with an input large enough for its mode.</summary>
    private static ConvConfig Resame(ConvConfig c)
    {
        int r = c.Rank;
        var lo = new int[r];
        var hi = new int[r];
        var spatial = (int[])c.Spatial.Clone();
        for (int i = 0; i < r; i++)
        {
            int total = c.Dilation[i] * (c.Kernel[i] - 1);
            lo[i] = total / 2;
            hi[i] = total - lo[i];
            int min = c.Mode == PaddingMode.Reflect ? hi[i] + 1 : Math.Max(1, hi[i]);
            spatial[i] = Math.Max(spatial[i], min);
        }
        return c with { Padding = Padding.Same, Stride = Enumerable.Repeat(1, r).ToArray(), PadLo = lo, PadHi = hi, Spatial = spatial };
    }

    [Property(MaxTest = 100)]
    public Property ConvTranspose_agrees_with_a_direct_loop() => Prop.ForAll(LayerGenerators.ConvTransposes.ToArbitrary(), c =>
    {
        var conv = c.Build();
        var x = c.Input();
        var plan = new ConvPlan(Math.Max(c.Batch, 1), c.Groups, c.InChannels, c.OutChannels,
            LayerGenerators.To3D(c.Spatial), LayerGenerators.To3D(c.OutputSpatial), LayerGenerators.To3D(c.Kernel),
            LayerGenerators.To3D(c.Stride), LayerGenerators.To3D(c.Dilation), LayerGenerators.To3D(c.Padding, 0));
        var (value, magnitude) = ReferenceConv.Transposed(plan, x.ToArray(), conv.Weight.ToArray(), conv.Bias?.ToArray());
        int terms = c.InChannels / c.Groups * c.Kernel.Aggregate(1, (a, b) => a * b);
        AssertClose(value, magnitude, conv.Forward(x).Span, terms, c.ToString());
    });

    // ---- algebra ----

    [Property(MaxTest = 100)]
    public Property Without_bias_the_convolution_is_linear() =>
        Prop.ForAll(Gen.Zip(LayerGenerators.Convs(), Gen.Zip(Generators.Uniform(-3, 3), Generators.Uniform(-3, 3))).ToArbitrary(), t =>
        {
            var (c, (a, b)) = t;
            var conv = c.Build(bias: false);
            Tensor x = c.Input(1), y = c.Input(2);
            var lhs = conv.Forward(a * x + b * y);
            var rhs = a * conv.Forward(x) + b * conv.Forward(y);
            var (_, mx) = Reference(c, x, conv.Weight, null);
            var (_, my) = Reference(c, y, conv.Weight, null);
            for (int i = 0; i < lhs.Count; i++)
            {
                // Rounding of a·x + b·y, of both convolutions and of the final scale-and-add.
                double tol = 4 * (c.Terms + 4) * U * (Math.Abs(a) * mx[i] + Math.Abs(b) * my[i]) + 1e-30;
                Assert.True(Math.Abs(lhs.Span[i] - rhs.Span[i]) <= tol,
                    $"{c} a={a} b={b}: element {i}: conv(ax+by)={lhs.Span[i]:R}, a·conv(x)+b·conv(y)={rhs.Span[i]:R}, tolerance {tol:G3}");
            }
        });

    /// <summary>Zero-padded, symmetric explicit padding (what a transposed convolution can mirror), no bias.</summary>
    private static readonly Arbitrary<ConvConfig> AdjointCases = LayerGenerators.Convs()
        .Select(c => c with { Mode = PaddingMode.Zeros, Bias = false })
        .Where(c => c.Padding.Kind != PaddingKind.Same || c.PadLo.SequenceEqual(c.PadHi))
        .ToArbitrary();

    [Property(MaxTest = 100)]
    public Property ConvTranspose_is_the_adjoint_of_Conv_with_the_same_weight() => Prop.ForAll(AdjointCases, c =>
    {
        var conv = c.Build();
        // ConvTranspose weight is [in_T, out_T/g, k...] = [out_conv, in_conv/g, k...]: the conv's own tensor.
        var weights = Weights.FromTensors(new Dictionary<string, Tensor> { ["weight"] = conv.Weight });
        var convT = ConvTransposeNd.Load(c.Rank, weights, c.OutChannels, c.InChannels, new Dims(c.Kernel), new Dims(c.Stride),
            new Dims(c.PadLo), groups: c.Groups, bias: false, dilation: new Dims(c.Dilation));
        var x = c.Input(1);
        var cx = conv.Forward(x);
        var y = Tensor.RandomNormal(cx.Shape, c.Seed + 17);
        // output_size = the conv's input size picks the output padding that makes the shapes match.
        var ty = convT.Forward(y, c.Spatial);
        Assert.Equal(x.Shape, ty.Shape);
        double left = cx.Dot(y), right = x.Dot(ty);
        var (_, magnitude) = Reference(c, x, conv.Weight, null);
        double scale = 0;
        for (int i = 0; i < magnitude.Length; i++) scale += magnitude[i] * Math.Abs(y.Span[i]);
        Assert.True(Math.Abs(left - right) <= 1e-4 * scale + 1e-30,
            $"{c}: <conv(x), y> = {left:R} but <x, convT(y)> = {right:R} (scale {scale:G4})");
    });

    /// <summary>Odd kernels, padding "same", stride 1, in = out channels, groups either 1 or the channel count.</summary>
    private static readonly Arbitrary<(ConvConfig Config, bool Depthwise)> DeltaCases =
        (from c in LayerGenerators.Convs()
         from depthwise in Gen.Elements(false, true)
         select (Resame(c with
         {
             Kernel = c.Kernel.Select(k => k | 1).ToArray(),
             OutChannels = c.InChannels,
             Groups = depthwise ? c.InChannels : 1,
         }), depthwise)).ToArbitrary();

    [Property(MaxTest = 100)]
    public Property A_centred_delta_kernel_is_the_identity() => Prop.ForAll(DeltaCases, t =>
    {
        var (c, depthwise) = t;
        var shape = ConvNd.WeightShape(c.InChannels, c.OutChannels, new Dims(c.Kernel), c.Groups);
        var w = new float[shape.ElementCount];
        int taps = c.Kernel.Aggregate(1, (a, b) => a * b), centre = 0;
        for (int i = 0; i < c.Rank; i++) centre = centre * c.Kernel[i] + c.Kernel[i] / 2;
        int cg = c.InChannels / c.Groups;
        for (int o = 0; o < c.OutChannels; o++)
            w[(o * cg + (depthwise ? 0 : o)) * taps + centre] = 1f;
        var weights = Weights.FromTensors(new Dictionary<string, Tensor> { ["weight"] = Tensor.FromArray(w, shape) });
        var conv = c.Build(weights, bias: false);
        var x = c.Input();
        var y = conv.Forward(x);
        Assert.Equal(x.Shape, y.Shape);
        Assert.True(x.Span.SequenceEqual(y.Span), $"{c}: the delta kernel changed the input: {Generators.Show(x.Span)} -> {Generators.Show(y.Span)}");
    });

    [Property(MaxTest = 100)]
    public Property Unbatched_input_gives_the_batched_result_without_the_batch_dimension() => Prop.ForAll(Convs, c =>
    {
        var conv = c.Build();
        var batched = c with { Batch = Math.Max(c.Batch, 1) };
        var x = batched.Input();
        var y = conv.Forward(x);
        int n = batched.Batch;
        int inPer = x.Count / n, outPer = y.Count / n;
        var inShape = x.Shape.Skip(1);
        for (int i = 0; i < n; i++)
        {
            var sample = Tensor.FromSpan(x.Span.Slice(i * inPer, inPer), inShape);
            var single = conv.Forward(sample);
            Assert.Equal(y.Shape.Skip(1), single.Shape);
            Assert.True(single.Span.SequenceEqual(y.Span.Slice(i * outPer, outPer)), $"{c}: sample {i} differs from the batched result");
        }
    });

    // ---- with ----

    [Property(MaxTest = 100)]
    public Property With_stride_changes_the_output_shape_by_the_formula() =>
        Prop.ForAll(Gen.Zip(LayerGenerators.Convs().Where(c => c.Padding.Kind != PaddingKind.Same), Gen.Choose(1, 3)).ToArbitrary(), t =>
        {
            var (c, s) = t;
            var conv = c.Build();
            var strided = conv with { Stride = s };
            var expected = c with { Stride = Enumerable.Repeat(s, c.Rank).ToArray() };
            Assert.Equal(expected.ExpectedOutputShape, strided.OutputShape(c.InputShape));
            Assert.Equal(expected.ExpectedOutputShape, strided.Forward(c.Input()).Shape);
            Assert.Equal(c.ExpectedOutputShape, conv.OutputShape(c.InputShape));   // the original is untouched
        });

    [Fact]
    public void With_a_strided_variant_of_a_2d_conv()
    {
        var conv = Conv2d.Load(Weights.Random(0), 3, 16, 3, bias: false);
        var strided = conv with { Stride = 2 };
        Assert.Equal(new Shape(1, 16, 30, 30), conv.OutputShape([1, 3, 32, 32]));
        Assert.Equal(new Shape(1, 16, 15, 15), strided.OutputShape([1, 3, 32, 32]));
        Assert.Equal("Conv2d(3, 16, kernel_size=(3, 3), stride=(2, 2), bias=False)", strided.ToString());
        Assert.Equal(new Shape(1, 16, 15, 15), strided.Forward(Tensor.RandomNormal([1, 3, 32, 32], 1)).Shape);
    }

    [Fact]
    public void With_variants_of_a_transposed_conv_expand_int_arguments_to_the_rank()
    {
        var up = ConvTranspose2d.Load(Weights.Random(0), 4, 2, 3, padding: 1);
        var strided = up with { Stride = 2, OutputPadding = 1 };
        Assert.Equal(new Shape(1, 2, 5, 5), up.OutputShape([1, 4, 5, 5]));
        Assert.Equal(new Shape(1, 2, 10, 10), strided.OutputShape([1, 4, 5, 5]));
        Assert.Equal(new Shape(1, 2, 10, 10), strided.Forward(Tensor.RandomNormal([1, 4, 5, 5], 2)).Shape);
        Assert.Equal("ConvTranspose2d(4, 2, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), output_padding=(1, 1))", strided.ToString());
    }

    // ---- threads ----

    /// <summary>Large enough (rank 2 and 3, spatial up to ~30 / ~14) that the kernels split work over threads.</summary>
    internal static readonly Arbitrary<ConvConfig> LargeConvs = LayerGenerators.Convs([0, 24, 8], minRank: 2).ToArbitrary();

    // ---- printouts (expected strings printed by PyTorch 1.13, Debian's python3-torch) ----

    public static TheoryData<string, string> ConvPrintouts => new()
    {
        { "Conv1d(4, 8, kernel_size=(3,), stride=(1,))", Conv1d.Load(Weights.Random(0), 4, 8, 3).ToString() },
        { "Conv1d(4, 8, kernel_size=(3,), stride=(2,), padding=(1,), bias=False)", Conv1d.Load(Weights.Random(0), 4, 8, 3, stride: 2, padding: 1, bias: false).ToString() },
        { "Conv2d(3, 16, kernel_size=(3, 3), stride=(2, 2), bias=False)", Conv2d.Load(Weights.Random(0), 3, 16, 3, stride: 2, bias: false).ToString() },
        { "Conv2d(3, 16, kernel_size=(3, 5), stride=(2, 1), padding=(1, 2))", Conv2d.Load(Weights.Random(0), 3, 16, (3, 5), stride: (2, 1), padding: (1, 2)).ToString() },
        { "Conv2d(4, 8, kernel_size=(3, 3), stride=(1, 1), padding=same, padding_mode=reflect)", Conv2d.Load(Weights.Random(0), 4, 8, 3, padding: Padding.Same, paddingMode: PaddingMode.Reflect).ToString() },
        { "Conv2d(4, 8, kernel_size=(4, 4), stride=(1, 1), padding=same)", Conv2d.Load(Weights.Random(0), 4, 8, 4, padding: Padding.Same).ToString() },
        { "Conv2d(4, 8, kernel_size=(3, 3), stride=(1, 1), padding=valid)", Conv2d.Load(Weights.Random(0), 4, 8, 3, padding: Padding.Valid).ToString() },
        { "Conv2d(6, 6, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), groups=6)", Conv2d.Load(Weights.Random(0), 6, 6, 3, padding: 1, groups: 6).ToString() },
        { "Conv2d(4, 8, kernel_size=(3, 3), stride=(1, 1), padding=(2, 2), dilation=(2, 2), groups=2)", Conv2d.Load(Weights.Random(0), 4, 8, 3, padding: 2, dilation: 2, groups: 2).ToString() },
        { "Conv3d(2, 4, kernel_size=(3, 3, 3), stride=(1, 1, 1), padding=(1, 1, 1), padding_mode=circular)", Conv3d.Load(Weights.Random(0), 2, 4, 3, stride: 1, padding: 1, paddingMode: PaddingMode.Circular).ToString() },
        { "Conv3d(2, 4, kernel_size=(1, 3, 3), stride=(1, 1, 1), padding=(0, 1, 1), padding_mode=replicate)", Conv3d.Load(Weights.Random(0), 2, 4, (1, 3, 3), padding: (0, 1, 1), paddingMode: PaddingMode.Replicate).ToString() },
        { "ConvTranspose2d(16, 8, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), output_padding=(1, 1))", ConvTranspose2d.Load(Weights.Random(0), 16, 8, 3, stride: 2, padding: 1, outputPadding: 1).ToString() },
        { "ConvTranspose1d(4, 2, kernel_size=(4,), stride=(2,), dilation=(2,), groups=2, bias=False)", ConvTranspose1d.Load(Weights.Random(0), 4, 2, 4, stride: 2, groups: 2, bias: false, dilation: 2).ToString() },
        { "ConvTranspose3d(2, 2, kernel_size=(3, 3, 3), stride=(1, 1, 1))", ConvTranspose3d.Load(Weights.Random(0), 2, 2, 3).ToString() },
    };

    [Theory]
    [MemberData(nameof(ConvPrintouts))]
    public void Prints_as_PyTorch(string pytorch, string ours) => Assert.Equal(pytorch, ours);
}

/// <summary>Convolutions give bit-identical results whatever <see cref="Parallelism.Threads"/> is.</summary>
[Collection("Parallelism")]
public class ConvPropertiesAcrossThreads
{
    internal static Tensor WithThreads(int threads, Func<Tensor> run)
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

    [Property(MaxTest = 40)]
    public Property Conv_result_does_not_depend_on_the_thread_count() => Prop.ForAll(ConvProperties.LargeConvs, c =>
    {
        var conv = c.Build();
        var x = c.Input();
        var one = WithThreads(1, () => conv.Forward(x));
        foreach (int t in new[] { 2, 3 })
            Assert.True(one.Span.SequenceEqual(WithThreads(t, () => conv.Forward(x)).Span), $"{c}: {t} threads differ from 1");
    });

    [Property(MaxTest = 40)]
    public Property ConvTranspose_result_does_not_depend_on_the_thread_count() =>
        Prop.ForAll(LayerGenerators.ConvTransposes.Select(c => c with { Spatial = c.Spatial.Select(n => n + 6).ToArray() }).ToArbitrary(), c =>
        {
            var conv = c.Build();
            var x = c.Input();
            var one = WithThreads(1, () => conv.Forward(x));
            foreach (int t in new[] { 2, 3 })
                Assert.True(one.Span.SequenceEqual(WithThreads(t, () => conv.Forward(x)).Span), $"{c}: {t} threads differ from 1");
        });
}
