namespace Functional.Kernels;

/// <summary>
/// A fully resolved convolution problem in 3-D form (lower ranks use extents of 1), with
/// zero padding only: other padding modes are materialised by the caller before the kernel runs.
/// For a forward convolution, <see cref="Input"/> and <see cref="Output"/> are the spatial sizes
/// of the input <c>[Batch, InChannels, D, H, W]</c> and output <c>[Batch, OutChannels, oD, oH, oW]</c>;
/// weight is <c>[OutChannels, InChannels/Groups, kD, kH, kW]</c>.
/// For a transposed convolution the same plan describes the convolution it is the adjoint of
/// read backwards: input <c>[Batch, InChannels, D, H, W]</c>, weight
/// <c>[InChannels, OutChannels/Groups, kD, kH, kW]</c>, output <c>[Batch, OutChannels, oD, oH, oW]</c> with
/// <c>o = (i - 1)·stride - padLo - padHi + dilation·(k - 1) + outputPadding + 1</c>, padHi implied.
/// </summary>
public readonly record struct ConvPlan(
    int Batch, int Groups, int InChannels, int OutChannels,
    Dim3 Input, Dim3 Output, Dim3 Kernel, Dim3 Stride, Dim3 Dilation, Dim3 PadLo);
