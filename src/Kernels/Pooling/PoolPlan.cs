namespace Functional.Kernels;

/// <summary>
/// A resolved sliding-window pool in 3-D form over <see cref="Planes"/> independent planes
/// (batch × channels). Windows start at <c>o·stride - padLo</c> and take <c>kernel</c> taps spaced
/// by <c>dilation</c>; taps outside the input are padding. The caller has already applied
/// PyTorch's ceil_mode rule when choosing <see cref="Output"/>.
/// </summary>
public readonly record struct PoolPlan(
    int Planes, Dim3 Input, Dim3 Output, Dim3 Kernel, Dim3 Stride, Dim3 Dilation, Dim3 PadLo);
