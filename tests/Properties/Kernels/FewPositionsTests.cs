using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Functional.Kernels;

namespace Functional.Properties.Kernels;

/// <summary>
/// The transposed-GEMM path for many channels over few positions (ResNet's last stages), and the
/// weight repacking <see cref="ConvWeights"/> keeps between calls (its panels, Winograd's filters).
/// </summary>
public class FewPositionsTests
{
    /// <summary>1-D to 3-D, kernels of 2–3, 48–80 output channels per group, ≥ 64-long reductions, at most ~200 output positions.</summary>
    private static Gen<ConvCase> Cases =>
        from rank in Gen.Choose(1, 3)
        from batch in Gen.Choose(1, 2)
        from groups in Gen.Choose(1, 2)
        from ocg in Gen.Choose(48, 80)
        from k in Gen.Choose(2, 3)
        from stride in Gen.Choose(1, 2)
        from dilation in Gen.Choose(1, 2)
        from pad in Gen.Choose(0, k + 1)
        from extent in Gen.Choose(rank == 1 ? 20 : rank == 2 ? 4 : 2, rank == 1 ? 150 : rank == 2 ? 14 : 5)
        from cg in Gen.Choose(Math.Max(1, (64 + Pow(k, rank) - 1) / Pow(k, rank)), 90)
        from bias in Gen.Elements(true, false)
        from seed in Gen.Choose(0, int.MaxValue)
        let span = (k - 1) * dilation + 1
        let input = Math.Max(extent, span)
        let axis = (Func<int, ConvCases.Axis>)(n => new(n, (n + 2 * pad - span) / stride + 1, k, stride, dilation, pad))
        let x = rank switch
        {
            1 => (ConvCases.Unit, ConvCases.Unit, axis(input)),
            2 => (ConvCases.Unit, axis(input), axis(input + 1)),
            _ => (axis(input), axis(input), axis(input)),
        }
        select new ConvCase(ConvCases.Plan(batch, groups, groups * cg, groups * ocg, x), bias, seed);

    private static int Pow(int b, int e) => e == 0 ? 1 : b * Pow(b, e - 1);

    [Property(MaxTest = 40)]
    public Property Matches_reference() => Prop.ForAll(Cases.ToArbitrary(), c => ConvCases.CheckAgainstReference(c, false));

    [Property(MaxTest = 20)]
    public Property Prepared_weights_give_the_same_result_on_every_call() =>
        Prop.ForAll(Cases.ToArbitrary(), FastPathCases.Winograd.ToArbitrary(), (few, winograd) =>
        {
            SameWithPreparedWeights(few);
            SameWithPreparedWeights(winograd);
        });

    private static void SameWithPreparedWeights(ConvCase c)
    {
        var d = ConvCases.MakeData(c, false);
        var plain = ConvCases.Run(c, d, false);
        var weights = new ConvWeights(d.Weight);
        foreach (var _ in Enumerable.Range(0, 2))
        {
            var output = new float[d.OutputLength];
            Convolution.Forward(c.Plan, d.Input, weights, d.Bias ?? [], output);
            Assert.Equal(plain, output);
        }
    }

    [Fact]
    public void Winograd_with_kept_filters_covers_wider_layers_and_split_channels_within_tolerance()
    {
        // 160 channels each side: above the per-call Winograd limit, within the kept-filters one;
        // 96 on 14×14 has 3 runs of tiles, which split their output channels on 2 threads.
        foreach (var plan in new[] { ConvKernelTests.Conv2d(1, 1, 160, 160, 10, 9, 3, 1, 1), ConvKernelTests.Conv2d(1, 1, 96, 96, 14, 14, 3, 1, 1) })
        {
            var c = new ConvCase(plan, true, 7);
            var d = ConvCases.MakeData(c, false);
            var y = new float[d.OutputLength];
            Convolution.Forward(c.Plan, d.Input, new ConvWeights(d.Weight), d.Bias!, y);
            var (expected, magnitude) = ReferenceConv.Forward(c.Plan, d.Input, d.Weight, d.Bias);
            for (int i = 0; i < y.Length; i++)
                Assert.True(Math.Abs(y[i] - expected[i]) <= 1e-6 + 1e-5 * magnitude[i], $"{c}: element {i}: {y[i]} vs {expected[i]}");
        }
    }

    [Fact]
    public void Prepared_weights_follow_a_change_of_grouping()
    {
        // The same 96×64×3×3 array read as 1 group of 64 input channels, then as 2 groups of 32
        // (192 input channels): the cached panels must not be reused across the two layouts.
        var one = new ConvCase(new ConvPlan(1, 1, 64, 96, new Dim3(1, 7, 7), new Dim3(1, 7, 7), new Dim3(1, 3, 3), Dim3.All(1), Dim3.All(1), new Dim3(0, 1, 1)), false, 1);
        var d = ConvCases.MakeData(one, false);
        var weights = new ConvWeights(d.Weight);
        var y = new float[d.OutputLength];
        Convolution.Forward(one.Plan, d.Input, weights, [], y);
        Assert.Equal(ConvCases.Run(one, d, false), y);

        var two = new ConvCase(one.Plan with { Groups = 2, InChannels = 128 }, false, 2);
        var d2 = ConvCases.MakeData(two, false) with { Weight = d.Weight };
        var y2 = new float[d2.OutputLength];
        Convolution.Forward(two.Plan, d2.Input, weights, [], y2);
        Assert.Equal(ConvCases.Run(two, d2, false), y2);
    }
}
