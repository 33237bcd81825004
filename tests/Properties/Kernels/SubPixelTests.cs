using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Functional.Kernels;

namespace Functional.Properties.Kernels;

/// <summary>Generators for strided transposed convolutions (at least one stride above 1), the sub-pixel kernel's domain.</summary>
internal static class SubPixelCases
{
    // One axis: kernel 1-5 (below, at and above the stride), stride 1-3, dilation 1-3, padding up to one past
    // dilation·(kernel-1), output_padding below max(stride, dilation); the output is PyTorch's extent, sometimes
    // one less or one or two more (plan.Output is authoritative).
    private static Gen<ConvCases.Axis> AxisGen(int maxInput) =>
        from k in Gen.Choose(1, 5)
        from s in Gen.Choose(1, 3)
        from d in Gen.Frequency((4, Gen.Constant(1)), (1, Gen.Choose(2, 3)))
        from pad in Gen.Choose(0, d * (k - 1) + 1)
        from input in Gen.Choose(1, maxInput)
        from outPad in Gen.Choose(0, Math.Max(s, d) - 1)
        from delta in Gen.Frequency((6, Gen.Constant(0)), (1, Gen.Constant(-1)), (1, Gen.Constant(1)), (1, Gen.Constant(2)))
        select new ConvCases.Axis(input, Math.Max(1, ReferenceConv.TransposedExtent(input, k, s, d, pad, pad, outPad) + delta), k, s, d, pad);

    private static Gen<(ConvCases.Axis D, ConvCases.Axis H, ConvCases.Axis W)> SpatialGen(int maxInput) =>
        ConvCases.Spatial(Gen.Frequency((2, Gen.Constant(1)), (4, Gen.Constant(2)), (1, Gen.Constant(3))), AxisGen(maxInput), AxisGen(maxInput), AxisGen(maxInput));

    private static bool Strided(ConvPlan p) => p.Stride != Dim3.All(1);

    /// <summary>Few channels (1-5 per group each side), groups 1-3, batch 1-2, 1-D to 3-D, at least one stride above 1.</summary>
    public static Gen<ConvCase> Small =>
        (from batch in Gen.Choose(1, 2)
         from groups in Gen.Choose(1, 3)
         from cg in Gen.Choose(1, 5)
         from ocg in Gen.Choose(1, 5)
         from x in SpatialGen(9)
         from bias in Gen.Elements(true, false)
         from seed in Gen.Choose(0, int.MaxValue)
         select new ConvCase(ConvCases.Plan(batch, groups, groups * cg, groups * ocg, x), bias, seed)).Where(c => Strided(c.Plan));

    /// <summary>
    /// More channels (12-72 in, 4-40 out per group): several micro-tiles, residues sharing a GEMM call, output-channel
    /// splits of few-block problems, and K blocks past 256 when a phase has several taps.
    /// </summary>
    public static Gen<ConvCase> Wide =>
        (from batch in Gen.Choose(1, 2)
         from groups in Gen.Frequency((3, Gen.Constant(1)), (1, Gen.Constant(2)))
         from cg in Gen.Choose(12, 72)
         from ocg in Gen.Choose(4, 40)
         from x in SpatialGen(6)
         from bias in Gen.Elements(true, false)
         from seed in Gen.Choose(0, int.MaxValue)
         select new ConvCase(ConvCases.Plan(batch, groups, groups * cg, groups * ocg, x), bias, seed)).Where(c => Strided(c.Plan));

    public static Gen<ConvCase> Any => Gen.Frequency((3, Small), (1, Wide));
}

/// <summary>Runs <see cref="SubPixel.Transposed"/> directly (any geometry, inside or outside <see cref="SubPixel.Applies"/>).</summary>
internal static class SubPixelRun
{
    /// <summary>The sub-pixel kernel into a NaN-filled buffer, so any element it fails to write shows up.</summary>
    public static unsafe float[] Direct(ConvCase c, ConvCases.Data d)
    {
        var output = new float[d.OutputLength];
        Array.Fill(output, float.NaN);
        fixed (float* pin = d.Input, pw = d.Weight, pb = d.Bias, pout = output)
            SubPixel.Transposed(c.Plan, pin, pw, d.Bias is null ? null : pb, pout);
        return output;
    }

    /// <summary>Direct sub-pixel result against the double-precision reference, to float rounding of the terms' magnitude.</summary>
    public static void CheckAgainstReference(ConvCase c)
    {
        var d = ConvCases.MakeData(c, true);
        var actual = Direct(c, d);
        var (expected, magnitude) = ReferenceConv.Transposed(c.Plan, d.Input, d.Weight, d.Bias);
        for (int i = 0; i < actual.Length; i++)
        {
            double tol = 1e-6 + 1e-5 * magnitude[i];
            if (!(Math.Abs(actual[i] - expected[i]) <= tol))
                Assert.Fail($"{c}: element {i} is {actual[i]}, expected {expected[i]} (tolerance {tol}).");
        }
    }

    /// <summary>Direct sub-pixel result against the portable col2im path (the fast=false dispatch).</summary>
    public static void CheckAgainstPortable(ConvCase c)
    {
        var d = ConvCases.MakeData(c, true);
        var simd = Direct(c, d);
        var portable = ConvCases.Run(c, d, true, fast: false);
        for (int i = 0; i < simd.Length; i++)
            Assert.True(Math.Abs(simd[i] - portable[i]) <= 1e-4 * (1 + Math.Abs(portable[i])),
                $"{c}: element {i} sub-pixel {simd[i]} portable {portable[i]}");
    }
}

/// <summary>
/// The sub-pixel transposed convolution against the double-precision reference (NaN-prefilled outputs) and the portable
/// col2im path: called directly on every generated strided shape (kernels below the stride and few channels included,
/// which the dispatch leaves to col2im), and through <see cref="Convolution.Transposed(in ConvPlan, ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float})"/> where it applies.
/// The kernel needs AVX2/FMA: without them the direct tests pass vacuously (the dispatch never picks it).
/// </summary>
public class SubPixelTests
{
    [Property(MaxTest = 300)]
    public Property Small_strided_shapes_match_reference() =>
        Prop.ForAll(SubPixelCases.Small.ToArbitrary(), c => { if (Gemm.FastSupported) SubPixelRun.CheckAgainstReference(c); });

    [Property(MaxTest = 80)]
    public Property Wide_strided_shapes_match_reference() =>
        Prop.ForAll(SubPixelCases.Wide.ToArbitrary(), c => { if (Gemm.FastSupported) SubPixelRun.CheckAgainstReference(c); });

    [Property(MaxTest = 100)]
    public Property Agrees_with_portable_col2im_path() =>
        Prop.ForAll(SubPixelCases.Any.ToArbitrary(), c => { if (Gemm.FastSupported) SubPixelRun.CheckAgainstPortable(c); });

    [Property(MaxTest = 100)]
    public Property Dispatch_gives_the_sub_pixel_result_where_it_applies() =>
        Prop.ForAll(SubPixelCases.Wide.ToArbitrary(), c =>
        {
            if (!SubPixel.Applies(c.Plan, true)) return;
            var d = ConvCases.MakeData(c, true);
            var direct = SubPixelRun.Direct(c, d);
            var dispatched = ConvCases.Run(c, d, true);
            for (int i = 0; i < direct.Length; i++)
                Assert.Equal(BitConverter.SingleToInt32Bits(direct[i]), BitConverter.SingleToInt32Bits(dispatched[i]));
            ConvCases.CheckAgainstReference(c, true);
        });

    [Fact]
    public void Applies_only_where_measured_faster()
    {
        var i = ConvKernelTests.ConvT2d(1, 1, 128, 64, 32, 32, 4, 2, 1, 0);
        var c = new ConvPlan(1, 1, 3, 16, new Dim3(1, 1, 224), new Dim3(1, 1, 449), new Dim3(1, 1, 3), new Dim3(1, 1, 2), Dim3.All(1), Dim3.All(0));
        var d = ConvKernelTests.ConvT2d(1, 1, 3, 16, 224, 224, 3, 2, 0, 0);
        Assert.Equal(Gemm.FastSupported, SubPixel.Applies(i, true));
        Assert.Equal(Gemm.FastSupported, SubPixel.Applies(c, true));
        Assert.Equal(Gemm.FastSupported, SubPixel.Applies(d, true));
        Assert.False(SubPixel.Applies(i, false));                                                     // portable path
        Assert.False(SubPixel.Applies(ConvKernelTests.ConvT2d(1, 1, 128, 64, 32, 32, 3, 1, 1, 0), true));  // stride 1
        Assert.False(SubPixel.Applies(ConvKernelTests.ConvT2d(1, 1, 128, 64, 32, 32, 1, 2, 0, 1), true));  // kernel < stride
        Assert.False(SubPixel.Applies(i with { Dilation = new Dim3(1, 2, 2) }, true));                  // dilation 2, stride 2: empty phases
        Assert.False(SubPixel.Applies(ConvKernelTests.ConvT2d(1, 1, 128, 4, 32, 32, 4, 2, 1, 0), true));   // 4 output channels
        Assert.False(SubPixel.Applies(ConvKernelTests.ConvT2d(1, 1, 512, 256, 8, 8, 4, 2, 1, 0), true));   // big weight, 8×8 input
    }

    // Realistic shapes: the benchmark workloads (i scaled down in extent), K blocks past 128, kernels below, at and
    // above the stride, output_padding, 3-D, grouped, and the output-channel splits (few columns, or A rows past L2).
    public static TheoryData<string, ConvPlan> Shapes() => new()
    {
        { "i: 128->64 k4 s2 p1 12x12", ConvKernelTests.ConvT2d(1, 1, 128, 64, 12, 12, 4, 2, 1, 0) },
        { "c: 1-D 3->16 k3 s2 224", new ConvPlan(1, 1, 3, 16, new Dim3(1, 1, 224), new Dim3(1, 1, 449), new Dim3(1, 1, 3), new Dim3(1, 1, 2), Dim3.All(1), Dim3.All(0)) },
        { "d: 3->16 k3 s2 40x37", ConvKernelTests.ConvT2d(1, 1, 3, 16, 40, 37, 3, 2, 0, 0) },
        { "160->24 k4 s2 p1 7x9 b2 (K blocks of 107)", ConvKernelTests.ConvT2d(2, 1, 160, 24, 7, 9, 4, 2, 1, 0) },
        { "512->64 k4 s2 p1 4x5 (A rows past L2)", ConvKernelTests.ConvT2d(1, 1, 512, 64, 4, 5, 4, 2, 1, 0) },
        { "64->32 k2 s2 11x13", ConvKernelTests.ConvT2d(1, 1, 64, 32, 11, 13, 2, 2, 0, 0) },
        { "48->20 k1 s2 op1 9x9 (empty phases)", ConvKernelTests.ConvT2d(1, 1, 48, 20, 9, 9, 1, 2, 0, 1) },
        { "40->36 k5 s3 p2 op2 6x7", ConvKernelTests.ConvT2d(1, 1, 40, 36, 6, 7, 5, 3, 2, 2) },
        { "24->12 k2 s3 op2 8x8 (empty phases, stride 3)", ConvKernelTests.ConvT2d(1, 1, 24, 12, 8, 8, 2, 3, 0, 2) },
        { "grouped 4 64->96 k3 s2 p1 op1 8x8", ConvKernelTests.ConvT2d(2, 4, 64, 96, 8, 8, 3, 2, 1, 1) },
        { "64->72 k3 s2 3x3 (channel split)", ConvKernelTests.ConvT2d(1, 1, 64, 72, 3, 3, 3, 2, 0, 0) },
        { "3-D 24->12 k4 s2 p1 5x6x7", new ConvPlan(1, 1, 24, 12, new Dim3(5, 6, 7), new Dim3(10, 12, 14), Dim3.All(4), Dim3.All(2), Dim3.All(1), Dim3.All(1)) },
        { "dilated 32->16 k3 s2 d2 p2 9x10, output past natural", new ConvPlan(1, 1, 32, 16, new Dim3(1, 9, 10), new Dim3(1, 19, 21), new Dim3(1, 3, 3), new Dim3(1, 2, 2), new Dim3(1, 2, 2), new Dim3(0, 2, 2)) },
        { "dilated 32->16 k3 s2 d3 p1 9x10", new ConvPlan(1, 1, 32, 16, new Dim3(1, 9, 10), new Dim3(1, 21, 23), new Dim3(1, 3, 3), new Dim3(1, 2, 2), new Dim3(1, 3, 3), new Dim3(0, 1, 1)) },
        { "mixed strides 30->30 k4x3 s(3,1) 7x40", new ConvPlan(1, 1, 30, 30, new Dim3(1, 7, 40), new Dim3(1, 22, 42), new Dim3(1, 4, 3), new Dim3(1, 3, 1), Dim3.All(1), Dim3.All(0)) },
        { "large padding 16->16 k4 s2 p5 10x10", ConvKernelTests.ConvT2d(1, 1, 16, 16, 10, 10, 4, 2, 5, 1) },
        { "depthwise 16 x2 k4 s2 p1 20x20", ConvKernelTests.ConvT2d(1, 16, 16, 32, 20, 20, 4, 2, 1, 0) },
        { "batch passes of one sample: 256->8 k2 s2 64x64 b2", ConvKernelTests.ConvT2d(2, 1, 256, 8, 64, 64, 2, 2, 0, 0) },
        { "batch passes of 2 + 1 samples: 128->8 k3 s2 p1 56x56 b3", ConvKernelTests.ConvT2d(3, 1, 128, 8, 56, 56, 3, 2, 1, 1) },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Larger_shapes_match_reference_and_portable_path(string name, ConvPlan plan)
    {
        _ = name;
        foreach (bool bias in new[] { true, false })
        {
            var c = new ConvCase(plan, bias, bias ? 17 : 18);
            ConvCases.CheckAgainstReference(c, true);   // whichever path the dispatch picks
            if (!Gemm.FastSupported) continue;
            SubPixelRun.CheckAgainstReference(c);
            SubPixelRun.CheckAgainstPortable(c);
        }
    }
}

/// <summary>The sub-pixel path gives bit-identical results for 1, 2 and 3 threads.</summary>
[Collection("Parallelism")]
public class SubPixelThreadingTests
{
    private static void AssertBitIdentical(ConvCase c)
    {
        var d = ConvCases.MakeData(c, true);
        ConvCases.AssertSameBitsForThreads123(c, () => SubPixelRun.Direct(c, d));
    }

    [Property(MaxTest = 40)]
    public Property Threads_1_2_3_are_bit_identical() =>
        Prop.ForAll(SubPixelCases.Wide.ToArbitrary(), AssertBitIdentical);

    public static TheoryData<string, ConvPlan> Shapes() => new()
    {
        // Large enough to be split across threads, including the output-channel split (few column blocks).
        { "i: 128->64 k4 s2 p1 32x32", ConvKernelTests.ConvT2d(1, 1, 128, 64, 32, 32, 4, 2, 1, 0) },
        { "d: 3->16 k3 s2 60x60", ConvKernelTests.ConvT2d(1, 1, 3, 16, 60, 60, 3, 2, 0, 0) },
        { "64->72 k3 s2 3x3 (channel split)", ConvKernelTests.ConvT2d(1, 1, 64, 72, 3, 3, 3, 2, 0, 0) },
        { "160->24 k4 s2 p1 7x9 b2", ConvKernelTests.ConvT2d(2, 1, 160, 24, 7, 9, 4, 2, 1, 0) },
        { "512->64 k4 s2 p1 4x5 (A rows past L2)", ConvKernelTests.ConvT2d(1, 1, 512, 64, 4, 5, 4, 2, 1, 0) },
        { "3-D 24->12 k4 s2 p1 5x6x7", new ConvPlan(1, 1, 24, 12, new Dim3(5, 6, 7), new Dim3(10, 12, 14), Dim3.All(4), Dim3.All(2), Dim3.All(1), Dim3.All(1)) },
        { "batch passes: 128->8 k3 s2 p1 56x56 b3", ConvKernelTests.ConvT2d(3, 1, 128, 8, 56, 56, 3, 2, 1, 1) },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Larger_shapes_are_bit_identical_across_thread_counts(string name, ConvPlan plan)
    {
        _ = name;
        AssertBitIdentical(new ConvCase(plan, true, 42));
        AssertBitIdentical(new ConvCase(plan, false, 43));
    }
}
