using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Functional.Kernels;

/// <summary>
/// The SGEMM core of the convolutions: C (=|+=) A·B with C row-major, B packed into panels and
/// A read in place through row pointers and a K stride (so the forward weight [M, K] and the
/// transposed one, read as its transpose, need no packing).
/// <code>
///            K                 NR             NR
///      ┌───────────┐       ┌──┬──┬──┐     ┌──┬──┬──┐
///    MR│  A rows   │   ×  K│B0│B1│..│  =  │C │  │  │ MR   one MR×NR tile of accumulators
///      └───────────┘       └──┴──┴──┘     └──┴──┴──┘
///   broadcast a[i,k]     packed: panel j holds columns NR·j..NR·j+NR-1, k-major, NR floats per k
/// </code>
/// The tile follows <see cref="Simd.Width"/>: 4×24 (12 ymm accumulators) at 256 bits, 8×32
/// (16 zmm accumulators) at 512 bits; the panel width of every packing follows it.
/// The loop over k inside a tile runs in one fixed order from one fixed starting value (bias, zero
/// or the C of the previous K block), so a C element's value never depends on how the caller
/// split M, N or K, nor on the tile: both widths give bit-identical results.
/// </summary>
internal static unsafe class Gemm
{
    /// <summary>True when the 512-bit micro-kernel runs (<see cref="Simd.Width"/> is 512).</summary>
    internal static readonly bool Wide = Simd.Width == 512;
    /// <summary>Rows of A (and C) per micro-tile.</summary>
    internal static readonly int MR = Wide ? 8 : 4;
    /// <summary>Columns of B (and C) per micro-tile: three ymm or two zmm vectors.</summary>
    internal static readonly int NR = Wide ? 32 : 24;
    /// <summary>Largest K block: a packed B panel (KC × NR floats = 24 or 32 KB) stays in L1.</summary>
    internal const int KC = 256;
    /// <summary>Rows of A per macro block, so the A block (MC × KC) stays in L2.</summary>
    internal const int MC = 128;
    /// <summary>Most rows in any micro-tile (sizes row-pointer scratch).</summary>
    internal const int MaxMR = 8;

    /// <summary>True when the SIMD micro-kernels can run on this machine.</summary>
    internal static bool FastSupported => Simd.Width >= 256;

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
                for (int v = 0; v < NR; v += 8) Vector256.Store(Vector256.Load(src + q + v), d + v);
            if (q < nc)
            {
                int rem = nc - q;
                for (int j = 0; j < rem; j++) d[j] = src[q + j];
                for (int j = rem; j < NR; j++) d[j] = 0f;
            }
        }
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
        int mrTile = MR, nrTile = NR;
        float* tile = stackalloc float[MaxMR * 32];
        float* tileBias = stackalloc float[MaxMR];
        float** rows = stackalloc float*[MaxMR];
        for (int ic = 0; ic < m; ic += MC)
        {
            int mEnd = Math.Min(ic + MC, m);
            for (int jr = 0; jr < nc; jr += nrTile)
            {
                int nr = Math.Min(nrTile, nc - jr);
                float* bp = b + (nint)(jr / nrTile) * panelStride;
                for (int ir = ic; ir < mEnd; ir += mrTile)
                {
                    int mr = Math.Min(mrTile, mEnd - ir);
                    // Rows past the edge alias the last real row: always readable, results discarded.
                    for (int i = 0; i < mrTile; i++) rows[i] = a + (ir + Math.Min(i, mr - 1)) * rs;
                    float* cp = c + ir * ldc + jr;
                    if (mr == mrTile && nr == nrTile)
                    {
                        Kernel(kc, rows, ks, bp, bRowStride, cp, ldc, bias == null ? null : bias + ir, accumulate, fast);
                        continue;
                    }
                    // Edge tile: run the same full kernel on a private tile so every element sees
                    // the identical operation sequence, then copy the valid part.
                    if (accumulate)
                        for (int i = 0; i < mr; i++)
                            for (int j = 0; j < nr; j++) tile[i * nrTile + j] = cp[i * ldc + j];
                    float* tb = null;
                    if (bias != null)
                    {
                        for (int i = 0; i < mrTile; i++) tileBias[i] = bias[ir + Math.Min(i, mr - 1)];
                        tb = tileBias;
                    }
                    Kernel(kc, rows, ks, bp, bRowStride, tile, nrTile, tb, accumulate, fast);
                    for (int i = 0; i < mr; i++)
                        for (int j = 0; j < nr; j++) cp[i * ldc + j] = tile[i * nrTile + j];
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Kernel(int kc, float** rows, nint ks, float* b, nint bs,
        float* c, nint ldc, float* bias, bool accumulate, bool fast)
    {
        if (!fast) KernelPortable(kc, rows, ks, b, bs, c, ldc, bias, accumulate);
        else if (Wide) Kernel512(kc, rows, new Strided(ks), b, bs, c, ldc, bias, accumulate);
        else Kernel256(kc, rows[0], rows[1], rows[2], rows[3], new Strided(ks), b, bs, c, ldc, bias, accumulate);
    }

    /// <summary>
    /// The micro-kernel with A gathered: at step k row i reads <paramref name="rows"/>[i] + <paramref name="offsets"/>[k],
    /// so A can be the im2col of a padded image read in place. Same FMA sequence per element as <see cref="Block(int, int, float*, nint, nint, float*, int, float*, nint, float*, bool, bool)"/>.
    /// </summary>
    internal static void KernelGathered(int kc, float** rows, int* offsets, float* b, nint bs, float* c, nint ldc, bool accumulate)
    {
        if (Wide) Kernel512(kc, rows, new Gathered(offsets), b, bs, c, ldc, null, accumulate);
        else Kernel256(kc, rows[0], rows[1], rows[2], rows[3], new Gathered(offsets), b, bs, c, ldc, null, accumulate);
    }

    /// <summary>Where step k of the A rows reads, relative to each row's start (called once per k, in order).</summary>
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
    private static void Kernel256<TK>(int kc, float* a0, float* a1, float* a2, float* a3, TK offsets, float* b, nint bs,
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
    /// The AVX-512 8×32 micro-kernel: 16 zmm accumulators, 2 B vectors, 1 broadcast (of 32 zmm).
    /// Per element the same FMA chain as <see cref="Kernel256"/>, so both widths agree bit for bit.
    /// </summary>
    private static void Kernel512<TK>(int kc, float** rows, TK offsets, float* b, nint bs,
        float* c, nint ldc, float* bias, bool accumulate) where TK : struct, IKOffsets
    {
        float* a0 = rows[0], a1 = rows[1], a2 = rows[2], a3 = rows[3], a4 = rows[4], a5 = rows[5], a6 = rows[6], a7 = rows[7];
        Vector512<float> c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51, c60, c61, c70, c71;
        if (accumulate)
        {
            float* r = c;
            c00 = Avx512F.LoadVector512(r); c01 = Avx512F.LoadVector512(r + 16); r += ldc;
            c10 = Avx512F.LoadVector512(r); c11 = Avx512F.LoadVector512(r + 16); r += ldc;
            c20 = Avx512F.LoadVector512(r); c21 = Avx512F.LoadVector512(r + 16); r += ldc;
            c30 = Avx512F.LoadVector512(r); c31 = Avx512F.LoadVector512(r + 16); r += ldc;
            c40 = Avx512F.LoadVector512(r); c41 = Avx512F.LoadVector512(r + 16); r += ldc;
            c50 = Avx512F.LoadVector512(r); c51 = Avx512F.LoadVector512(r + 16); r += ldc;
            c60 = Avx512F.LoadVector512(r); c61 = Avx512F.LoadVector512(r + 16); r += ldc;
            c70 = Avx512F.LoadVector512(r); c71 = Avx512F.LoadVector512(r + 16);
        }
        else if (bias != null)
        {
            c00 = c01 = Vector512.Create(bias[0]);
            c10 = c11 = Vector512.Create(bias[1]);
            c20 = c21 = Vector512.Create(bias[2]);
            c30 = c31 = Vector512.Create(bias[3]);
            c40 = c41 = Vector512.Create(bias[4]);
            c50 = c51 = Vector512.Create(bias[5]);
            c60 = c61 = Vector512.Create(bias[6]);
            c70 = c71 = Vector512.Create(bias[7]);
        }
        else
        {
            c00 = c01 = c10 = c11 = c20 = c21 = c30 = c31 = c40 = c41 = c50 = c51 = c60 = c61 = c70 = c71 = Vector512<float>.Zero;
        }

        for (int k = 0; k < kc; k++)
        {
            nint off = offsets.Next();
            var b0 = Avx512F.LoadVector512(b);
            var b1 = Avx512F.LoadVector512(b + 16);
            var av = Vector512.Create(a0[off]);
            c00 = Avx512F.FusedMultiplyAdd(av, b0, c00); c01 = Avx512F.FusedMultiplyAdd(av, b1, c01);
            av = Vector512.Create(a1[off]);
            c10 = Avx512F.FusedMultiplyAdd(av, b0, c10); c11 = Avx512F.FusedMultiplyAdd(av, b1, c11);
            av = Vector512.Create(a2[off]);
            c20 = Avx512F.FusedMultiplyAdd(av, b0, c20); c21 = Avx512F.FusedMultiplyAdd(av, b1, c21);
            av = Vector512.Create(a3[off]);
            c30 = Avx512F.FusedMultiplyAdd(av, b0, c30); c31 = Avx512F.FusedMultiplyAdd(av, b1, c31);
            av = Vector512.Create(a4[off]);
            c40 = Avx512F.FusedMultiplyAdd(av, b0, c40); c41 = Avx512F.FusedMultiplyAdd(av, b1, c41);
            av = Vector512.Create(a5[off]);
            c50 = Avx512F.FusedMultiplyAdd(av, b0, c50); c51 = Avx512F.FusedMultiplyAdd(av, b1, c51);
            av = Vector512.Create(a6[off]);
            c60 = Avx512F.FusedMultiplyAdd(av, b0, c60); c61 = Avx512F.FusedMultiplyAdd(av, b1, c61);
            av = Vector512.Create(a7[off]);
            c70 = Avx512F.FusedMultiplyAdd(av, b0, c70); c71 = Avx512F.FusedMultiplyAdd(av, b1, c71);
            b += bs;
        }

        Avx512F.Store(c, c00); Avx512F.Store(c + 16, c01); c += ldc;
        Avx512F.Store(c, c10); Avx512F.Store(c + 16, c11); c += ldc;
        Avx512F.Store(c, c20); Avx512F.Store(c + 16, c21); c += ldc;
        Avx512F.Store(c, c30); Avx512F.Store(c + 16, c31); c += ldc;
        Avx512F.Store(c, c40); Avx512F.Store(c + 16, c41); c += ldc;
        Avx512F.Store(c, c50); Avx512F.Store(c + 16, c51); c += ldc;
        Avx512F.Store(c, c60); Avx512F.Store(c + 16, c61); c += ldc;
        Avx512F.Store(c, c70); Avx512F.Store(c + 16, c71);
    }

    /// <summary>
    /// Portable micro-kernel for machines without AVX2/FMA: same tile, same k order, separate
    /// multiply and add (so it agrees with the FMA kernels to rounding, not bit for bit).
    /// </summary>
    [SkipLocalsInit]
    internal static void KernelPortable(int kc, float** rows, nint ks, float* b, nint bs,
        float* c, nint ldc, float* bias, bool accumulate)
    {
        int mrTile = MR, nrTile = NR;
        float* acc = stackalloc float[MaxMR * 32];
        for (int i = 0; i < mrTile; i++)
        {
            float init = bias != null ? bias[i] : 0f;
            for (int j = 0; j < nrTile; j++) acc[i * nrTile + j] = accumulate ? c[i * ldc + j] : init;
        }
        nint off = 0;
        for (int k = 0; k < kc; k++, off += ks, b += bs)
        {
            for (int i = 0; i < mrTile; i++)
            {
                float av = rows[i][off];
                float* ar = acc + i * nrTile;
                for (int j = 0; j < nrTile; j++) ar[j] += av * b[j];
            }
        }
        for (int i = 0; i < mrTile; i++)
            for (int j = 0; j < nrTile; j++) c[i * ldc + j] = acc[i * nrTile + j];
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
