using System.Runtime.CompilerServices;

namespace Functional.Kernels;

/// <summary>
/// The walk over <see cref="ConvGeometry"/>'s index map that im2col and col2im share, in
/// opposite directions: row <c>m = (channel, kd, kh, kw)</c> of the column matrix against the image.
/// <code>
///   col[m, p] ↔ image[channel, od·sD - pD + kd·dD, oh·sH - pH + kh·dH, ow·sW - pW + kw·dW]   (nothing outside)
/// </code>
/// Along one output row (fixed od, oh) a column row is a strided run of one image row with
/// padding at either end, so the map hands its visitor outside / inside segments, never single
/// elements. <see cref="Im2Col"/> copies the inside runs and zeroes the outside ones;
/// <see cref="Col2Im"/> adds the inside runs back into the image.
/// </summary>
internal readonly unsafe struct ColumnMap
{
    private readonly int nc, cd0, ch0, cw0;

    /// <summary>The map of column positions [p0, p0+nc).</summary>
    public ColumnMap(in ConvGeometry g, int p0, int nc)
    {
        this.nc = nc;
        int colHW = g.ColH * g.ColW;
        cd0 = p0 / colHW;
        int rem = p0 - cd0 * colHW;
        ch0 = rem / g.ColW;
        cw0 = rem - ch0 * g.ColW;
    }

    /// <summary>What one direction does with the segments of a column row.</summary>
    public interface IVisitor
    {
        /// <summary>Column positions [q, q+n) (relative to p0) fall outside the image.</summary>
        void Outside(int q, int n);

        /// <summary>Column positions [q, q+n) are the image elements at <paramref name="image"/>, <paramref name="stride"/> apart.</summary>
        void Inside(int q, float* image, int stride, int n);
    }

    /// <summary>Walks column row <paramref name="m"/> of <paramref name="image"/> (the group's channels), segment by segment in position order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Row<T>(in ConvGeometry g, int m, float* image, T visitor) where T : struct, IVisitor
    {
        int channel = m / g.Taps;
        g.Tap(m - channel * g.Taps, out int kd, out int kh, out int kw);
        float* plane = image + (nint)channel * g.ImgVolume;
        long offD = (long)kd * g.DD - g.PD, offH = (long)kh * g.DH - g.PH, offW = (long)kw * g.DW - g.PW;
        ConvGeometry.ValidRange(g.ColW, g.SW, offW, g.ImgW, out int wLo, out int wHi);
        int cd = cd0, chh = ch0, cw = cw0, q = 0;
        while (q < nc)
        {
            int len = Math.Min(g.ColW - cw, nc - q);
            long id = cd * (long)g.SD + offD, ih = chh * (long)g.SH + offH;
            if ((ulong)id < (ulong)g.ImgD && (ulong)ih < (ulong)g.ImgH)
            {
                int lo = Math.Clamp(wLo, cw, cw + len), hi = Math.Clamp(wHi, lo, cw + len);
                visitor.Outside(q, lo - cw);
                if (hi > lo)
                    visitor.Inside(q + lo - cw, plane + (id * g.ImgH + ih) * g.ImgW + lo * (long)g.SW + offW, g.SW, hi - lo);
                visitor.Outside(q + hi - cw, cw + len - hi);
            }
            else
            {
                visitor.Outside(q, len);
            }
            q += len;
            cw = 0;
            if (++chh == g.ColH) { chh = 0; cd++; }
        }
    }
}
