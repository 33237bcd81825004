using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Functional.Kernels;

/// <summary>
/// Winograd F(2×2, 3×3) for 2-D, 3×3, stride-1, undilated convolutions with enough channels:
/// each 2×2 output tile is computed from a 4×4 input tile as Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A, so the
/// channel reduction becomes 16 independent GEMMs (one per transform point ξ) over tiles:
/// <code>
///   U[ξ][oc][c] = (G w[oc,c] Gᵀ)[ξ]          filter transform, once per call (shared by all workers)
///   V[ξ][c][t]  = (Bᵀ d[c,t] B)[ξ]            input transform, per work item (a run of tiles)
///   M[ξ][oc][t] = Σ_c U[ξ][oc][c] · V[ξ][c][t]   16 GEMMs through the SGEMM micro-kernel
///   y[oc, tile t] = Aᵀ M[·][oc][t] A + bias[oc]
/// </code>
/// 2.25× fewer multiplies than im2col+GEMM; the transforms only add, subtract and halve, so the
/// rounding stays close to the direct sum's. Tiles are numbered row-major over the image and
/// handed out in fixed runs; every tile's value comes from the same operation sequence whichever
/// run or thread it falls in, and the K reduction is blocked by K alone, so results are
/// bit-identical for any thread count.
/// </summary>
internal static unsafe class Winograd
{
    private static readonly int NR = Gemm.NR;

    /// <summary>True when the problem suits F(2×2, 3×3): the AVX2 path, a 3×3 2-D kernel, stride and dilation 1, enough channels.</summary>
    internal static bool Applies(in ConvPlan p, bool fast, bool filtersKept)
    {
        if (!fast || !Avx2.IsSupported || !Fma.IsSupported) return false;
        if (p.Kernel != new Dim3(1, 3, 3) || p.Stride != Dim3.All(1) || p.Dilation != Dim3.All(1)) return false;
        if (p.Input.D != 1 || p.Output.D != 1 || p.PadLo.D != 0) return false;
        int cg = p.InChannels / p.Groups, ocg = p.OutChannels / p.Groups;
        if (cg < 16 || ocg < 16) return false;
        // The transformed filters (16·OC·Cg floats) stream through once per run of tiles. Kept per
        // weight, they pay up to 256×256 (4 MB, L3-resident: 256 channels on 14×14 take 1.7 instead
        // of 2.8 ms on one thread); at 512×512 (16 MB) the traffic cancels the saved multiplies.
        // Transformed on every call, the transform itself costs too much above 128×128.
        if ((long)16 * p.OutChannels * cg > (filtersKept ? 1 << 20 : 1 << 18)) return false;
        long tiles = (long)p.Batch * ((p.Output.H + 1) / 2) * ((p.Output.W + 1) / 2);
        return tiles >= 16;
    }

    /// <summary>
    /// The convolution; <paramref name="prepared"/> (may be null) keeps the transformed filters between calls.
    /// False, with the output unspecified, when the input or weight holds a value the transforms cannot
    /// take exactly enough (see <see cref="Bounded"/>): the caller then runs another path.
    /// </summary>
    internal static bool Forward(in ConvPlan p, float* input, float* weight, ConvWeights? prepared, float* bias, float* output)
    {
        int cg = p.InChannels / p.Groups, ocg = p.OutChannels / p.Groups;
        float maxWeight = prepared?.MaxMagnitude ?? ConvWeights.MaxMagnitudeOf(new ReadOnlySpan<float>(weight, p.OutChannels * cg * 9));
        int oc = p.OutChannels;
        long size = 16L * oc * cg;
        float[]? kept = prepared?.Winograd(((long)p.Groups << 32) | (uint)ocg, (Weight: (nint)weight, oc, cg), static s =>
        {
            var u = GC.AllocateUninitializedArray<float>(checked(16 * s.oc * s.cg));
            fixed (float* pu = u) TransformAll((float*)s.Weight, pu, s.oc, s.cg);
            return u;
        });
        fixed (float* pk = kept)
        {
            float* u = pk;
            if (u == null)
            {
                u = Scratch.GetShared(size);
                TransformAll(weight, u, oc, cg);
            }
            var job = new Job
            {
                U = u, Input = input, Bias = bias, Output = output,
                Batch = p.Batch, Groups = p.Groups, Cg = cg, OCg = ocg, OutChannels = p.OutChannels, InChannels = p.InChannels,
                H = p.Input.H, W = p.Input.W, OH = p.Output.H, OW = p.Output.W, PH = p.PadLo.H, PW = p.PadLo.W,
                MaxWeight = maxWeight,
            };
            job.Run();
            return job.Unbounded == 0;
        }
    }

    /// <summary>
    /// Whether F(2×2, 3×3) gives the direct sum's answer for inputs up to <paramref name="maxInput"/> in
    /// magnitude: no value is NaN or infinite (the transforms add and subtract inputs, so one infinity
    /// meets its own negation: NaN where the direct sum gives ±Inf), and no intermediate can overflow where
    /// the direct sum does not. Bounds: |V| ≤ 4·max|x|, |U| ≤ 2.25·max|w|, |M| ≤ Cg·|U|·|V|,
    /// |y − bias| ≤ 9·|M|, so 81·Cg·max|x|·max|w|, doubled for rounding, must stay below float's maximum.
    /// Ordinary data is 30 orders of magnitude inside.
    /// </summary>
    internal static bool Bounded(int cg, float maxInput, float maxWeight) => 162.0 * cg * maxInput * maxWeight < float.MaxValue;

    private static void TransformAll(float* weight, float* u, int oc, int cg)
    {
        nint w = (nint)weight, pu = (nint)u;
        Parallelism.For(oc, (long)cg * 40, (s, e) => TransformFilters((float*)w, (float*)pu, oc, cg, s, e));
    }

    /// <summary>U[ξ][oc][c] = (G w Gᵀ)[ξ] for output channels [s, e), G = [[1,0,0],[½,½,½],[½,-½,½],[0,0,1]].</summary>
    private static void TransformFilters(float* weight, float* u, int oc, int cg, int s, int e)
    {
        long plane = (long)oc * cg;
        float* t = stackalloc float[12];
        for (int o = s; o < e; o++)
        {
            for (int c = 0; c < cg; c++)
            {
                float* w = weight + ((long)o * cg + c) * 9;
                for (int j = 0; j < 3; j++)
                {
                    float g0 = w[j], g1 = w[3 + j], g2 = w[6 + j];
                    t[j] = g0;
                    t[3 + j] = 0.5f * (g0 + g1 + g2);
                    t[6 + j] = 0.5f * (g0 - g1 + g2);
                    t[9 + j] = g2;
                }
                float* dst = u + (long)o * cg + c;
                for (int i = 0; i < 4; i++)
                {
                    float t0 = t[3 * i], t1 = t[3 * i + 1], t2 = t[3 * i + 2];
                    dst[(4 * i + 0) * plane] = t0;
                    dst[(4 * i + 1) * plane] = 0.5f * (t0 + t1 + t2);
                    dst[(4 * i + 2) * plane] = 0.5f * (t0 - t1 + t2);
                    dst[(4 * i + 3) * plane] = t2;
                }
            }
        }
    }

    private sealed class Job
    {
        public float* U, Input, Bias, Output;
        public int Batch, Groups, Cg, OCg, InChannels, OutChannels, H, W, OH, OW, PH, PW;
        public float MaxWeight;
        /// <summary>Set by a work item whose input is out of <see cref="Bounded"/>'s range: the caller reruns elsewhere.</summary>
        public int Unbounded;
        private int th, tw, tilesPerImage, runLength, runs, ocChunks, ocChunk;

        public void Run()
        {
            th = (OH + 1) / 2;
            tw = (OW + 1) / 2;
            tilesPerImage = th * tw;
            // Tiles per work item: whole 24-column panels, fewer when many channels (V and M stay in L2).
            runLength = Cg + OCg <= 160 ? 2 * NR : NR;
            runs = (tilesPerImage + runLength - 1) / runLength;
            long items = (long)Batch * Groups * runs;
            if (items > int.MaxValue / 4) throw new ArgumentException("Convolution too large.", "plan");
            ocChunks = OutputChannelChunks((int)items, OCg, Parallelism.Threads);
            ocChunk = Gemm.RoundUp((OCg + ocChunks - 1) / ocChunks, Gemm.MR);
            ocChunks = (OCg + ocChunk - 1) / ocChunk;
            long cost = 16L * runLength * Cg * ocChunk;
            Parallelism.For((int)items * ocChunks, cost, Work);
        }

        /// <summary>
        /// Splits the output channels too when the runs alone divide very unevenly between the
        /// threads (3 runs of a 14×14 map on 2 threads leave one idle a third of the time: 1.10 ->
        /// 0.94 ms for 256 channels). Each chunk transforms its run's input again, which costs more
        /// than a 10 % imbalance (9 or 17 runs: measured slower), so only large ones are split.
        /// Every element's value is the same whatever the split.
        /// </summary>
        private static int OutputChannelChunks(int items, int ocg, int threads)
        {
            static double Imbalance(long work, int threads) => Math.Ceiling((double)work / threads) / ((double)work / threads);
            int best = 1;
            for (int c = 2; c <= 4 && ocg / c >= 32; c++)
                if (Imbalance((long)items * c, threads) < Imbalance((long)items * best, threads) - 0.15) best = c;
            return best;
        }

        private void Work(int start, int end)
        {
            int ldv = Gemm.RoundUp(runLength, NR) + 8;
            int stripW = Gemm.RoundUp(2 * tw + 18, 8);
            int maxTileRows = Math.Min(th, (runLength + tw - 1) / tw + 1);
            int stripRows = 2 * maxTileRows + 2;
            long vSize = 16L * Cg * ldv, mSize = 16L * OCg * ldv;
            float* v = Scratch.Get(vSize + mSize + (long)stripRows * stripW + 16);
            float* m = v + vSize;
            float* strip = m + mSize;
            float* tmp = strip + (long)stripRows * stripW;
            int kb = Gemm.KBlock(Cg);
            for (int chunked = start; chunked < end; chunked++)
            {
                int item = chunked / ocChunks, oc0 = (chunked - item * ocChunks) * ocChunk, ocn = Math.Min(ocChunk, OCg - oc0);
                int t = item / runs, run = item - t * runs;
                int n = t / Groups, g = t - n * Groups;
                int tau0 = run * runLength, nt = Math.Min(runLength, tilesPerImage - tau0);
                int ty0 = tau0 / tw, ty1 = (tau0 + nt - 1) / tw;
                float* img = Input + ((long)n * InChannels + (long)g * Cg) * H * W;

                // Input transform, channel by channel through a zero-padded strip of input rows.
                int rows = 2 * (ty1 - ty0 + 1) + 2;
                float maxInput = 0;
                for (int c = 0; c < Cg; c++)
                {
                    maxInput = FillStrip(img + (long)c * H * W, strip, stripW, rows, 2 * ty0 - PH, maxInput);
                    float* vc = v + (long)c * ldv;
                    for (int ty = ty0; ty <= ty1; ty++)
                    {
                        int txa = ty == ty0 ? tau0 - ty0 * tw : 0;
                        int txb = ty == ty1 ? tau0 + nt - ty1 * tw : tw;
                        float* s = strip + (long)2 * (ty - ty0) * stripW;
                        int col = ty * tw - tau0;
                        for (int tx = txa; tx < txb; tx += 8)
                            InputTile8(s, stripW, tx, vc + col + tx, (long)Cg * ldv);
                    }
                }

                // The whole convolution reruns on another path; this item's work would be thrown away.
                if (!Bounded(Cg, maxInput, MaxWeight)) Volatile.Write(ref Unbounded, 1);
                if (Volatile.Read(ref Unbounded) != 0) continue;

                // 16 GEMMs: M[ξ] = U[ξ] (this chunk of the group's rows) · V[ξ].
                float* ug = U + ((long)g * OCg + oc0) * Cg;
                long uPlane = (long)OutChannels * Cg;
                for (int xi = 0; xi < 16; xi++)
                {
                    for (int k0 = 0; k0 < Cg; k0 += kb)
                    {
                        int kc = Math.Min(kb, Cg - k0);
                        Gemm.Block(ocn, kc, ug + xi * uPlane + k0, Cg, 1, v + xi * (long)Cg * ldv + (long)k0 * ldv, NR, ldv, nt,
                            m + xi * (long)ocn * ldv, ldv, null, k0 > 0, true);
                    }
                }

                // Output transform and bias.
                float* outImg = Output + ((long)n * OutChannels + (long)g * OCg + oc0) * OH * OW;
                for (int o = 0; o < ocn; o++)
                {
                    var bv = Vector256.Create(Bias == null ? 0f : Bias[g * OCg + oc0 + o]);
                    float* mo = m + (long)o * ldv;
                    float* yo = outImg + (long)o * OH * OW;
                    for (int ty = ty0; ty <= ty1; ty++)
                    {
                        int txa = ty == ty0 ? tau0 - ty0 * tw : 0;
                        int txb = ty == ty1 ? tau0 + nt - ty1 * tw : tw;
                        int col = ty * tw - tau0;
                        for (int tx = txa; tx < txb; tx += 8)
                            OutputTile8(mo + col + tx, (long)ocn * ldv, bv, yo, ty, tx, Math.Min(8, txb - tx), tmp);
                    }
                }
            }
        }

        /// <summary>
        /// strip[r][x] = input[row0 + r, x - PW], zero outside the image; returns the larger of
        /// <paramref name="max"/> and the rows' largest magnitude, NaN once any value is NaN.
        /// </summary>
        private float FillStrip(float* plane, float* strip, int stripW, int rows, int row0, float max)
        {
            int lo = Math.Min(PW, stripW), hi = Math.Clamp(PW + W, lo, stripW);
            for (int r = 0; r < rows; r++)
            {
                float* d = strip + (long)r * stripW;
                int ih = row0 + r;
                if ((uint)ih >= (uint)H)
                {
                    new Span<float>(d, stripW).Clear();
                    continue;
                }
                new Span<float>(d, lo).Clear();
                var row = new ReadOnlySpan<float>(plane + (long)ih * W + (lo - PW), hi - lo);
                row.CopyTo(new Span<float>(d + lo, hi - lo));
                new Span<float>(d + hi, stripW - hi).Clear();
                if (row.Length > 0 && !float.IsNaN(max))
                {
                    float m = Math.Abs(TensorPrimitives.MaxMagnitude(row));
                    if (float.IsNaN(m) || m > max) max = m;
                }
            }
            return max;
        }

        /// <summary>Bᵀ d B for the 8 tiles starting at tile column tx (rows s .. s+3·stripW), into v[ξ·plane].</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void InputTile8(float* s, int stripW, int tx, float* v, long plane)
        {
            s += 2 * tx;
            Row(s, out var a0, out var a1, out var a2, out var a3);
            Row(s + stripW, out var b0, out var b1, out var b2, out var b3);
            Row(s + 2 * stripW, out var c0, out var c1, out var c2, out var c3);
            Row(s + 3 * stripW, out var d0, out var d1, out var d2, out var d3);
            // Bᵀ over the rows: (r0 - r2, r1 + r2, r2 - r1, r1 - r3).
            Avx.Store(v + 0 * plane, a0 - c0); Avx.Store(v + 1 * plane, a1 - c1); Avx.Store(v + 2 * plane, a2 - c2); Avx.Store(v + 3 * plane, a3 - c3);
            Avx.Store(v + 4 * plane, b0 + c0); Avx.Store(v + 5 * plane, b1 + c1); Avx.Store(v + 6 * plane, b2 + c2); Avx.Store(v + 7 * plane, b3 + c3);
            Avx.Store(v + 8 * plane, c0 - b0); Avx.Store(v + 9 * plane, c1 - b1); Avx.Store(v + 10 * plane, c2 - b2); Avx.Store(v + 11 * plane, c3 - b3);
            Avx.Store(v + 12 * plane, b0 - d0); Avx.Store(v + 13 * plane, b1 - d1); Avx.Store(v + 14 * plane, b2 - d2); Avx.Store(v + 15 * plane, b3 - d3);
        }

        /// <summary>The column transform (e0 - e2, e1 + e2, e2 - e1, e1 - e3) of one input row for 8 tiles (tile i at s + 2i).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Row(float* s, out Vector256<float> h0, out Vector256<float> h1, out Vector256<float> h2, out Vector256<float> h3)
        {
            var e0 = Im2Col.Even(s);
            var e1 = Im2Col.Even(s + 1);
            var e2 = Im2Col.Even(s + 2);
            var e3 = Im2Col.Even(s + 3);
            h0 = e0 - e2;
            h1 = e1 + e2;
            h2 = e2 - e1;
            h3 = e1 - e3;
        }

        /// <summary>Aᵀ m A + bias for 8 tiles (columns of m, ξ planes apart), written as 2×2 output tiles (count valid tiles).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private void OutputTile8(float* m, long plane, Vector256<float> bias, float* y, int ty, int tx, int count, float* tmp)
        {
            // Aᵀ = [[1,1,1,0],[0,1,-1,-1]] along j, then along i.
            Vector256<float> s00, s01, s10, s11, s20, s21, s30, s31;
            Col(m, plane, out s00, out s01);
            Col(m + 4 * plane, plane, out s10, out s11);
            Col(m + 8 * plane, plane, out s20, out s21);
            Col(m + 12 * plane, plane, out s30, out s31);
            var y00 = s00 + s10 + s20 + bias;
            var y01 = s01 + s11 + s21 + bias;
            var y10 = s10 - s20 - s30 + bias;
            var y11 = s11 - s21 - s31 + bias;
            int oh = 2 * ty, ow = 2 * tx;
            int width = Math.Min(2 * count, OW - ow);
            Put(y + (long)oh * OW + ow, y00, y01, width, tmp);
            if (oh + 1 < OH) Put(y + (long)(oh + 1) * OW + ow, y10, y11, width, tmp);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Col(float* m, long plane, out Vector256<float> r0, out Vector256<float> r1)
        {
            var m0 = Avx.LoadVector256(m);
            var m1 = Avx.LoadVector256(m + plane);
            var m2 = Avx.LoadVector256(m + 2 * plane);
            var m3 = Avx.LoadVector256(m + 3 * plane);
            r0 = m0 + m1 + m2;
            r1 = m1 - m2 - m3;
        }

        /// <summary>Interleaves (a0 b0 a1 b1 ...) and stores the first <paramref name="width"/> of the 16 values.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Put(float* dst, Vector256<float> a, Vector256<float> b, int width, float* tmp)
        {
            var lo = Avx.UnpackLow(a, b);   // a0 b0 a1 b1 | a4 b4 a5 b5
            var hi = Avx.UnpackHigh(a, b);  // a2 b2 a3 b3 | a6 b6 a7 b7
            var first = Avx.Permute2x128(lo, hi, 0x20);
            var second = Avx.Permute2x128(lo, hi, 0x31);
            if (width == 16)
            {
                Avx.Store(dst, first);
                Avx.Store(dst + 8, second);
                return;
            }
            Avx.Store(tmp, first);
            Avx.Store(tmp + 8, second);
            for (int i = 0; i < width; i++) dst[i] = tmp[i];
        }
    }
}
