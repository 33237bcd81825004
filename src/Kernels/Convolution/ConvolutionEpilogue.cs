namespace Functional.Kernels;

public static unsafe partial class Convolution
{
    /// <summary>
    /// <see cref="Forward(in ConvPlan, ReadOnlySpan{float}, ConvWeights, ReadOnlySpan{float}, Span{float})"/>, then
    /// <paramref name="post"/> over the output (the activation that follows the convolution in the model), channel
    /// plane by channel plane while the convolution's last writes are still in cache, written over the output.
    /// </summary>
    /// <exception cref="ArgumentException">The plan is invalid or a span is too short (or bias neither empty nor OutChannels long).</exception>
    public static void Forward(in ConvPlan plan, ReadOnlySpan<float> input, ConvWeights weights, ReadOnlySpan<float> bias, Span<float> output, PostOp post)
    {
        Forward(plan, input, weights, bias, output);
        if (post == PostOp.None || plan.Batch == 0) return;
        long plane = (long)plan.Output.D * plan.Output.H * plan.Output.W;
        int planes = checked(plan.Batch * plan.OutChannels);
        fixed (float* pout = output)
        {
            float* o = pout;
            // Runs of whole planes per work item, about 16K floats each (an L1/L2-sized block).
            int per = (int)Math.Clamp(16384 / Math.Max(plane, 1), 1, planes);
            int items = (planes + per - 1) / per;
            Parallelism.For(items, 4L * per * plane, (s, e) =>
            {
                int first = s * per, last = Math.Min(planes, e * per);
                var span = new Span<float>(o + first * plane, checked((int)((last - first) * plane)));
                PostOps.Apply(post, span, span);
            });
        }
    }
}
