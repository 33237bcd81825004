using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Functional.Kernels;

namespace Functional.Properties.Kernels;

/// <summary>A generated convolution problem: the plan, whether it has a bias, and a data seed.</summary>
public sealed record ConvCase(ConvPlan Plan, bool HasBias, int Seed)
{
    public override string ToString() =>
        $"Batch={Plan.Batch} G={Plan.Groups} Cin={Plan.InChannels} Cout={Plan.OutChannels} In={Plan.Input} Out={Plan.Output} " +
        $"K={Plan.Kernel} S={Plan.Stride} Dil={Plan.Dilation} Pad={Plan.PadLo} Bias={HasBias} Seed={Seed}";
}

/// <summary>Generators and shared checking helpers for the convolution kernel tests.</summary>
internal static class ConvCases
{
    /// <summary>One spatial axis of a plan: extents, kernel, stride, dilation, low padding.</summary>
    internal readonly record struct Axis(int Input, int Output, int Kernel, int Stride, int Dilation, int Pad);

    /// <summary>An axis of extent 1 (the unused depth/height of 1-D and 2-D plans).</summary>
    internal static readonly Axis Unit = new(1, 1, 1, 1, 1, 0);

    // One spatial axis: kernel 1-4, stride 1-3, dilation 1-3, padding 0..kernel each side; the output
    // is PyTorch's extent, sometimes one less (callers may trim) or one more (the kernel must still
    // never read or write outside its buffers).
    private static Gen<Axis> AxisGen(bool transposed) =>
        from k in Gen.Choose(1, 4)
        from s in Gen.Choose(1, 3)
        from d in Gen.Choose(1, 3)
        from padLo in Gen.Choose(0, k)
        from padHi in Gen.Choose(0, k)
        from input in Gen.Choose(1, 7)
        from outPad in Gen.Choose(0, 2)
        from delta in Gen.Frequency((6, Gen.Constant(0)), (1, Gen.Constant(-1)), (1, Gen.Constant(1)))
        select MakeAxis(transposed, input, k, s, d, padLo, padHi, outPad, delta);

    private static Axis MakeAxis(bool transposed, int input, int k, int s, int d, int padLo, int padHi, int outPad, int delta)
    {
        int output;
        if (transposed)
        {
            output = ReferenceConv.TransposedExtent(input, k, s, d, padLo, padHi, outPad % Math.Max(s, d));
        }
        else
        {
            int eff = d * (k - 1) + 1;
            input = Math.Max(input, eff - padLo - padHi);
            output = ReferenceConv.ForwardExtent(input, k, s, d, padLo, padHi);
        }
        return new Axis(input, Math.Max(1, output + delta), k, s, d, padLo);
    }

    private static Gen<(Axis D, Axis H, Axis W)> SpatialGen(bool transposed) =>
        Spatial(Gen.Choose(1, 3), AxisGen(transposed), AxisGen(transposed), AxisGen(transposed));

    /// <summary>1-D to 3-D geometries: the axes a plan of the drawn rank uses, <see cref="Unit"/> for the rest.</summary>
    internal static Gen<(Axis D, Axis H, Axis W)> Spatial(Gen<int> rank, Gen<Axis> depth, Gen<Axis> height, Gen<Axis> width) =>
        from r in rank
        from a in depth
        from b in height
        from c in width
        select r switch { 1 => (Unit, Unit, c), 2 => (Unit, b, c), _ => (a, b, c) };

    /// <summary>The plan of <paramref name="x"/>'s geometry with these channels.</summary>
    internal static ConvPlan Plan(int batch, int groups, int cin, int cout, (Axis D, Axis H, Axis W) x) =>
        new(batch, groups, cin, cout,
            new Dim3(x.D.Input, x.H.Input, x.W.Input), new Dim3(x.D.Output, x.H.Output, x.W.Output),
            new Dim3(x.D.Kernel, x.H.Kernel, x.W.Kernel), new Dim3(x.D.Stride, x.H.Stride, x.W.Stride),
            new Dim3(x.D.Dilation, x.H.Dilation, x.W.Dilation), new Dim3(x.D.Pad, x.H.Pad, x.W.Pad));

    /// <summary>Small geometries: batch 1-3, groups 1-3, 1-3 channels per group on each side, 1-D to 3-D.</summary>
    public static Gen<ConvCase> Small(bool transposed) =>
        from batch in Gen.Choose(1, 3)
        from groups in Gen.Choose(1, 3)
        from cg in Gen.Choose(1, 3)
        from ocg in Gen.Choose(1, 3)
        from x in SpatialGen(transposed)
        from bias in Gen.Elements(true, false)
        from seed in Gen.Choose(0, int.MaxValue)
        select new ConvCase(Plan(batch, groups, groups * cg, groups * ocg, x), bias, seed);

    /// <summary>Depthwise: groups == in channels (1-4), channel multiplier 1-3.</summary>
    public static Gen<ConvCase> Depthwise(bool transposed) =>
        from batch in Gen.Choose(1, 3)
        from channels in Gen.Choose(1, 4)
        from mult in Gen.Choose(1, 3)
        from x in SpatialGen(transposed)
        from bias in Gen.Elements(true, false)
        from seed in Gen.Choose(0, int.MaxValue)
        select new ConvCase(Plan(batch, channels, channels, channels * mult, x), bias, seed);

    public static Gen<ConvCase> Any(bool transposed) =>
        Gen.Frequency((3, Small(transposed)), (1, Depthwise(transposed)));

    public static float[] Random(int length, Random rng)
    {
        var a = new float[length];
        for (int i = 0; i < a.Length; i++) a[i] = (float)(rng.NextDouble() * 2 - 1);
        return a;
    }

    public static int WeightLength(ConvPlan p, bool transposed) =>
        (transposed ? p.InChannels * (p.OutChannels / p.Groups) : p.OutChannels * (p.InChannels / p.Groups)) * (int)p.Kernel.Volume;

    public sealed record Data(float[] Input, float[] Weight, float[]? Bias, int OutputLength);

    public static Data MakeData(ConvCase c, bool transposed)
    {
        var p = c.Plan;
        var rng = new Random(c.Seed);
        return new Data(
            Random(p.Batch * p.InChannels * (int)p.Input.Volume, rng),
            Random(WeightLength(p, transposed), rng),
            c.HasBias ? Random(p.OutChannels, rng) : null,
            p.Batch * p.OutChannels * (int)p.Output.Volume);
    }

    /// <summary>Runs the kernel into a NaN-filled buffer, so any element it fails to write shows up.</summary>
    public static float[] Run(ConvCase c, Data d, bool transposed, bool? fast = null)
    {
        var output = new float[d.OutputLength];
        Array.Fill(output, float.NaN);
        var bias = d.Bias ?? [];
        if (transposed)
        {
            if (fast is bool f) Convolution.Transposed(c.Plan, d.Input, d.Weight, bias, output, f);
            else Convolution.Transposed(c.Plan, d.Input, d.Weight, bias, output);
        }
        else
        {
            if (fast is bool f) Convolution.Forward(c.Plan, d.Input, d.Weight, bias, output, f);
            else Convolution.Forward(c.Plan, d.Input, d.Weight, bias, output);
        }
        return output;
    }

    /// <summary>
    /// Runs <paramref name="run"/> at 1, 2 and 3 threads and fails unless the three results agree
    /// bit for bit. Callers change <see cref="Parallelism.Threads"/>, so they belong to the "Parallelism" collection.
    /// </summary>
    public static void AssertSameBitsForThreads123(ConvCase c, Func<float[]> run)
    {
        int saved = Parallelism.Threads;
        try
        {
            Parallelism.Threads = 1;
            var one = run();
            Parallelism.Threads = 2;
            var two = run();
            Parallelism.Threads = 3;
            var three = run();
            for (int i = 0; i < one.Length; i++)
                if (BitConverter.SingleToInt32Bits(one[i]) != BitConverter.SingleToInt32Bits(two[i])
                    || BitConverter.SingleToInt32Bits(two[i]) != BitConverter.SingleToInt32Bits(three[i]))
                    Assert.Fail($"{c}: element {i} differs: {one[i]:R} / {two[i]:R} / {three[i]:R}");
        }
        finally
        {
            Parallelism.Threads = saved;
        }
    }

    /// <summary>Asserts agreement with the double-precision reference, to float rounding of the terms' magnitude.</summary>
    public static void CheckAgainstReference(ConvCase c, bool transposed, bool? fast = null)
    {
        var d = MakeData(c, transposed);
        var actual = Run(c, d, transposed, fast);
        var (expected, magnitude) = transposed
            ? ReferenceConv.Transposed(c.Plan, d.Input, d.Weight, d.Bias)
            : ReferenceConv.Forward(c.Plan, d.Input, d.Weight, d.Bias);
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < actual.Length; i++)
        {
            double tol = 1e-6 + 1e-5 * magnitude[i];
            if (!(Math.Abs(actual[i] - expected[i]) <= tol))
                Assert.Fail($"{c}: element {i} is {actual[i]}, expected {expected[i]} (tolerance {tol}).");
        }
    }
}

/// <summary>Forward and transposed convolution kernels against the reference loops.</summary>
public class ConvKernelTests
{
    [Property(MaxTest = 300)]
    public Property Forward_matches_reference() =>
        Prop.ForAll(ConvCases.Any(false).ToArbitrary(), c => ConvCases.CheckAgainstReference(c, false));

    [Property(MaxTest = 300)]
    public Property Transposed_matches_reference() =>
        Prop.ForAll(ConvCases.Any(true).ToArbitrary(), c => ConvCases.CheckAgainstReference(c, true));

    [Property(MaxTest = 100)]
    public Property Forward_depthwise_matches_reference() =>
        Prop.ForAll(ConvCases.Depthwise(false).ToArbitrary(), c => ConvCases.CheckAgainstReference(c, false));

    [Property(MaxTest = 150)]
    public Property Portable_forward_matches_reference() =>
        Prop.ForAll(ConvCases.Any(false).ToArbitrary(), c => ConvCases.CheckAgainstReference(c, false, fast: false));

    [Property(MaxTest = 150)]
    public Property Portable_transposed_matches_reference() =>
        Prop.ForAll(ConvCases.Any(true).ToArbitrary(), c => ConvCases.CheckAgainstReference(c, true, fast: false));

    [Property(MaxTest = 100)]
    public Property Simd_path_agrees_with_portable_fallback() =>
        Prop.ForAll(ConvCases.Any(false).ToArbitrary(), ConvCases.Any(true).ToArbitrary(), (f, t) =>
        {
            foreach (var (c, transposed) in new[] { (f, false), (t, true) })
            {
                var d = ConvCases.MakeData(c, transposed);
                var simd = ConvCases.Run(c, d, transposed, fast: true);
                var portable = ConvCases.Run(c, d, transposed, fast: false);
                for (int i = 0; i < simd.Length; i++)
                    Assert.True(Math.Abs(simd[i] - portable[i]) <= 1e-4 * (1 + Math.Abs(portable[i])),
                        $"{c} transposed={transposed}: element {i} simd {simd[i]} portable {portable[i]}");
            }
        });

    // Shapes big enough to cross every blocking edge: K above one K block (576 = 3 × 192), M above
    // the 128-row macro block and not a multiple of 4, column counts off the 24-wide panels and the
    // 240-column work items, K-block accumulation with bias, stride-2 im2col, the 1×1 direct path.
    public static TheoryData<string, bool, ConvPlan> LargerShapes() => new()
    {
        { "64->64 3x3 p1 20x20", false, Conv2d(1, 1, 64, 64, 20, 20, 3, 1, 1) },
        { "3->16 7x7 s2 p3 40x40", false, Conv2d(2, 1, 3, 16, 40, 40, 7, 2, 3) },
        { "3->16 3x3 s2 31x33", false, Conv2d(1, 1, 3, 16, 31, 33, 3, 2, 0) },
        { "32->136 3x3 p1 9x11", false, Conv2d(1, 1, 32, 136, 9, 11, 3, 1, 1) },
        { "1x1 64->30 13x17", false, Conv2d(2, 1, 64, 30, 13, 17, 1, 1, 0) },
        { "1x1 s2 24->40 15x15", false, Conv2d(1, 1, 24, 40, 15, 15, 1, 2, 0) },
        { "grouped 4 48->64 3x3 p1 12x12", false, Conv2d(1, 4, 48, 64, 12, 12, 3, 1, 1) },
        { "depthwise 32 x2 3x3 p1 30x30", false, Conv2d(1, 32, 32, 64, 30, 30, 3, 1, 1) },
        { "depthwise 24 5x5 s2 p2 33x31", false, Conv2d(1, 24, 24, 24, 33, 31, 5, 2, 2) },
        { "depthwise 16 3x3 p1 9x70", false, Conv2d(1, 16, 16, 16, 9, 70, 3, 1, 1) },
        { "depthwise 8 x3 3x3 s2 p1 7x81", false, Conv2d(2, 8, 8, 24, 7, 81, 3, 2, 1) },
        { "depthwise 6 5x5 p2 11x45", false, Conv2d(1, 6, 6, 6, 11, 45, 5, 1, 2) },
        { "depthwise 4 3x3 no pad 8x50", false, Conv2d(1, 4, 4, 8, 8, 50, 3, 1, 0) },
        { "depthwise 4 3x3 dil 2 p2 8x50", false, new ConvPlan(1, 4, 4, 4, new Dim3(1, 8, 50), new Dim3(1, 8, 50), new Dim3(1, 3, 3), Dim3.All(1), new Dim3(1, 2, 2), new Dim3(0, 2, 2)) },
        { "depthwise 3-D 2 3x3x3 p1 8x180x190 (row padding)", false, new ConvPlan(1, 2, 2, 2, new Dim3(8, 180, 190), new Dim3(8, 180, 190), Dim3.All(3), Dim3.All(1), Dim3.All(1), Dim3.All(1)) },
        { "depthwise 1-D 2 k3 p1 70000 (checked edges)", false, new ConvPlan(1, 2, 2, 2, new Dim3(1, 1, 70000), new Dim3(1, 1, 70000), new Dim3(1, 1, 3), Dim3.All(1), Dim3.All(1), new Dim3(0, 0, 1)) },
        { "conv3d 3->8 3x3x3 p1 6x10x10", false, new ConvPlan(1, 1, 3, 8, new Dim3(6, 10, 10), new Dim3(6, 10, 10), Dim3.All(3), Dim3.All(1), Dim3.All(1), Dim3.All(1)) },
        { "conv1d 3->16 k3 s2 224", false, new ConvPlan(1, 1, 3, 16, new Dim3(1, 1, 224), new Dim3(1, 1, 111), new Dim3(1, 1, 3), new Dim3(1, 1, 2), Dim3.All(1), Dim3.All(0)) },
        { "T 128->64 k4 s2 p1 8x8", true, ConvT2d(1, 1, 128, 64, 8, 8, 4, 2, 1, 0) },
        { "T 3->16 k3 s2 20x20", true, ConvT2d(1, 1, 3, 16, 20, 20, 3, 2, 0, 0) },
        { "T 300->8 k3 s1 p1 6x6", true, ConvT2d(1, 1, 300, 8, 6, 6, 3, 1, 1, 0) },
        { "T 1x1 40->36 9x9", true, ConvT2d(2, 1, 40, 36, 9, 9, 1, 1, 0, 0) },
        { "T grouped 2 16->24 k3 s2 p1 op1 7x7", true, ConvT2d(2, 2, 16, 24, 7, 7, 3, 2, 1, 1) },
    };

    internal static ConvPlan Conv2d(int batch, int groups, int cin, int cout, int h, int w, int k, int s, int p) =>
        new(batch, groups, cin, cout, new Dim3(1, h, w),
            new Dim3(1, ReferenceConv.ForwardExtent(h, k, s, 1, p, p), ReferenceConv.ForwardExtent(w, k, s, 1, p, p)),
            new Dim3(1, k, k), new Dim3(1, s, s), Dim3.All(1), new Dim3(0, p, p));

    internal static ConvPlan ConvT2d(int batch, int groups, int cin, int cout, int h, int w, int k, int s, int p, int op) =>
        new(batch, groups, cin, cout, new Dim3(1, h, w),
            new Dim3(1, ReferenceConv.TransposedExtent(h, k, s, 1, p, p, op), ReferenceConv.TransposedExtent(w, k, s, 1, p, p, op)),
            new Dim3(1, k, k), new Dim3(1, s, s), Dim3.All(1), new Dim3(0, p, p));

    [Theory]
    [MemberData(nameof(LargerShapes))]
    public void Larger_shapes_match_reference(string name, bool transposed, ConvPlan plan)
    {
        _ = name;
        foreach (bool bias in new[] { true, false })
        {
            ConvCases.CheckAgainstReference(new ConvCase(plan, bias, 1234), transposed);
            ConvCases.CheckAgainstReference(new ConvCase(plan, bias, 99), transposed, fast: false);
        }
    }

    private static readonly ConvPlan Small2d = new(2, 2, 4, 6, new Dim3(1, 5, 5), new Dim3(1, 3, 3), new Dim3(1, 3, 3), Dim3.All(1), Dim3.All(1), Dim3.All(0));

    [Theory]
    [InlineData(false, "input")]
    [InlineData(false, "weight")]
    [InlineData(false, "bias")]
    [InlineData(false, "output")]
    [InlineData(true, "input")]
    [InlineData(true, "weight")]
    [InlineData(true, "bias")]
    [InlineData(true, "output")]
    public void Too_short_spans_throw_naming_the_span(bool transposed, string span)
    {
        var p = Small2d;
        int inLen = p.Batch * p.InChannels * 25;
        int wLen = ConvCases.WeightLength(p, transposed);
        int outVol = transposed ? 1 * 5 * 5 : 9;
        var tp = transposed ? p with { Input = new Dim3(1, 3, 3), Output = new Dim3(1, 5, 5) } : p;
        if (transposed) inLen = p.Batch * p.InChannels * 9;
        int outLen = p.Batch * p.OutChannels * outVol;
        var input = new float[span == "input" ? inLen - 1 : inLen];
        var weight = new float[span == "weight" ? wLen - 1 : wLen];
        var bias = new float[span == "bias" ? p.OutChannels - 1 : p.OutChannels];
        var output = new float[span == "output" ? outLen - 1 : outLen];
        var ex = Assert.Throws<ArgumentException>(() =>
        {
            if (transposed) Convolution.Transposed(tp, input, weight, bias, output);
            else Convolution.Forward(tp, input, weight, bias, output);
        });
        Assert.Equal(span, ex.ParamName);
        if (span != "bias")
        {
            Assert.Contains((span switch { "input" => inLen, "weight" => wLen, _ => outLen }).ToString(), ex.Message);
        }
        // The exact lengths pass.
        var ok = new float[outLen];
        if (transposed) Convolution.Transposed(tp, new float[inLen], new float[wLen], new float[p.OutChannels], ok);
        else Convolution.Forward(tp, new float[inLen], new float[wLen], [], ok);
    }

    [Fact]
    public void Bias_longer_than_out_channels_throws()
    {
        var p = Small2d;
        Assert.Throws<ArgumentException>(() => Convolution.Forward(p, new float[200], new float[200], new float[p.OutChannels + 1], new float[200]));
    }

    public static TheoryData<ConvPlan> InvalidPlans() => new()
    {
        Small2d with { Groups = 3 },
        Small2d with { Groups = 0 },
        Small2d with { InChannels = 0 },
        Small2d with { Stride = new Dim3(1, 0, 1) },
        Small2d with { Dilation = new Dim3(0, 1, 1) },
        Small2d with { Kernel = new Dim3(1, 0, 3) },
        Small2d with { Output = new Dim3(1, 0, 3) },
        Small2d with { Input = new Dim3(1, -1, 3) },
        Small2d with { PadLo = new Dim3(0, -1, 0) },
        Small2d with { Batch = -1 },
    };

    [Theory]
    [MemberData(nameof(InvalidPlans))]
    public void Invalid_plans_throw(ConvPlan plan)
    {
        var big = new float[1000];
        Assert.Throws<ArgumentException>(() => Convolution.Forward(plan, big, big, [], new float[1000]));
        Assert.Throws<ArgumentException>(() => Convolution.Transposed(plan, big, big, [], new float[1000]));
    }

    [Fact]
    public void Empty_batch_writes_nothing()
    {
        var p = Small2d with { Batch = 0 };
        Convolution.Forward(p, [], new float[ConvCases.WeightLength(p, false)], [], []);
        Convolution.Transposed(p, [], new float[ConvCases.WeightLength(p, true)], [], []);
    }

    [Fact]
    public void Padding_wider_than_the_input_gives_bias_only_where_no_tap_lands()
    {
        // 1-D, input 2, kernel 3, pad 5: most outputs see only padding.
        var p = new ConvPlan(1, 1, 1, 2, new Dim3(1, 1, 2), new Dim3(1, 1, 10), new Dim3(1, 1, 3), Dim3.All(1), Dim3.All(1), new Dim3(0, 0, 5));
        ConvCases.CheckAgainstReference(new ConvCase(p, true, 5), false);
        ConvCases.CheckAgainstReference(new ConvCase(p with { Groups = 1, OutChannels = 3 }, true, 6), false);
    }
}

/// <summary>Thread-count invariance. Every test that changes <see cref="Parallelism.Threads"/> lives in this collection.</summary>
[Collection("Parallelism")]
public class ConvKernelThreadingTests
{
    private static void AssertBitIdentical(ConvCase c, bool transposed)
    {
        var d = ConvCases.MakeData(c, transposed);
        ConvCases.AssertSameBitsForThreads123(c, () => ConvCases.Run(c, d, transposed));
    }

    [Property(MaxTest = 60)]
    public Property Threads_1_and_2_are_bit_identical() =>
        Prop.ForAll(ConvCases.Any(false).ToArbitrary(), ConvCases.Any(true).ToArbitrary(), (f, t) =>
        {
            AssertBitIdentical(f, false);
            AssertBitIdentical(t, true);
        });

    public static TheoryData<string, bool, ConvPlan> ParallelShapes() => new()
    {
        // Large enough that the work really is split (above the inline threshold), including
        // the output-channel split of single-block problems.
        { "64->64 3x3 p1 20x20", false, ConvKernelTests.Conv2d(1, 1, 64, 64, 20, 20, 3, 1, 1) },
        { "256->72 3x3 p1 7x7", false, ConvKernelTests.Conv2d(1, 1, 256, 72, 7, 7, 3, 1, 1) },
        { "128->200 3x3 s2 p1 14x14 b2", false, ConvKernelTests.Conv2d(2, 1, 128, 200, 14, 14, 3, 2, 1) },
        { "Winograd 96->96 3x3 p1 14x14 (3 runs: output channels split on 2 threads)", false, ConvKernelTests.Conv2d(1, 1, 96, 96, 14, 14, 3, 1, 1) },
        { "3->16 7x7 s2 p3 40x40 b2", false, ConvKernelTests.Conv2d(2, 1, 3, 16, 40, 40, 7, 2, 3) },
        { "1x1 64->30 13x17", false, ConvKernelTests.Conv2d(1, 1, 64, 30, 13, 17, 1, 1, 0) },
        { "depthwise 32 x2 p1 30x30", false, ConvKernelTests.Conv2d(1, 32, 32, 64, 30, 30, 3, 1, 1) },
        { "depthwise 16 s2 p1 40x70", false, ConvKernelTests.Conv2d(1, 16, 16, 16, 40, 70, 3, 2, 1) },
        { "depthwise 3-D 2 p1 8x180x190", false, new ConvPlan(1, 2, 2, 2, new Dim3(8, 180, 190), new Dim3(8, 180, 190), Dim3.All(3), Dim3.All(1), Dim3.All(1), Dim3.All(1)) },
        { "T 128->64 k4 s2 p1 8x8", true, ConvKernelTests.ConvT2d(1, 1, 128, 64, 8, 8, 4, 2, 1, 0) },
        { "T 3->16 k3 s2 30x30", true, ConvKernelTests.ConvT2d(1, 1, 3, 16, 30, 30, 3, 2, 0, 0) },
        { "T 1x1 40->36 19x19", true, ConvKernelTests.ConvT2d(1, 1, 40, 36, 19, 19, 1, 1, 0, 0) },
    };

    [Theory]
    [MemberData(nameof(ParallelShapes))]
    public void Larger_shapes_are_bit_identical_across_thread_counts(string name, bool transposed, ConvPlan plan)
    {
        _ = name;
        AssertBitIdentical(new ConvCase(plan, true, 42), transposed);
        AssertBitIdentical(new ConvCase(plan, false, 43), transposed);
    }
}
