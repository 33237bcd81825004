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
    /// <summary>The rule: a convolution and an activation after it, as one step; else null.</summary>
    public static Layer? Rewrite(Layer first, Layer second) =>
        first is ConvNd conv && PostOpOf(second) is { } post ? new ConvWithPostOp(conv, post) : null;

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
