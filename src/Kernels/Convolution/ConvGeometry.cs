namespace Functional.Kernels;

/// <summary>
/// The index map shared by im2col and col2im: a GEMM column is a position c on the "column grid"
/// (forward: output positions; transposed: input positions), a GEMM row of the weight side is a
/// (channel, tap) pair, and the two meet at image position <c>c·stride - padLo + tap·dilation</c>
/// (forward: read from the input; transposed: scatter-added into the output). Positions outside
/// the image are padding: read as zero, never written.
/// </summary>
internal readonly struct ConvGeometry
{
    internal readonly int ColD, ColH, ColW;
    internal readonly int ImgD, ImgH, ImgW;
    internal readonly int KD, KH, KW;
    internal readonly int SD, SH, SW;
    internal readonly int DD, DH, DW;
    internal readonly int PD, PH, PW;
    internal readonly int ColVolume, ImgVolume, Taps;

    internal ConvGeometry(Dim3 col, Dim3 img, Dim3 kernel, Dim3 stride, Dim3 dilation, Dim3 padLo)
    {
        (ColD, ColH, ColW) = (col.D, col.H, col.W);
        (ImgD, ImgH, ImgW) = (img.D, img.H, img.W);
        (KD, KH, KW) = (kernel.D, kernel.H, kernel.W);
        (SD, SH, SW) = (stride.D, stride.H, stride.W);
        (DD, DH, DW) = (dilation.D, dilation.H, dilation.W);
        (PD, PH, PW) = (padLo.D, padLo.H, padLo.W);
        ColVolume = checked(col.D * col.H * col.W);
        ImgVolume = checked(img.D * img.H * img.W);
        Taps = checked(kernel.D * kernel.H * kernel.W);
    }

    /// <summary>Splits a tap index into (kd, kh, kw).</summary>
    internal void Tap(int t, out int kd, out int kh, out int kw)
    {
        int hw = KH * KW;
        kd = t / hw; t -= kd * hw;
        kh = t / KW; kw = t - kh * KW;
    }

    /// <summary>
    /// The column positions x in [0, count) whose image position x·stride + offset lies in
    /// [0, length): a contiguous range [lo, hi), empty when hi &lt;= lo.
    /// </summary>
    internal static void ValidRange(int count, int stride, long offset, int length, out int lo, out int hi)
    {
        long l = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
        long h = length - offset <= 0 ? 0 : (length - offset + stride - 1) / stride;
        lo = (int)Math.Min(l, count);
        hi = (int)Math.Clamp(h, lo, count);
    }
}
