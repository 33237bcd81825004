using System.Collections.Immutable;

namespace Functional;

/// <summary>
/// Fusion at run time: before a container first runs, its chain of layers is rewritten into an
/// execution plan, one rule per pass (ONNX Runtime's <c>conv_bn_fusion</c>,
/// <c>conv_activation_fusion</c>): a BatchNorm (eval) folded into the convolution before it, an
/// activation applied in the convolution's epilogue. The plan is kept beside the layers; the
/// layers themselves (printout, <c>state_dict</c> names, parameters) stay PyTorch's.
/// Folding changes rounding (the BatchNorm's scale is multiplied into the weights once instead of
/// into every output); README, Performance, says by how much on the model zoo.
/// </summary>
public static class Fusion
{
    /// <summary>
    /// Whether containers run their fused plan (default true). Set false to run every layer as
    /// written, e.g. to compare the two; it takes effect on the next call.
    /// </summary>
    public static bool Enabled { get; set; } = true;

    /// <summary>The passes, in order: folding first, so the folded convolution can take the activation.</summary>
    private static readonly Func<ImmutableArray<Layer>, ImmutableArray<Layer>>[] ChainPasses =
        [ConvBatchNormFolding.Apply, ConvActivationFusion.Apply];

    /// <summary>The execution plan of a chain of layers (the same array when no rule applies).</summary>
    internal static ImmutableArray<Layer> Chain(ImmutableArray<Layer> layers)
    {
        var plan = layers;
        foreach (var pass in ChainPasses) plan = pass(plan);
        return plan;
    }
}
