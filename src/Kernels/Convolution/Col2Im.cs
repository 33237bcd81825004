using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Functional.Kernels;

/// <summary>
/// col2im, the adjoint of im2col, used by the transposed convolution:
/// <code>
///   W^T [OCg·taps × ICg]  ×  X [ICg × positions]  =  col [OCg·taps × positions]
///   out[oc, i·stride - padLo + tap·dilation] += col[(oc, tap), i]     (dropped outside the output)
/// </code>
/// (<see cref="ColumnMap"/> walked from the column matrix back to the image).
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
        var map = new ColumnMap(g, p0, nc);
        for (int r = 0; r < mc; r++)
        {
            map.Row(g, m0 + r, image, new Adder(col + r * ldc));
        }
    }

    /// <summary>col2im's direction of the map: each inside run of one col row added into the image; outside ones dropped.</summary>
    private readonly struct Adder(float* src) : ColumnMap.IVisitor
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Outside(int q, int n) { }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Inside(int q, float* image, int stride, int n) => AddStrided(src + q, image, stride, n);
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
