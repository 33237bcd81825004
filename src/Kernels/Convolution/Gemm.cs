using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Functional.Kernels;

/// <summary>
/// The SGEMM core of the convolutions: C (=|+=) A·B with C row-major, B packed into panels and
/// A read in place through row pointers and a K stride (so the forward weight [M, K] and the
/// transposed one, read as its transpose, need no packing).
/// <code>
///            K                 NR=24          NR
///      ┌───────────┐       ┌──┬──┬──┐     ┌──┬──┬──┐
///  MR=4│  A rows   │   ×  K│B0│B1│..│  =  │C │  │  │ MR   one 4×24 tile = 12 ymm accumulators
///      └───────────┘       └──┴──┴──┘     └──┴──┴──┘
///   broadcast a[i,k]     packed: panel j holds columns 24j..24j+23, k-major, 24 floats per k
/// </code>
/// The loop over k inside a tile runs in one fixed order from one fixed starting value (bias, zero
/// or the C of the previous K block), so a C element's value never depends on how the caller
/// split M or N between threads.
/// </summary>
internal static unsafe class Gemm
{
    /// <summary>Rows of A (and C) per micro-tile.</summary>
    internal const int MR = 4;
    /// <summary>Columns of B (and C) per micro-tile: three ymm vectors.</summary>
    internal const int NR = 24;
    /// <summary>Largest K block: a packed B panel (KC × NR floats = 24 KB) stays in L1.</summary>
    internal const int KC = 256;
    /// <summary>Rows of A per macro block, so the A block (MC × KC) stays in L2.</summary>
    internal const int MC = 128;

    /// <summary>True when the AVX2/FMA micro-kernel can run on this machine.</summary>
    internal static bool FastSupported => Fma.IsSupported && Avx2.IsSupported;

    /// <summary>Splits K into equal blocks of at most <paramref name="max"/>; the block size is a function of K (and the bound) only.</summary>
    internal static int KBlock(int k, int max = KC) => k <= max ? Math.Max(k, 1) : (k + (k + max - 1) / max - 1) / ((k + max - 1) / max);

    /// <summary>Floats needed to pack a kc × nc block of B.</summary>
    internal static long PackedBSize(int kc, int nc) => (long)kc * RoundUp(nc, NR);

    internal static int RoundUp(int x, int m) => (x + m - 1) / m * m;

    /// <summary>
    /// Packs rows [k0, k0+kc), columns [p0, p0+nc) of a row-major matrix B (row stride ldb) into
    /// NR-wide panels; the columns past nc in the last panel are zeroed.
    /// </summary>
    internal static void PackB(float* b, nint ldb, int k0, int kc, int p0, int nc, float* dst)
    {
        nint panelStride = (nint)kc * NR;
        for (int kr = 0; kr < kc; kr++)
        {
            float* src = b + (k0 + kr) * ldb + p0;
            float* d = dst + kr * NR;
            int q = 0;
            for (; q + NR <= nc; q += NR, d += panelStride)
                Copy24(src + q, d);
            if (q < nc)
            {
                int rem = nc - q;
                for (int j = 0; j < rem; j++) d[j] = src[q + j];
                for (int j = rem; j < NR; j++) d[j] = 0f;
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Copy24(float* src, float* dst)
    {
        Vector256.Store(Vector256.Load(src), dst);
        Vector256.Store(Vector256.Load(src + 8), dst + 8);
        Vector256.Store(Vector256.Load(src + 16), dst + 16);
    }

    /// <summary>
    /// C[0..m, 0..nc) (=|+=) A[0..m, 0..kc) · Bpacked, where row i of A starts at a + i·rs and
    /// advances by ks per k. On the first K block (<paramref name="accumulate"/> false) C starts
    /// from <paramref name="bias"/>[i] (or zero when null); later blocks add to C.
    /// </summary>
    internal static void Block(int m, int kc, float* a, nint rs, nint ks, float* bPacked, int nc,
        float* c, nint ldc, float* bias, bool accumulate, bool fast)
        => Block(m, kc, a, rs, ks, bPacked, (nint)kc * NR, NR, nc, c, ldc, bias, accumulate, fast);

    /// <summary>
    /// <see cref="Block(int, int, float*, nint, nint, float*, int, float*, nint, float*, bool, bool)"/> with B in any
    /// panel layout: column block j (NR wide) starts at b + j·<paramref name="panelStride"/> and advances by
    /// <paramref name="bRowStride"/> per k (packed: kc·NR and NR; a row-major matrix: NR and its row stride, every
    /// column up to the next multiple of NR readable).
    /// </summary>
    [SkipLocalsInit]
    internal static void Block(int m, int kc, float* a, nint rs, nint ks, float* b, nint panelStride, nint bRowStride, int nc,
        float* c, nint ldc, float* bias, bool accumulate, bool fast)
    {
        float* tile = stackalloc float[MR * NR];
        float* tileBias = stackalloc float[MR];
        for (int ic = 0; ic < m; ic += MC)
        {
            int mEnd = Math.Min(ic + MC, m);
            for (int jr = 0; jr < nc; jr += NR)
            {
                int nr = Math.Min(NR, nc - jr);
                float* bp = b + (nint)(jr / NR) * panelStride;
                for (int ir = ic; ir < mEnd; ir += MR)
                {
                    int mr = Math.Min(MR, mEnd - ir);
                    // Rows past the edge alias the last real row: always readable, results discarded.
                    float* a0 = a + ir * rs;
                    float* a1 = a + (ir + Math.Min(1, mr - 1)) * rs;
                    float* a2 = a + (ir + Math.Min(2, mr - 1)) * rs;
                    float* a3 = a + (ir + Math.Min(3, mr - 1)) * rs;
                    float* cp = c + ir * ldc + jr;
                    if (mr == MR && nr == NR)
                    {
                        Kernel(kc, a0, a1, a2, a3, ks, bp, bRowStride, cp, ldc, bias == null ? null : bias + ir, accumulate, fast);
                        continue;
                    }
                    // Edge tile: run the same full kernel on a private tile so every element sees
                    // the identical operation sequence, then copy the valid part.
                    if (accumulate)
                        for (int i = 0; i < mr; i++)
                            for (int j = 0; j < nr; j++) tile[i * NR + j] = cp[i * ldc + j];
                    float* tb = null;
                    if (bias != null)
                    {
                        for (int i = 0; i < MR; i++) tileBias[i] = bias[ir + Math.Min(i, mr - 1)];
                        tb = tileBias;
                    }
                    Kernel(kc, a0, a1, a2, a3, ks, bp, bRowStride, tile, NR, tb, accumulate, fast);
                    for (int i = 0; i < mr; i++)
                        for (int j = 0; j < nr; j++) cp[i * ldc + j] = tile[i * NR + j];
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Kernel(int kc, float* a0, float* a1, float* a2, float* a3, nint ks, float* b, nint bs,
        float* c, nint ldc, float* bias, bool accumulate, bool fast)
    {
        if (fast) KernelFma(kc, a0, a1, a2, a3, ks, b, bs, c, ldc, bias, accumulate);
        else KernelPortable(kc, a0, a1, a2, a3, ks, b, bs, c, ldc, bias, accumulate);
    }

    /// <summary>The AVX2/FMA 4×24 micro-kernel over A rows advancing by a fixed stride <paramref name="ks"/>.</summary>
    internal static void KernelFma(int kc, float* a0, float* a1, float* a2, float* a3, nint ks, float* b, nint bs,
        float* c, nint ldc, float* bias, bool accumulate)
        => KernelFma(kc, a0, a1, a2, a3, new Strided(ks), b, bs, c, ldc, bias, accumulate);

    /// <summary>
    /// The micro-kernel with A gathered: at step k the four rows read a0..a3 + <paramref name="offsets"/>[k],
    /// so A can be the im2col of a padded image read in place. Same FMA sequence per element.
    /// </summary>
    internal static void KernelFmaGathered(int kc, float* a0, float* a1, float* a2, float* a3, int* offsets, float* b, nint bs,
        float* c, nint ldc, bool accumulate)
        => KernelFma(kc, a0, a1, a2, a3, new Gathered(offsets), b, bs, c, ldc, null, accumulate);

    /// <summary>Where step k of the four A rows reads, relative to each row's start (called once per k, in order).</summary>
    private interface IKOffsets
    {
        nint Next();
    }

    private struct Strided(nint stride) : IKOffsets
    {
        private nint offset;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public nint Next()
        {
            nint o = offset;
            offset += stride;
            return o;
        }
    }

    private struct Gathered(int* offsets) : IKOffsets
    {
        private int* next = offsets;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public nint Next() => *next++;
    }

    /// <summary>
    /// The AVX2/FMA 4×24 micro-kernel: 12 accumulators, 3 B vectors, 1 broadcast = 16 ymm. C starts
    /// from its current value (<paramref name="accumulate"/>), from <paramref name="bias"/>[row], or zero.
    /// </summary>
    private static void KernelFma<TK>(int kc, float* a0, float* a1, float* a2, float* a3, TK offsets, float* b, nint bs,
        float* c, nint ldc, float* bias, bool accumulate) where TK : struct, IKOffsets
    {
        Vector256<float> c00, c01, c02, c10, c11, c12, c20, c21, c22, c30, c31, c32;
        if (accumulate)
        {
            c00 = Avx.LoadVector256(c); c01 = Avx.LoadVector256(c + 8); c02 = Avx.LoadVector256(c + 16);
            float* r = c + ldc;
            c10 = Avx.LoadVector256(r); c11 = Avx.LoadVector256(r + 8); c12 = Avx.LoadVector256(r + 16);
            r += ldc;
            c20 = Avx.LoadVector256(r); c21 = Avx.LoadVector256(r + 8); c22 = Avx.LoadVector256(r + 16);
            r += ldc;
            c30 = Avx.LoadVector256(r); c31 = Avx.LoadVector256(r + 8); c32 = Avx.LoadVector256(r + 16);
        }
        else if (bias != null)
        {
            c00 = c01 = c02 = Vector256.Create(bias[0]);
            c10 = c11 = c12 = Vector256.Create(bias[1]);
            c20 = c21 = c22 = Vector256.Create(bias[2]);
            c30 = c31 = c32 = Vector256.Create(bias[3]);
        }
        else
        {
            c00 = c01 = c02 = c10 = c11 = c12 = c20 = c21 = c22 = c30 = c31 = c32 = Vector256<float>.Zero;
        }

        for (int k = 0; k < kc; k++)
        {
            nint off = offsets.Next();
            var b0 = Avx.LoadVector256(b);
            var b1 = Avx.LoadVector256(b + 8);
            var b2 = Avx.LoadVector256(b + 16);
            var av = Avx.BroadcastScalarToVector256(a0 + off);
            c00 = Fma.MultiplyAdd(av, b0, c00); c01 = Fma.MultiplyAdd(av, b1, c01); c02 = Fma.MultiplyAdd(av, b2, c02);
            av = Avx.BroadcastScalarToVector256(a1 + off);
            c10 = Fma.MultiplyAdd(av, b0, c10); c11 = Fma.MultiplyAdd(av, b1, c11); c12 = Fma.MultiplyAdd(av, b2, c12);
            av = Avx.BroadcastScalarToVector256(a2 + off);
            c20 = Fma.MultiplyAdd(av, b0, c20); c21 = Fma.MultiplyAdd(av, b1, c21); c22 = Fma.MultiplyAdd(av, b2, c22);
            av = Avx.BroadcastScalarToVector256(a3 + off);
            c30 = Fma.MultiplyAdd(av, b0, c30); c31 = Fma.MultiplyAdd(av, b1, c31); c32 = Fma.MultiplyAdd(av, b2, c32);
            b += bs;
        }

        Avx.Store(c, c00); Avx.Store(c + 8, c01); Avx.Store(c + 16, c02);
        c += ldc;
        Avx.Store(c, c10); Avx.Store(c + 8, c11); Avx.Store(c + 16, c12);
        c += ldc;
        Avx.Store(c, c20); Avx.Store(c + 8, c21); Avx.Store(c + 16, c22);
        c += ldc;
        Avx.Store(c, c30); Avx.Store(c + 8, c31); Avx.Store(c + 16, c32);
    }

    /// <summary>
    /// Portable micro-kernel for machines without AVX2/FMA: same tile, same k order, separate
    /// multiply and add (so it agrees with the FMA kernel to rounding, not bit for bit).
    /// </summary>
    [SkipLocalsInit]
    internal static void KernelPortable(int kc, float* a0, float* a1, float* a2, float* a3, nint ks, float* b, nint bs,
        float* c, nint ldc, float* bias, bool accumulate)
    {
        float* acc = stackalloc float[MR * NR];
        float** rows = stackalloc float*[MR];
        rows[0] = a0; rows[1] = a1; rows[2] = a2; rows[3] = a3;
        for (int i = 0; i < MR; i++)
        {
            float init = bias != null ? bias[i] : 0f;
            for (int j = 0; j < NR; j++) acc[i * NR + j] = accumulate ? c[i * ldc + j] : init;
        }
        nint off = 0;
        for (int k = 0; k < kc; k++, off += ks, b += bs)
        {
            for (int i = 0; i < MR; i++)
            {
                float av = rows[i][off];
                float* ar = acc + i * NR;
                for (int j = 0; j < NR; j++) ar[j] += av * b[j];
            }
        }
        for (int i = 0; i < MR; i++)
            for (int j = 0; j < NR; j++) c[i * ldc + j] = acc[i * NR + j];
    }

    /// <summary>
    /// Plain C[M×N] = A[M×K]·B[K×N], all row-major and dense, through the same blocking as the
    /// convolutions (single-threaded). For tests of the GEMM core.
    /// </summary>
    internal static void Multiply(int m, int n, int k, ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, bool fast)
    {
        if (m < 0 || n < 0 || k < 0) throw new ArgumentOutOfRangeException(nameof(m));
        if (a.Length < (long)m * k) throw new ArgumentException("too short", nameof(a));
        if (b.Length < (long)k * n) throw new ArgumentException("too short", nameof(b));
        if (c.Length < (long)m * n) throw new ArgumentException("too short", nameof(c));
        if (m == 0 || n == 0) return;
        fast &= FastSupported;
        if (k == 0) { c[..(m * n)].Clear(); return; }
        const int NC = 240;
        int kb = KBlock(k);
        fixed (float* pa = a, pb = b, pc = c)
        {
            float* packed = Scratch.Get(PackedBSize(kb, NC));
            for (int jc = 0; jc < n; jc += NC)
            {
                int nc = Math.Min(NC, n - jc);
                for (int k0 = 0; k0 < k; k0 += kb)
                {
                    int kc = Math.Min(kb, k - k0);
                    PackB(pb, n, k0, kc, jc, nc, packed);
                    Block(m, kc, pa + k0, k, 1, packed, nc, pc + jc, n, null, k0 > 0, fast);
                }
            }
        }
    }
}
