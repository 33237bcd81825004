using System.Collections.Immutable;
using System.Text;
using Functional.Kernels;

namespace Functional;

/// <summary>
/// Fusion rule: a convolution followed by ReLU, ReLU6, SiLU, Hardswish or GELU (exact) applies the
/// activation in its epilogue (<see cref="PostOp"/>): the same element code as the activation
/// layer, over the output while it is still in cache, with no second tensor.
/// </summary>
internal static class ConvActivationFusion
{
    /// <summary>The pass over a chain.</summary>
    public static ImmutableArray<Layer> Apply(ImmutableArray<Layer> chain)
    {
        ImmutableArray<Layer>.Builder? plan = null;
        for (int i = 0; i < chain.Length; i++)
        {
            if (i + 1 < chain.Length && chain[i] is ConvNd conv && PostOpOf(chain[i + 1]) is { } post)
            {
                plan ??= ConvBatchNormFolding.Copy(chain, i);
                plan.Add(new ConvWithPostOp(conv, post));
                i++;
                continue;
            }
            plan?.Add(chain[i]);
        }
        return plan?.ToImmutable() ?? chain;
    }

    /// <summary>The epilogue form of an activation layer, or null.</summary>
    public static PostOp? PostOpOf(Layer layer) => layer switch
    {
        ReLU => PostOp.Relu,
        ReLU6 => PostOp.Relu6,
        SiLU => PostOp.Silu,
        Hardswish => PostOp.Hardswish,
        GELU { Approximate: GeluApproximation.None } => PostOp.Gelu,
        _ => null,
    };
}

/// <summary>A convolution and the activation after it, run as one kernel call (an execution plan's step, never printed).</summary>
internal sealed record ConvWithPostOp(ConvNd Conv, PostOp Post) : Layer
{
    public override Shape OutputShape(Shape input) => Conv.OutputShape(input);

    protected override Tensor Compute(Tensor input, Shape outputShape) => Conv.Compute(input, outputShape, Post);

    protected internal override void Print(StringBuilder sb, int indent)
    {
        Conv.Print(sb, indent);
        sb.Append(" + ").Append(Post);
    }
}
