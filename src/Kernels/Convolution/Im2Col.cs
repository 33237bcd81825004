using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Functional.Kernels;

/// <summary>
/// Implicit im2col: builds a block of the column matrix straight into the GEMM's packed B
/// panels, so the full column matrix never exists and each input value is copied once per use.
/// Row k = (channel, kd, kh, kw), column p = output position (od, oh, ow), as <see cref="ColumnMap"/>
/// maps them; positions outside the input are 0. Each row is emitted as zero / copy / zero segments.
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
        int ncRound = Gemm.RoundUp(nc, NR);
        var map = new ColumnMap(g, p0, nc);
        for (int kr = 0; kr < kc; kr++)
        {
            float* row = dst + kr * NR;
            map.Row(g, k0 + kr, image, new Packer(row, panelStride));
            Zero(row, panelStride, nc, ncRound - nc);
        }
    }

    /// <summary>im2col's direction of the map: inside runs copied into one packed row, outside ones zeroed.</summary>
    private readonly struct Packer(float* row, nint panelStride) : ColumnMap.IVisitor
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Outside(int q, int n) => Zero(row, panelStride, q, n);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Inside(int q, float* image, int stride, int n) => Copy(row, panelStride, q, image, stride, n);
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
