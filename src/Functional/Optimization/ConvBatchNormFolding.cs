namespace Functional;

/// <summary>
/// Fusion rule: a convolution followed by a BatchNorm that normalises with its running statistics
/// (eval) is one convolution with the BatchNorm's per-channel scale <c>s = γ / √(var + eps)</c>
/// multiplied into the weights and its shift into the bias: <c>W' = s·W</c>,
/// <c>b' = s·(b − mean) + β</c> (torch.fx's <c>fuse_conv_bn_eval</c>; computed in double, rounded
/// once). In a chain the convolution's output feeds only the BatchNorm, so nothing else can
/// observe the unnormalised values.
/// </summary>
internal static class ConvBatchNormFolding
{
    /// <summary>The rule: a convolution and a BatchNorm after it, folded; else null.</summary>
    public static Layer? Rewrite(Layer first, Layer second) => first is ConvNd conv && second is BatchNormNd bn ? Fold(conv, bn) : null;

    /// <summary>The folded convolution, or null when <paramref name="bn"/> does not apply to <paramref name="conv"/>'s output as a fixed affine map.</summary>
    public static ConvNd? Fold(ConvNd conv, BatchNormNd bn)
    {
        if (!bn.TrackRunningStats || bn.NumFeatures != conv.OutChannels || bn.SpatialRank != conv.SpatialRank) return null;
        int oc = conv.OutChannels;
        var w = conv.Weight.Span;
        int per = w.Length / oc;
        var mean = bn.RunningMean!.Span;
        var variance = bn.RunningVar!.Span;
        var gamma = bn.Weight?.Buffer;
        var beta = bn.Bias?.Buffer;
        var bias = conv.Bias?.Buffer;
        double eps = bn.Eps.Value;
        var weight = new float[w.Length];
        var shift = new float[oc];
        for (int o = 0; o < oc; o++)
        {
            double s = (gamma is { } g ? g[o] : 1.0) / Math.Sqrt(variance[o] + eps);
            for (int k = o * per; k < (o + 1) * per; k++) weight[k] = (float)(w[k] * s);
            shift[o] = (float)(((bias is { } b ? b[o] : 0.0) - mean[o]) * s + (beta is { } bt ? bt[o] : 0.0));
        }
        return conv with { Weight = Tensor.Own(weight, conv.Weight.Shape), Bias = Tensor.Own(shift, new Shape(oc)) };
    }
}
