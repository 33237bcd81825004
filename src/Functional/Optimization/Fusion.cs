using System.Collections.Immutable;

namespace Functional;

/// <summary>
/// Fusion at run time: before a container first runs, its chain of layers is rewritten into an
/// execution plan, one rule per pass (as ONNX Runtime's <c>conv_bn_fusion</c> and
/// <c>conv_activation_fusion</c>): a BatchNorm (eval) folded into the convolution before it
/// (<see cref="ConvBatchNormFolding"/>), an activation applied in the convolution's epilogue
/// (<see cref="ConvActivationFusion"/>). The plan is kept beside the layers; the layers
/// themselves (printout, <c>state_dict</c> names, parameters) stay PyTorch's. Folding changes
/// rounding (the BatchNorm's scale is multiplied into the weights once instead of into every
/// output); README, Performance, says by how much on the model zoo.
/// </summary>
public static class Fusion
{
    /// <summary>
    /// Whether containers run their fused plan (default true). Set false to run every layer as
    /// written, e.g. to compare the two; it takes effect on the next call.
    /// </summary>
    public static bool Enabled { get; set; } = true;

    /// <summary>One step of a plan: a layer standing for <paramref name="Count"/> layers of the chain from <paramref name="First"/>.</summary>
    internal readonly record struct Step(Layer Layer, int First, int Count)
    {
        /// <summary>The step's shape plan, from the chain's per-layer plans.</summary>
        public ShapePlan Plan(ShapePlan[] parts) =>
            Count == 1 ? parts[First] : new(parts[First].Input, parts[First + Count - 1].Output, null);
    }

    /// <summary>The passes, in order: folding first, so the folded convolution can take the activation.</summary>
    internal static readonly Func<Layer, Layer, Layer?>[] PairRules = [ConvBatchNormFolding.Rewrite, ConvActivationFusion.Rewrite];

    /// <summary>A chain's layers, one step each.</summary>
    internal static ImmutableArray<Step> Unfused(ImmutableArray<Layer> layers) => [.. layers.Select((l, i) => new Step(l, i, 1))];

    /// <summary>The execution plan of a chain of layers.</summary>
    internal static ImmutableArray<Step> Chain(ImmutableArray<Layer> layers)
    {
        var steps = Unfused(layers);
        foreach (var rule in PairRules) steps = Pairs(steps, rule);
        return steps;
    }

    /// <summary>One pass: each pair of neighbouring steps that <paramref name="rule"/> rewrites becomes one step.</summary>
    private static ImmutableArray<Step> Pairs(ImmutableArray<Step> steps, Func<Layer, Layer, Layer?> rule)
    {
        var result = ImmutableArray.CreateBuilder<Step>(steps.Length);
        for (int i = 0; i < steps.Length; i++)
        {
            if (i + 1 < steps.Length && rule(steps[i].Layer, steps[i + 1].Layer) is { } fused)
            {
                result.Add(new Step(fused, steps[i].First, steps[i].Count + steps[i + 1].Count));
                i++;
            }
            else result.Add(steps[i]);
        }
        return result.ToImmutable();
    }
}
