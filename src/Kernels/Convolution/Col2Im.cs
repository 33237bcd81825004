using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Functional.Kernels;

/// <summary>
/// col2im, the adjoint of im2col, used by the transposed convolution:
/// <code>
///   W^T [OCg·taps × ICg]  ×  X [ICg × positions]  =  col [OCg·taps × positions]
///   out[oc, i·stride - padLo + tap·dilation] += col[(oc, tap), i]     (dropped outside the output)
/// </code>
/// Rows are scattered one at a time in row order, positions in order, so an output element
/// receives its contributions in one fixed sequence however the rows were computed.
/// </summary>
internal static unsafe class Col2Im
{
    /// <summary>
    /// Scatter-adds col rows [m0, m0+mc) (m = channel·taps + tap, row r at col + r·ldc) over
    /// column positions [p0, p0+nc) into <paramref name="image"/> (the group's output channels).
    /// </summary>
    internal static void Scatter(in ConvGeometry g, float* col, nint ldc, int m0, int mc, int p0, int nc, float* image)
    {
        int colHW = g.ColH * g.ColW;
        int cd0 = p0 / colHW, rem = p0 - cd0 * colHW, ch0 = rem / g.ColW, cw0 = rem - ch0 * g.ColW;
        for (int r = 0; r < mc; r++)
        {
            int m = m0 + r;
            int channel = m / g.Taps;
            g.Tap(m - channel * g.Taps, out int kd, out int kh, out int kw);
            float* plane = image + (nint)channel * g.ImgVolume;
            float* src = col + r * ldc;
            long offD = (long)kd * g.DD - g.PD, offH = (long)kh * g.DH - g.PH, offW = (long)kw * g.DW - g.PW;
            ConvGeometry.ValidRange(g.ColW, g.SW, offW, g.ImgW, out int wLo, out int wHi);
            int cd = cd0, chh = ch0, cw = cw0, q = 0;
            while (q < nc)
            {
                int len = Math.Min(g.ColW - cw, nc - q);
                long od = cd * (long)g.SD + offD, oh = chh * (long)g.SH + offH;
                if ((ulong)od < (ulong)g.ImgD && (ulong)oh < (ulong)g.ImgH)
                {
                    int lo = Math.Clamp(wLo, cw, cw + len), hi = Math.Clamp(wHi, lo, cw + len);
                    if (hi > lo)
                        AddStrided(src + q + (lo - cw), plane + (od * g.ImgH + oh) * g.ImgW + lo * (long)g.SW + offW, g.SW, hi - lo);
                }
                q += len;
                cw = 0;
                if (++chh == g.ColH) { chh = 0; cd++; }
            }
        }
    }

    /// <summary>dst[i·stride] += src[i] for i &lt; n.</summary>
    private static void AddStrided(float* src, float* dst, int stride, int n)
    {
        int i = 0;
        if (stride == 1)
        {
            for (; i + 8 <= n; i += 8)
                Vector256.Store(Vector256.Load(dst + i) + Vector256.Load(src + i), dst + i);
            for (; i < n; i++) dst[i] += src[i];
        }
        else if (stride == 2 && Avx2.IsSupported)
        {
            // dst[2i] += src[i]: spread 8 sources over 16 lanes with -0.0 in the odd ones
            // (x + -0.0 == x for every x, signed zeros included), add to two full vectors. The
            // last block stays scalar so the odd lane past the final target, which may belong
            // to another row or thread, is never touched.
            var negZero = Vector256.Create(-0f);
            for (; i + 8 < n; i += 8)
            {
                var s = Avx.LoadVector256(src + i);
                var l = Avx.UnpackLow(s, negZero);   // s0 . s1 . | s4 . s5 .
                var h = Avx.UnpackHigh(s, negZero);  // s2 . s3 . | s6 . s7 .
                float* d = dst + 2 * i;
                Avx.Store(d, Avx.LoadVector256(d) + Avx.Permute2x128(l, h, 0x20));
                Avx.Store(d + 8, Avx.LoadVector256(d + 8) + Avx.Permute2x128(l, h, 0x31));
            }
            for (; i < n; i++) dst[2 * i] += src[i];
        }
        else
        {
            for (; i < n; i++) dst[(nint)i * stride] += src[i];
        }
    }
}
