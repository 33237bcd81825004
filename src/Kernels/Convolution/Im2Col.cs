using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Functional.Kernels;

/// <summary>
/// Implicit im2col: builds a block of the column matrix straight into the GEMM's packed B
/// panels, so the full column matrix never exists and each input value is copied once per use.
/// <code>
///   row k = (channel, kd, kh, kw)      column p = output position (od, oh, ow)
///   col[k, p] = input[channel, od·sD - pD + kd·dD, oh·sH - pH + kh·dH, ow·sW - pW + kw·dW]   (0 outside)
/// </code>
/// Along one output row (fixed od, oh) a column-matrix row is a strided run of one input row with
/// zeros at either end, so it is emitted as zero / copy / zero segments, never element by element.
/// </summary>
internal static unsafe class Im2Col
{
    private static readonly int NR = Gemm.NR;

    /// <summary>
    /// Packs rows [k0, k0+kc), columns [p0, p0+nc) of the column matrix of <paramref name="image"/>
    /// (the group's input channels, each <see cref="ConvGeometry.ImgVolume"/> long) into NR-wide panels.
    /// </summary>
    internal static void Pack(in ConvGeometry g, float* image, int k0, int kc, int p0, int nc, float* dst)
    {
        nint panelStride = (nint)kc * NR;
        int colHW = g.ColH * g.ColW;
        int cd0 = p0 / colHW, rem = p0 - cd0 * colHW, ch0 = rem / g.ColW, cw0 = rem - ch0 * g.ColW;
        int ncRound = Gemm.RoundUp(nc, NR);
        for (int kr = 0; kr < kc; kr++)
        {
            int k = k0 + kr;
            int channel = k / g.Taps;
            g.Tap(k - channel * g.Taps, out int kd, out int kh, out int kw);
            float* plane = image + (nint)channel * g.ImgVolume;
            float* row = dst + kr * NR;
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
                    Zero(row, panelStride, q, lo - cw);
                    if (hi > lo)
                        Copy(row, panelStride, q + lo - cw, plane + (id * g.ImgH + ih) * g.ImgW + lo * (long)g.SW + offW, g.SW, hi - lo);
                    Zero(row, panelStride, q + hi - cw, cw + len - hi);
                }
                else
                {
                    Zero(row, panelStride, q, len);
                }
                q += len;
                cw = 0;
                if (++chh == g.ColH) { chh = 0; cd++; }
            }
            Zero(row, panelStride, nc, ncRound - nc);
        }
    }

    /// <summary>Zeroes packed columns [q, q+n) of one packed row.</summary>
    private static void Zero(float* row, nint panelStride, int q, int n)
    {
        while (n > 0)
        {
            int panel = q / NR, lane = q - panel * NR;
            int m = Math.Min(n, NR - lane);
            float* d = row + panel * panelStride + lane;
            for (int j = 0; j < m; j++) d[j] = 0f;
            q += m;
            n -= m;
        }
    }

    /// <summary>Copies n source values (stride apart) into packed columns [q, q+n) of one packed row.</summary>
    private static void Copy(float* row, nint panelStride, int q, float* src, int stride, int n)
    {
        while (n > 0)
        {
            int panel = q / NR, lane = q - panel * NR;
            int m = Math.Min(n, NR - lane);
            CopyStrided(src, stride, row + panel * panelStride + lane, m);
            src += (nint)m * stride;
            q += m;
            n -= m;
        }
    }

    /// <summary>dst[i] = src[i·stride] for i &lt; n, reading nothing past src[(n-1)·stride].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void CopyStrided(float* src, int stride, float* dst, int n)
    {
        int i = 0;
        if (stride == 1)
        {
            for (; i + 8 <= n; i += 8) Vector256.Store(Vector256.Load(src + i), dst + i);
            for (; i < n; i++) dst[i] = src[i];
        }
        else if (stride == 2 && Avx2.IsSupported)
        {
            for (; i + 8 <= n; i += 8) Avx.Store(dst + i, Even(src + 2 * i));
            for (; i < n; i++) dst[i] = src[2 * i];
        }
        else
        {
            for (; i < n; i++) dst[i] = src[(nint)i * stride];
        }
    }

    /// <summary>
    /// src[0], src[2], ..., src[14] as one vector. The second load starts at src+7 so nothing past
    /// src[14] is read (src[15] may lie beyond the input).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> Even(float* src)
    {
        var lo = Avx.LoadVector256(src);      // 0 1 2 3 | 4 5 6 7
        var hi = Avx.LoadVector256(src + 7);  // 7 8 9 10 | 11 12 13 14
        var s = Avx.Shuffle(lo, hi, 0xD8);    // 0 2 8 10 | 4 6 12 14
        return Avx2.Permute4x64(s.AsDouble(), 0xD8).AsSingle(); // 0 2 4 6 8 10 12 14
    }
}
