namespace Functional;

/// <summary>
/// Pooling as tensor functions, like <c>torch.nn.functional</c> (and candle's
/// <c>max_pool2d_with_stride</c>): <c>x.MaxPool2d(3, 2)</c> is <c>new MaxPool2d(3, 2).Forward(x)</c>.
/// </summary>
public static class PoolFunctions
{
    /// <summary><c>F.max_pool1d</c>.</summary>
    public static Tensor MaxPool1d(this Tensor x, Dims kernelSize, Dims? stride = null, Dims? padding = null, Dims? dilation = null, bool ceilMode = false) =>
        new MaxPool1d(kernelSize, stride, padding, dilation, ceilMode: ceilMode).Forward(x);

    /// <summary><c>F.max_pool2d</c>.</summary>
    public static Tensor MaxPool2d(this Tensor x, Dims kernelSize, Dims? stride = null, Dims? padding = null, Dims? dilation = null, bool ceilMode = false) =>
        new MaxPool2d(kernelSize, stride, padding, dilation, ceilMode: ceilMode).Forward(x);

    /// <summary><c>F.max_pool3d</c>.</summary>
    public static Tensor MaxPool3d(this Tensor x, Dims kernelSize, Dims? stride = null, Dims? padding = null, Dims? dilation = null, bool ceilMode = false) =>
        new MaxPool3d(kernelSize, stride, padding, dilation, ceilMode: ceilMode).Forward(x);

    /// <summary><c>F.avg_pool1d</c>.</summary>
    public static Tensor AvgPool1d(this Tensor x, Dims kernelSize, Dims? stride = null, Dims? padding = null, bool ceilMode = false, bool countIncludePad = true) =>
        new AvgPool1d(kernelSize, stride, padding, ceilMode, countIncludePad).Forward(x);

    /// <summary><c>F.avg_pool2d</c>.</summary>
    public static Tensor AvgPool2d(this Tensor x, Dims kernelSize, Dims? stride = null, Dims? padding = null, bool ceilMode = false, bool countIncludePad = true, int? divisorOverride = null) =>
        new AvgPool2d(kernelSize, stride, padding, ceilMode, countIncludePad, divisorOverride).Forward(x);

    /// <summary><c>F.avg_pool3d</c>.</summary>
    public static Tensor AvgPool3d(this Tensor x, Dims kernelSize, Dims? stride = null, Dims? padding = null, bool ceilMode = false, bool countIncludePad = true, int? divisorOverride = null) =>
        new AvgPool3d(kernelSize, stride, padding, ceilMode, countIncludePad, divisorOverride).Forward(x);

    /// <summary><c>F.adaptive_avg_pool1d</c>.</summary>
    public static Tensor AdaptiveAvgPool1d(this Tensor x, params int?[] outputSize) => new AdaptiveAvgPool1d(outputSize).Forward(x);

    /// <summary><c>F.adaptive_avg_pool2d</c>.</summary>
    public static Tensor AdaptiveAvgPool2d(this Tensor x, params int?[] outputSize) => new AdaptiveAvgPool2d(outputSize).Forward(x);

    /// <summary><c>F.adaptive_avg_pool3d</c>.</summary>
    public static Tensor AdaptiveAvgPool3d(this Tensor x, params int?[] outputSize) => new AdaptiveAvgPool3d(outputSize).Forward(x);

    /// <summary><c>F.adaptive_max_pool1d</c>.</summary>
    public static Tensor AdaptiveMaxPool1d(this Tensor x, params int?[] outputSize) => new AdaptiveMaxPool1d(outputSize).Forward(x);

    /// <summary><c>F.adaptive_max_pool2d</c>.</summary>
    public static Tensor AdaptiveMaxPool2d(this Tensor x, params int?[] outputSize) => new AdaptiveMaxPool2d(outputSize).Forward(x);

    /// <summary><c>F.adaptive_max_pool3d</c>.</summary>
    public static Tensor AdaptiveMaxPool3d(this Tensor x, params int?[] outputSize) => new AdaptiveMaxPool3d(outputSize).Forward(x);

    /// <summary><c>F.lp_pool1d</c>.</summary>
    public static Tensor LPPool1d(this Tensor x, PyNumber normType, Dims kernelSize, Dims? stride = null, bool ceilMode = false) =>
        new LPPool1d(normType, kernelSize, stride, ceilMode).Forward(x);

    /// <summary><c>F.lp_pool2d</c>.</summary>
    public static Tensor LPPool2d(this Tensor x, PyNumber normType, Dims kernelSize, Dims? stride = null, bool ceilMode = false) =>
        new LPPool2d(normType, kernelSize, stride, ceilMode).Forward(x);
}
