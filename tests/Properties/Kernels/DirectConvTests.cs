using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Functional.Kernels;

namespace Functional.Properties.Kernels;

/// <summary>
/// Generators for the direct few-channel convolution (<see cref="DirectConv"/>): 2-4 input channels per
/// group (up to 12 when grouped), 1-13 output channels per group (so the 4-channel register blocks end part-full), output rows
/// 16-90 wide (every column-tile plan, with and without a shifted-back last tile), strides 1-3,
/// dilations 1-3, padding up to the kernel size, 1-D to 3-D (kernels of 2 or more taps), output sometimes
/// one past PyTorch's extent.
/// </summary>
internal static class DirectCases
{
    /// <summary>The width axis: output 17-90 columns, kernel 1-7.</summary>
    private static Gen<ConvCases.Axis> Width =>
        from k in Gen.Choose(1, 7)
        from s in Gen.Choose(1, 3)
        from d in Gen.Choose(1, 3)
        from padLo in Gen.Choose(0, k)
        from padHi in Gen.Choose(0, k)
        from ow in Gen.Choose(17, 90)
        from delta in Gen.Frequency((6, Gen.Constant(0)), (1, Gen.Constant(-1)), (1, Gen.Constant(1)))
        select MakeAxis(k, s, d, padLo, padHi, Math.Max(1, (ow - 1) * s + d * (k - 1) + 1 - padLo - padHi), delta);

    /// <summary>A depth or height axis: input 1-7, kernel 1-4.</summary>
    private static Gen<ConvCases.Axis> Short =>
        from k in Gen.Choose(1, 4)
        from s in Gen.Choose(1, 3)
        from d in Gen.Choose(1, 2)
        from padLo in Gen.Choose(0, k)
        from padHi in Gen.Choose(0, k)
        from input in Gen.Choose(1, 7)
        from delta in Gen.Frequency((6, Gen.Constant(0)), (1, Gen.Constant(-1)), (1, Gen.Constant(1)))
        select MakeAxis(k, s, d, padLo, padHi, Math.Max(input, d * (k - 1) + 1 - padLo - padHi), delta);

    private static ConvCases.Axis MakeAxis(int k, int s, int d, int padLo, int padHi, int input, int delta) =>
        new(input, Math.Max(1, ReferenceConv.ForwardExtent(input, k, s, d, padLo, padHi) + delta), k, s, d, padLo);

    public static Gen<ConvCase> Direct =>
        from batch in Gen.Choose(1, 2)
        from groups in Gen.Frequency((3, Gen.Constant(1)), (1, Gen.Choose(2, 3)))
        from cg in groups == 1 ? Gen.Choose(2, 4) : Gen.Frequency((3, Gen.Choose(2, 4)), (1, Gen.Choose(5, 12)))
        from ocg in Gen.Choose(1, 13)
        from x in ConvCases.Spatial(Gen.Choose(1, 3), Short, Short, Width)
        from bias in Gen.Elements(true, false)
        from seed in Gen.Choose(0, int.MaxValue)
        select new ConvCase(ConvCases.Plan(batch, groups, groups * cg, groups * ocg, x), bias, seed)
        into conv
        where conv.Plan.Kernel.Volume > 1 // a 1×1 kernel keeps the GEMM path
        select conv;

    public static bool TakesDirectPath(ConvPlan p, bool fast) =>
        DirectConv.Applies(p, new ConvGeometry(p.Output, p.Input, p.Kernel, p.Stride, p.Dilation, p.PadLo), fast);

    /// <summary>Runs the direct kernel itself with the given column tiling into a NaN-filled buffer.</summary>
    public static unsafe float[] RunDirect(ConvCase c, ConvCases.Data d, bool wide)
    {
        var p = c.Plan;
        var output = new float[d.OutputLength];
        Array.Fill(output, float.NaN);
        var geo = new ConvGeometry(p.Output, p.Input, p.Kernel, p.Stride, p.Dilation, p.PadLo);
        fixed (float* i = d.Input, w = d.Weight, b = d.Bias, o = output)
            DirectConv.Forward(p, geo, i, w, b, o, wide);
        return output;
    }
}

/// <summary>The direct few-channel convolution against the double-precision reference (NaN-prefilled outputs) and the portable fallback.</summary>
public class DirectConvTests
{
    [Property(MaxTest = 200)]
    public Property Direct_matches_reference() =>
        Prop.ForAll(DirectCases.Direct.ToArbitrary(), c => ConvCases.CheckAgainstReference(c, false));

    [Property(MaxTest = 100)]
    public Property Narrow_tiles_match_reference_and_the_wide_ones()
    {
        // Without AVX-512 the rows are tiled 24 and 16 columns wide; per element the same operations.
        if (!Gemm.FastSupported) return true.ToProperty();
        return Prop.ForAll(DirectCases.Direct.ToArbitrary(), c =>
        {
            var d = ConvCases.MakeData(c, false);
            var narrow = DirectCases.RunDirect(c, d, wide: false);
            var (expected, magnitude) = ReferenceConv.Forward(c.Plan, d.Input, d.Weight, d.Bias);
            for (int i = 0; i < narrow.Length; i++)
            {
                double tol = 1e-6 + 1e-5 * magnitude[i];
                if (!(Math.Abs(narrow[i] - expected[i]) <= tol))
                    Assert.Fail($"{c}: element {i} is {narrow[i]}, expected {expected[i]} (tolerance {tol}).");
            }
            if (System.Runtime.Intrinsics.X86.Avx512F.VL.IsSupported)
            {
                var wide = DirectCases.RunDirect(c, d, wide: true);
                for (int i = 0; i < narrow.Length; i++)
                    Assert.Equal(BitConverter.SingleToInt32Bits(narrow[i]), BitConverter.SingleToInt32Bits(wide[i]));
            }
        });
    }

    [Property(MaxTest = 60)]
    public Property Direct_agrees_with_portable_fallback() =>
        Prop.ForAll(DirectCases.Direct.ToArbitrary(), c =>
        {
            var d = ConvCases.MakeData(c, false);
            var simd = ConvCases.Run(c, d, false, fast: true);
            var portable = ConvCases.Run(c, d, false, fast: false);
            for (int i = 0; i < simd.Length; i++)
                Assert.True(Math.Abs(simd[i] - portable[i]) <= 1e-4 * (1 + Math.Abs(portable[i])),
                    $"{c}: element {i} simd {simd[i]} portable {portable[i]}");
        });

    [Property(MaxTest = 100)]
    public Property Generated_cases_take_the_direct_path_only_when_fast() =>
        Prop.ForAll(DirectCases.Direct.ToArbitrary(), c =>
        {
            Assert.Equal(Gemm.FastSupported, DirectCases.TakesDirectPath(c.Plan, true));
            Assert.False(DirectCases.TakesDirectPath(c.Plan, false));
        });

    public static TheoryData<string, ConvPlan> Shapes() => new()
    {
        { "b-like 3->16 3x3 s2 64x70", ConvKernelTests.Conv2d(1, 1, 3, 16, 64, 70, 3, 2, 0) },
        { "g-like 3->64 7x7 s2 p3 44x64", ConvKernelTests.Conv2d(1, 1, 3, 64, 44, 64, 7, 2, 3) },
        { "3->10 5x5 s1 p2 21x37 b2", ConvKernelTests.Conv2d(2, 1, 3, 10, 21, 37, 5, 1, 2) },
        { "grouped 2 6->22 3x3 s3 p1 30x101", ConvKernelTests.Conv2d(1, 2, 6, 22, 30, 101, 3, 3, 1) },
        { "2->7 11x11 s4 p2 60x131", ConvKernelTests.Conv2d(1, 1, 2, 7, 60, 131, 11, 4, 2) },
        { "h-like 3-D 3->16 3x3x3 p1 5x20x40", new ConvPlan(1, 1, 3, 16, new Dim3(5, 20, 40), new Dim3(5, 20, 40), Dim3.All(3), Dim3.All(1), Dim3.All(1), Dim3.All(1)) },
        { "3-D 2->6 s(1,2,2) d(2,1,3) p(2,1,3) 6x9x70", new ConvPlan(1, 1, 2, 6, new Dim3(6, 9, 70), new Dim3(6, 5, 35), new Dim3(3, 3, 3), new Dim3(1, 2, 2), new Dim3(2, 1, 3), new Dim3(2, 1, 3)) },
        { "1-D 3->64 k7 p3 2000 (channel-block split)", new ConvPlan(1, 1, 3, 64, new Dim3(1, 1, 2000), new Dim3(1, 1, 2000), new Dim3(1, 1, 7), Dim3.All(1), Dim3.All(1), new Dim3(0, 0, 3)) },
        { "1-D 3->16 k3 s2 224", new ConvPlan(1, 1, 3, 16, new Dim3(1, 1, 224), new Dim3(1, 1, 111), new Dim3(1, 1, 3), new Dim3(1, 1, 2), Dim3.All(1), Dim3.All(0)) },
        { "4->5 3x3 s2 dil 2 p2 31x83 b3", new ConvPlan(3, 1, 4, 5, new Dim3(1, 31, 83), new Dim3(1, 16, 42), new Dim3(1, 3, 3), new Dim3(1, 2, 2), new Dim3(1, 2, 2), new Dim3(0, 2, 2)) },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Larger_shapes_match_reference(string name, ConvPlan plan)
    {
        _ = name;
        Assert.Equal(Gemm.FastSupported, DirectCases.TakesDirectPath(plan, true));
        foreach (bool bias in new[] { true, false })
        {
            ConvCases.CheckAgainstReference(new ConvCase(plan, bias, 2024), false);
            ConvCases.CheckAgainstReference(new ConvCase(plan, bias, 7), false, fast: false);
        }
    }

    [Fact]
    public void Stays_within_tolerance_at_realistic_scale()
    {
        // The ResNet stem (3->64, 7x7, stride 2, padding 3) on image-like input, Kaiming-scaled weights.
        var plan = ConvKernelTests.Conv2d(1, 1, 3, 64, 96, 96, 7, 2, 3);
        Assert.Equal(Gemm.FastSupported, DirectCases.TakesDirectPath(plan, true));
        var rng = new Random(11);
        var input = new float[3 * 96 * 96];
        for (int i = 0; i < input.Length; i++) input[i] = (float)(rng.NextDouble() * 4 - 2);
        var weight = new float[64 * 3 * 49];
        double scale = Math.Sqrt(2.0 / (3 * 49)) * Math.Sqrt(3);
        for (int i = 0; i < weight.Length; i++) weight[i] = (float)((rng.NextDouble() * 2 - 1) * scale);
        var bias = new float[64];
        for (int i = 0; i < bias.Length; i++) bias[i] = (float)(rng.NextDouble() - 0.5);
        var output = new float[64 * 48 * 48];
        Array.Fill(output, float.NaN);
        Convolution.Forward(plan, input, weight, bias, output);
        var (expected, magnitude) = ReferenceConv.Forward(plan, input, weight, bias);
        for (int i = 0; i < output.Length; i++)
        {
            double err = Math.Abs(output[i] - expected[i]);
            Assert.True(err <= 1e-6 + 1e-5 * magnitude[i], $"element {i}: {output[i]} vs {expected[i]} (magnitude {magnitude[i]})");
        }
    }

    public static TheoryData<string, ConvPlan> NotDirect() => new()
    {
        { "5 channels per group", ConvKernelTests.Conv2d(1, 1, 5, 16, 40, 40, 3, 1, 1) },
        { "1x1 kernel", ConvKernelTests.Conv2d(1, 1, 3, 16, 40, 40, 1, 1, 0) },
        { "many output channels, 20-column rows (tiles 37 % overlap)", ConvKernelTests.Conv2d(1, 1, 3, 64, 20, 20, 3, 1, 1) },
        { "output rows under 16 wide", ConvKernelTests.Conv2d(1, 1, 3, 16, 40, 17, 3, 1, 0) },
        { "one input channel per group (the depthwise kernel's)", ConvKernelTests.Conv2d(1, 1, 1, 16, 40, 40, 3, 1, 1) },
        { "depthwise", ConvKernelTests.Conv2d(1, 8, 8, 8, 40, 40, 3, 1, 1) },
    };

    [Theory]
    [MemberData(nameof(NotDirect))]
    public void Other_shapes_keep_their_paths(string name, ConvPlan plan)
    {
        _ = name;
        Assert.False(DirectCases.TakesDirectPath(plan, true));
    }
}

/// <summary>The direct path gives bit-identical results for 1, 2 and 3 threads.</summary>
[Collection("Parallelism")]
public class DirectConvThreadingTests
{
    private static void AssertBitIdentical(ConvCase c)
    {
        var d = ConvCases.MakeData(c, false);
        ConvCases.AssertSameBitsForThreads123(c, () => ConvCases.Run(c, d, false));
    }

    [Property(MaxTest = 40)]
    public Property Generated_cases_are_bit_identical_across_thread_counts() =>
        Prop.ForAll(DirectCases.Direct.ToArbitrary(), AssertBitIdentical);

    [Theory]
    [MemberData(nameof(DirectConvTests.Shapes), MemberType = typeof(DirectConvTests))]
    public void Larger_shapes_are_bit_identical_across_thread_counts(string name, ConvPlan plan)
    {
        _ = name;
        AssertBitIdentical(new ConvCase(plan, true, 42));
        AssertBitIdentical(new ConvCase(plan, false, 43));
    }
}
