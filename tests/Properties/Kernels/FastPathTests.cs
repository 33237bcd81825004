using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Functional.Kernels;

namespace Functional.Properties.Kernels;

/// <summary>
/// Generators for the shapes the specialised forward paths take: Winograd F(2×2, 3×3) (3×3, stride 1,
/// 2-D, ≥ 16 channels per group each side) and the whole-plane 3×3 depthwise kernel.
/// </summary>
internal static class FastPathCases
{
    /// <summary>3×3 stride-1 convolutions with 16-40 channels per group, padding 0-2, odd and even extents, output sometimes one off PyTorch's.</summary>
    public static Gen<ConvCase> Winograd =>
        from batch in Gen.Choose(1, 2)
        from groups in Gen.Choose(1, 2)
        from cg in Gen.Choose(16, 40)
        from ocg in Gen.Choose(16, 40)
        from h in Gen.Choose(3, 19)
        from w in Gen.Choose(3, 37)
        from ph in Gen.Choose(0, 2)
        from pw in Gen.Choose(0, 2)
        from dh in Gen.Frequency((5, Gen.Constant(0)), (1, Gen.Constant(-1)), (1, Gen.Constant(1)))
        from dw in Gen.Frequency((5, Gen.Constant(0)), (1, Gen.Constant(-1)), (1, Gen.Constant(1)))
        from bias in Gen.Elements(true, false)
        from seed in Gen.Choose(0, int.MaxValue)
        select new ConvCase(new ConvPlan(batch, groups, groups * cg, groups * ocg, new Dim3(1, h, w),
            new Dim3(1, Math.Max(1, h + 2 * ph - 2 + dh), Math.Max(1, w + 2 * pw - 2 + dw)),
            new Dim3(1, 3, 3), Dim3.All(1), Dim3.All(1), new Dim3(0, ph, pw)), bias, seed);

    /// <summary>3×3 stride-1 depthwise, multiplier 1-2, padding 0-2, outputs from 2×8 up.</summary>
    public static Gen<ConvCase> DepthwisePlanes =>
        from batch in Gen.Choose(1, 2)
        from channels in Gen.Choose(1, 5)
        from mult in Gen.Choose(1, 2)
        from h in Gen.Choose(2, 20)
        from w in Gen.Choose(6, 70)
        from ph in Gen.Choose(0, 2)
        from pw in Gen.Choose(0, 2)
        from dh in Gen.Frequency((5, Gen.Constant(0)), (1, Gen.Constant(-1)), (1, Gen.Constant(1)))
        from dw in Gen.Frequency((5, Gen.Constant(0)), (1, Gen.Constant(-1)), (1, Gen.Constant(1)))
        from bias in Gen.Elements(true, false)
        from seed in Gen.Choose(0, int.MaxValue)
        select new ConvCase(new ConvPlan(batch, channels, channels, channels * mult, new Dim3(1, h + 2, w + 2),
            new Dim3(1, Math.Max(1, h + 2 * ph + dh), Math.Max(1, w + 2 * pw + dw)),
            new Dim3(1, 3, 3), Dim3.All(1), Dim3.All(1), new Dim3(0, ph, pw)), bias, seed);
}

/// <summary>The specialised forward paths against the double-precision reference (NaN-prefilled outputs) and the portable fallback.</summary>
public class FastPathTests
{
    [Property(MaxTest = 60)]
    public Property Winograd_matches_reference() =>
        Prop.ForAll(FastPathCases.Winograd.ToArbitrary(), c => ConvCases.CheckAgainstReference(c, false));

    [Property(MaxTest = 100)]
    public Property Depthwise_planes_match_reference() =>
        Prop.ForAll(FastPathCases.DepthwisePlanes.ToArbitrary(), c => ConvCases.CheckAgainstReference(c, false));

    [Property(MaxTest = 40)]
    public Property Fast_paths_agree_with_portable_fallback() =>
        Prop.ForAll(FastPathCases.Winograd.ToArbitrary(), FastPathCases.DepthwisePlanes.ToArbitrary(), (a, b) =>
        {
            foreach (var c in new[] { a, b })
            {
                var d = ConvCases.MakeData(c, false);
                var simd = ConvCases.Run(c, d, false, fast: true);
                var portable = ConvCases.Run(c, d, false, fast: false);
                for (int i = 0; i < simd.Length; i++)
                    Assert.True(Math.Abs(simd[i] - portable[i]) <= 1e-4 * (1 + Math.Abs(portable[i])),
                        $"{c}: element {i} simd {simd[i]} portable {portable[i]}");
            }
        });

    [Fact]
    public void Winograd_stays_within_tolerance_at_realistic_scale()
    {
        // ResNet-like magnitudes: unit-variance-ish activations, Kaiming-scaled weights, 64 channels, 56×56 with padding.
        var plan = ConvKernelTests.Conv2d(1, 1, 64, 64, 56, 56, 3, 1, 1);
        var rng = new Random(7);
        var input = new float[64 * 56 * 56];
        for (int i = 0; i < input.Length; i++) input[i] = (float)(rng.NextDouble() * 4 - 1);
        var weight = new float[64 * 64 * 9];
        double scale = Math.Sqrt(2.0 / (64 * 9)) * Math.Sqrt(3);
        for (int i = 0; i < weight.Length; i++) weight[i] = (float)((rng.NextDouble() * 2 - 1) * scale);
        var bias = new float[64];
        for (int i = 0; i < bias.Length; i++) bias[i] = (float)(rng.NextDouble() - 0.5);
        var output = new float[64 * 56 * 56];
        Array.Fill(output, float.NaN);
        Convolution.Forward(plan, input, weight, bias, output);
        var (expected, magnitude) = ReferenceConv.Forward(plan, input, weight, bias);
        double atol = 1e-5 * Math.Sqrt(64 * 9);
        for (int i = 0; i < output.Length; i++)
        {
            double err = Math.Abs(output[i] - expected[i]);
            Assert.True(err <= 1e-6 + 1e-5 * magnitude[i] && err <= atol + 1e-4 * Math.Abs(expected[i]),
                $"element {i}: {output[i]} vs {expected[i]} (magnitude {magnitude[i]})");
        }
    }
}

/// <summary>The specialised paths give bit-identical results for 1, 2 and 3 threads.</summary>
[Collection("Parallelism")]
public class FastPathThreadingTests
{
    private static void AssertBitIdentical(ConvCase c)
    {
        var d = ConvCases.MakeData(c, false);
        ConvCases.AssertSameBitsForThreads123(c, () => ConvCases.Run(c, d, false));
    }

    public static TheoryData<string, ConvPlan> Shapes() => new()
    {
        { "winograd 64->64 p1 30x30", ConvKernelTests.Conv2d(1, 1, 64, 64, 30, 30, 3, 1, 1) },
        { "winograd 32->48 p0 29x41 b2", ConvKernelTests.Conv2d(2, 1, 32, 48, 29, 41, 3, 1, 0) },
        { "winograd grouped 2 64->64 p1 17x17", ConvKernelTests.Conv2d(1, 2, 64, 64, 17, 17, 3, 1, 1) },
        { "winograd 128->128 p1 28x28", ConvKernelTests.Conv2d(1, 1, 128, 128, 28, 28, 3, 1, 1) },
        { "depthwise planes 64 p1 56x56", ConvKernelTests.Conv2d(1, 64, 64, 64, 56, 56, 3, 1, 1) },
        { "depthwise planes 16 x2 p1 9x13", ConvKernelTests.Conv2d(2, 16, 16, 32, 9, 13, 3, 1, 1) },
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
