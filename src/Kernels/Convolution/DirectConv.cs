using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Functional.Kernels;

/// <summary>
/// Direct forward convolution for few input channels per group (image stems: 3 channels, 3×3 to
/// 7×7, stride 1 or 2, 1-D to 3-D). With K = Cg·taps small, im2col+GEMM spends a large share of
/// its time packing columns that few output channels reuse; here output rows are computed
/// straight from the input rows, vectorised along the output width.
/// <code>
///   prepared row (per channel c, input plane id, input row ih), stride s, padded row P[j] = in[j - pW]:
///     phase r = 0..s-1:  phase_r[t] = P[r + s·t]          (zero outside the image)
///   tap (c, kd, kh, kw), a = kw·dW = q·s + r:  P[x·s + a] = phase_r[x + q]   → contiguous in x
///
///   out[oc0..oc0+3][x..x+32) = bias + Σ over valid (c, kd, kh) rows, kw   w[oc][c,kd,kh,kw] · phase_r[x + q ..]
///     4 output channels × 4 vectors = 16 ymm accumulators (4×3 without AVX-512's 32 registers),
///     one broadcast weight per channel and one input load per vector, per tap
/// </code>
/// Weights are packed once per call as [group][block of 4 output channels][c, kd, kh, kw][4] (zeros
/// past the group's channels). A work item is (batch, group, output plane od, run of up to
/// <see cref="RowsPerItem"/> output rows, blocks of output channels): it prepares the input rows its
/// output rows read, then computes block by block, row by row. Taps in the depth/height padding are
/// skipped (a border row reads its weights compacted); width padding is stored zeros in the
/// prepared rows. Every output element accumulates from its bias over its valid taps in
/// (c, kd, kh, kw) order, one FMA each; a row's last column tile shifts back to end at the row's end
/// (recomputing identical values), so no element depends on tiling, work split or
/// <see cref="Parallelism.Threads"/>.
/// </summary>
internal static unsafe class DirectConv
{
    /// <summary>Output channels per register block.</summary>
    private const int OCB = 4;

    /// <summary>Output rows per work item when the threads need no finer split (input rows read by neighbouring output rows are prepared once).</summary>
    private const int RowsPerItem = 16;

    /// <summary>Largest input channel count per group handled here (the benefit shrinks as K grows and the GEMM's packing amortises).</summary>
    internal const int MaxGroupChannels = 4;

    /// <summary>
    /// Largest input and output channel counts per group for grouped convolutions (ResNeXt's 32 groups
    /// of 4-32 channels): there the GEMM has only as many rows as the group has output channels, so
    /// its im2col packing is never amortised (measured on 32 groups of 8 channels, 3×3 over 28×28:
    /// 30 GF/s through the GEMM, 59 here; strided over 56×56: 15 and 43).
    /// </summary>
    internal const int MaxGroupedChannels = 32;

    /// <summary>
    /// True when the direct kernel handles the problem and beats im2col+GEMM: the AVX2/FMA path,
    /// 2 to <see cref="MaxGroupChannels"/> input channels per group (one is the depthwise kernel's; up to
    /// <see cref="MaxGroupedChannels"/> in and out when there are several groups),
    /// a kernel of more than one tap (a 1×1 kernel has no rows to share and multiplies its input
    /// in place or through a cheap im2col), output rows at least 16 wide, and, above 32 output
    /// channels per group (where the GEMM's packing is well amortised), rows at least 24 wide whose
    /// column tiles waste at most a tenth of their width on the overlapping last tile (measured: the
    /// GEMM path is as fast or faster otherwise). Bounded buffers: per-thread prepared rows of at
    /// most 1 MB, at most 4096 taps.
    /// </summary>
    internal static bool Applies(in ConvPlan p, in ConvGeometry g, bool fast)
    {
        if (!fast || !Fma.IsSupported || !Avx2.IsSupported) return false;
        int cg = p.InChannels / p.Groups, ocg = p.OutChannels / p.Groups;
        bool grouped = p.Groups > 1 && cg <= MaxGroupedChannels && ocg <= MaxGroupedChannels;
        if (cg < 2 || (cg > MaxGroupChannels && !grouped) || g.Taps == 1) return false;
        if (g.ColW < 16 || g.SW > 16 || (long)cg * g.Taps > 4096) return false;
        if (ocg > 32 && (g.ColW < 24 || g.ColW < 0.9 * Covered(g.ColW, Avx512F.VL.IsSupported))) return false;
        // The prepared input of an item (every channel, kd plane and input row its output rows read)
        // must stay a per-thread buffer of at most 1 MB.
        long span = (long)(Math.Min(g.ColH, RowsPerItem) - 1) * g.SH + (long)(g.KH - 1) * g.DH + 1;
        return (long)cg * g.KD * span * RowFloats(g) <= 1 << 18;
    }

    /// <summary>Columns computed for an output row of <paramref name="ow"/> (&gt;= 16): the row plus the overlap of its last tile.</summary>
    private static int Covered(int ow, bool wide)
    {
        int* x = stackalloc int[16];
        int* w = stackalloc int[16];
        int tail0 = LeadColumns(ow, wide);
        int covered = tail0;
        int tiles = PlanTail(ow - tail0, wide, x, w);
        for (int i = 0; i < tiles; i++) covered += w[i];
        return covered;
    }

    /// <summary>Columns covered by full main-width tiles before the planned tail (which is then 16 to 95 columns).</summary>
    private static int LeadColumns(int ow, bool wide)
    {
        int main = wide ? 32 : 24;
        return ow >= 64 ? (ow - 64) / main * main : 0;
    }

    /// <summary>Floats per prepared row: SW phases of length ow + qmax, rounded to whole vectors.</summary>
    private static long RowFloats(in ConvGeometry g)
    {
        long qmax = (long)(g.KW - 1) * g.DW / g.SW;
        return (long)g.SW * ((g.ColW + qmax + 7) / 8 * 8);
    }

    /// <summary>Forward convolution; every output element is written.</summary>
    internal static void Forward(in ConvPlan p, in ConvGeometry geo, float* input, float* weight, float* bias, float* output)
        // 4×32 tiles need 21 vector registers: only with AVX-512's 32 (the JIT then encodes ymm16-31).
        => Forward(p, geo, input, weight, bias, output, Avx512F.VL.IsSupported);

    /// <summary>Forward with the column tiles chosen by the caller (<paramref name="wide"/> false = at most 24 columns, as without AVX-512).</summary>
    internal static void Forward(in ConvPlan p, in ConvGeometry geo, float* input, float* weight, float* bias, float* output, bool wide)
    {
        int cg = p.InChannels / p.Groups, ocg = p.OutChannels / p.Groups;
        int blocks = (ocg + OCB - 1) / OCB;
        int k = cg * geo.Taps;
        long wSize = (long)p.Groups * blocks * k * OCB, bSize = (long)p.Groups * blocks * OCB;
        float* packed = Scratch.GetShared(wSize + bSize);
        float* packedBias = packed + wSize;
        // [g][block][k][4] weights and [g][block][4] biases, zero past the group's channels.
        for (int g = 0; g < p.Groups; g++)
        {
            for (int b = 0; b < blocks; b++)
            {
                float* dst = packed + ((long)g * blocks + b) * k * OCB;
                float* bd = packedBias + ((long)g * blocks + b) * OCB;
                int real = Math.Min(OCB, ocg - b * OCB);
                float* w0 = weight + ((long)g * ocg + b * OCB) * k;
                if (real == OCB)
                {
                    // Four rows interleaved: dst[j·4 + i] = w_i[j].
                    float* w1 = w0 + k, w2 = w1 + k, w3 = w2 + k;
                    for (int j = 0; j < k; j++)
                        Vector128.Store(Vector128.Create(w0[j], w1[j], w2[j], w3[j]), dst + j * OCB);
                }
                else
                {
                    for (int j = 0; j < k; j++)
                        for (int i = 0; i < OCB; i++) dst[j * OCB + i] = i < real ? w0[(long)i * k + j] : 0f;
                }
                for (int i = 0; i < OCB; i++) bd[i] = i < real && bias != null ? bias[g * ocg + b * OCB + i] : 0f;
            }
        }

        var job = new Job
        {
            Geo = geo, Input = input, Weight = packed, Bias = packedBias, Output = output,
            Batch = p.Batch, Groups = p.Groups, Cg = cg, OCg = ocg, Blocks = blocks, K = k,
            InChannels = p.InChannels, OutChannels = p.OutChannels,
            Wide = wide,
        };
        job.Run();
    }

    private sealed class Job
    {
        public ConvGeometry Geo;
        public float* Input, Weight, Bias, Output;
        public int Batch, Groups, Cg, OCg, Blocks, K, InChannels, OutChannels;
        public bool Wide;
        private int rowsPerItem, rowChunks, ocChunks, blocksPerChunk, phaseLen, rowFloats;

        public void Run()
        {
            ref readonly ConvGeometry g = ref Geo;
            rowFloats = (int)RowFloats(g);
            phaseLen = rowFloats / g.SW;
            int threads = Parallelism.Threads;
            long planes = (long)Batch * Groups * g.ColD;
            bool split = threads > 1 && planes * g.ColH * Blocks * OCB * g.ColW * K >= 200_000;
            // Rows per item: up to RowsPerItem, halved while that leaves fewer than 4 items per thread
            // (work is handed out in equal contiguous runs of items).
            rowsPerItem = Math.Min(g.ColH, RowsPerItem);
            while (split && rowsPerItem > 1 && planes * ((g.ColH + rowsPerItem - 1) / rowsPerItem) < 4L * threads)
                rowsPerItem = (rowsPerItem + 1) / 2;
            rowChunks = (g.ColH + rowsPerItem - 1) / rowsPerItem;
            long items = planes * rowChunks;
            // Still too few: also split the output channel blocks (each part prepares its own rows).
            ocChunks = 1;
            if (split && items < 2L * threads)
                ocChunks = (int)Math.Min(Blocks, (2L * threads + items - 1) / items);
            blocksPerChunk = (Blocks + ocChunks - 1) / ocChunks;
            ocChunks = (Blocks + blocksPerChunk - 1) / blocksPerChunk;
            long total = items * ocChunks;
            if (total > int.MaxValue) throw new ArgumentException("Convolution too large.", "plan");
            long cost = (long)rowsPerItem * blocksPerChunk * OCB * g.ColW * K;
            Parallelism.For((int)total, Math.Max(cost, 1), Work);
        }

        private void Work(int start, int end)
        {
            ref readonly ConvGeometry g = ref Geo;
            int rowSpan = (rowsPerItem - 1) * g.SH + (g.KH - 1) * g.DH + 1;
            int taps = Cg * g.Taps;
            long prepFloats = (long)Cg * g.KD * rowSpan * rowFloats;
            // Per-thread scratch, each part 64-byte aligned: every row's tap offsets (8 bytes each),
            // tap numbers (4 bytes) and count, one block's compacted weights for a border row, the
            // prepared rows.
            long tapFloats = (3L * rowsPerItem * taps + rowsPerItem + 15) / 16 * 16;
            long wFloats = ((long)taps * OCB + 15) / 16 * 16;
            float* scratch = Scratch.Get(tapFloats + wFloats + prepFloats);
            nint* tapOff = (nint*)scratch;
            int* tapNum = (int*)(tapOff + (long)rowsPerItem * taps);
            int* counts = tapNum + (long)rowsPerItem * taps;
            float* wRow = scratch + tapFloats;
            float* prep = wRow + wFloats;
            // Per phase, the prepared positions that lie in the image (the same for every row).
            int* lo = stackalloc int[g.SW];
            int* hi = stackalloc int[g.SW];
            for (int r = 0; r < g.SW; r++)
                ConvGeometry.ValidRange(phaseLen, g.SW, r - g.PW, g.ImgW, out lo[r], out hi[r]);
            int jointLo = g.SW == 2 ? Math.Max(lo[0], lo[1]) : 0, jointHi = g.SW == 2 ? Math.Min(hi[0], hi[1]) : 0;
            nint* kwOff = stackalloc nint[g.KW];
            for (int kw = 0; kw < g.KW; kw++)
            {
                int a = kw * g.DW;
                kwOff[kw] = (nint)(a % g.SW) * phaseLen + a / g.SW;
            }
            int ow = g.ColW;
            long outPlane = g.ColVolume;
            // Column tiles of a row: `lead` tiles of the main width, then a planned tail.
            int tail0 = LeadColumns(ow, Wide);
            int* tileX = stackalloc int[16];
            int* tileW = stackalloc int[16];
            int tiles = PlanTail(ow - tail0, Wide, tileX, tileW);

            for (int item = start; item < end; item++)
            {
                int t = item / ocChunks, oci = item - t * ocChunks;
                int t2 = t / rowChunks, chunk = t - t2 * rowChunks;
                int t3 = t2 / g.ColD, od = t2 - t3 * g.ColD;
                int n = t3 / Groups, grp = t3 - n * Groups;
                int oh0 = chunk * rowsPerItem, oh1 = Math.Min(oh0 + rowsPerItem, g.ColH);
                int b0 = oci * blocksPerChunk, b1 = Math.Min(b0 + blocksPerChunk, Blocks);
                if (b1 <= b0) continue;
                int ihLo = oh0 * g.SH - g.PH;
                int span = (oh1 - 1 - oh0) * g.SH + (g.KH - 1) * g.DH + 1;

                // Prepare the input rows [ihLo, ihLo + span) of every channel and valid kd plane.
                float* img = Input + ((long)n * InChannels + (long)grp * Cg) * g.ImgVolume;
                for (int c = 0; c < Cg; c++)
                {
                    for (int kd = 0; kd < g.KD; kd++)
                    {
                        long id = (long)od * g.SD - g.PD + (long)kd * g.DD;
                        if ((ulong)id >= (ulong)g.ImgD) continue;
                        for (int r = 0; r < span; r++)
                        {
                            long ih = (long)ihLo + r;
                            if ((ulong)ih >= (ulong)g.ImgH) continue;
                            PrepareRow(g, img + (long)c * g.ImgVolume + (id * g.ImgH + ih) * g.ImgW,
                                prep + ((long)(c * g.KD + kd) * rowSpan + r) * rowFloats, phaseLen, lo, hi, jointLo, jointHi);
                        }
                    }
                }

                float* wGroup = Weight + (long)grp * Blocks * K * OCB;
                float* bGroup = Bias + (long)grp * Blocks * OCB;
                float* outGroup = Output + ((long)n * OutChannels + (long)grp * OCg) * outPlane;
                // The valid taps of each output row, in (c, kd, kh, kw) order.
                for (int oh = oh0; oh < oh1; oh++)
                {
                    nint* off = tapOff + (long)(oh - oh0) * taps;
                    int* num = tapNum + (long)(oh - oh0) * taps;
                    int count = 0;
                    for (int c = 0; c < Cg; c++)
                    {
                        for (int kd = 0; kd < g.KD; kd++)
                        {
                            long id = (long)od * g.SD - g.PD + (long)kd * g.DD;
                            if ((ulong)id >= (ulong)g.ImgD) continue;
                            for (int kh = 0; kh < g.KH; kh++)
                            {
                                long ih = (long)oh * g.SH - g.PH + (long)kh * g.DH;
                                if ((ulong)ih >= (ulong)g.ImgH) continue;
                                nint row = (nint)((c * g.KD + kd) * rowSpan + (int)(ih - ihLo)) * rowFloats;
                                int first = ((c * g.KD + kd) * g.KH + kh) * g.KW;
                                for (int kw = 0; kw < g.KW; kw++)
                                {
                                    off[count] = row + kwOff[kw];
                                    num[count] = first + kw;
                                    count++;
                                }
                            }
                        }
                    }
                    counts[oh - oh0] = count;
                }

                // Block by block, each over the item's rows: the output is written as 4 sequential
                // streams (one per channel plane) rather than one short row in every plane in turn,
                // which matters once the output no longer fits in the cache.
                for (int b = b0; b < b1; b++)
                    for (int oh = oh0; oh < oh1; oh++)
                        RowBlock(b, oh, od, oh0, taps, wGroup, bGroup, outGroup, prep, tapOff, tapNum, counts, wRow, tail0, tiles, tileX, tileW);
            }
        }

        /// <summary>One output row of one block of 4 output channels, tile by tile.</summary>
        private void RowBlock(int b, int oh, int od, int oh0, int taps, float* wGroup, float* bGroup, float* outGroup, float* prep,
            nint* tapOff, int* tapNum, int* counts, float* wRow, int tail0, int tiles, int* tileX, int* tileW)
        {
            ref readonly ConvGeometry g = ref Geo;
            int ow = g.ColW;
            nint os = g.ColVolume;
            int count = counts[oh - oh0];
            nint* off = tapOff + (long)(oh - oh0) * taps;
            float* wb = wGroup + (long)b * K * OCB;
            if (count < taps)
            {
                // A border row (some taps in the depth/height padding) reads its weights compacted.
                int* num = tapNum + (long)(oh - oh0) * taps;
                for (int j = 0; j < count; j++)
                    Vector128.Store(Vector128.Load(wb + num[j] * OCB), wRow + j * OCB);
                wb = wRow;
            }
            float* bb = bGroup + b * OCB;
            float* o = outGroup + b * OCB * os + ((long)od * g.ColH + oh) * ow;
            int ocn = Math.Min(OCB, OCg - b * OCB);
            if (Wide)
            {
                for (int x = 0; x < tail0; x += 32)
                    Tile32(prep + x, off, count, wb, bb, o + x, os, ocn);
            }
            else
            {
                for (int x = 0; x < tail0; x += 24)
                    Tile24(prep + x, off, count, wb, bb, o + x, os, ocn);
            }
            for (int i = 0; i < tiles; i++)
            {
                int x = tail0 + tileX[i];
                switch (tileW[i])
                {
                    case 32: Tile32(prep + x, off, count, wb, bb, o + x, os, ocn); break;
                    case 24: Tile24(prep + x, off, count, wb, bb, o + x, os, ocn); break;
                    default: Tile16(prep + x, off, count, wb, bb, o + x, os, ocn); break;
                }
            }
        }
    }

    /// <summary>
    /// Covers <paramref name="r"/> (16 &lt;= r &lt; 96) columns with tiles of 32 (when <paramref name="wide"/>), 24
    /// or 16 at least cost: consecutive tiles from 0, the last one shifted back to end at r (its overlap is
    /// recomputed to identical values). Costs are measured times relative to one 8-column vector of FMAs
    /// per tap (a 16-column tile's 8 accumulators barely cover the FMA latency). Returns the tile count (at most 16).
    /// </summary>
    private static int PlanTail(int r, bool wide, int* x, int* w)
    {
        const int Max = 128;
        float* best = stackalloc float[Max];
        int* last = stackalloc int[Max];
        best[0] = 0;
        for (int len = 8; len < r; len += 8)
        {
            best[len] = float.MaxValue;
            for (int tw = 16; tw <= 32 && tw <= len; tw += 8)
            {
                if (tw == 32 && !wide) continue;
                float c = best[len - tw] + Cost(tw);
                if (c < best[len]) { best[len] = c; last[len] = tw; }
            }
        }
        // The final tile ends at r: any exact prefix p (multiple of 8, p < r) plus a tile wide enough.
        float total = float.MaxValue;
        int bestP = 0, bestW = 16;
        for (int p = 0; p < r; p += 8)
        {
            for (int tw = 16; tw <= 32 && tw <= r; tw += 8)
            {
                if ((tw == 32 && !wide) || p + tw < r) continue;
                float c = best[p] + Cost(tw);
                if (c < total) { total = c; bestP = p; bestW = tw; }
            }
        }
        int n = 0;
        for (int p = bestP; p > 0; p -= last[p]) n++;
        int count = n + 1;
        x[n] = r - bestW;
        w[n] = bestW;
        for (int p = bestP; p > 0; p -= last[p])
        {
            n--;
            x[n] = p - last[p];
            w[n] = last[p];
        }
        return count;

        static float Cost(int tw) => tw switch { 32 => 4f, 24 => 3.05f, _ => 2.3f };
    }

    /// <summary>
    /// Splits one input row into the SW phases of its zero-padded version:
    /// dst[r·len + t] = src[r + SW·t - PW], zero outside [0, ImgW). Phase r's in-image part is
    /// [lo[r], hi[r]); for stride 2, [a, b) is where both phases are in the image (split in one pass).
    /// </summary>
    private static void PrepareRow(in ConvGeometry g, float* src, float* dst, int len, int* lo, int* hi, int a, int b)
    {
        int s = g.SW;
        for (int r = 0; r < s; r++)
        {
            float* d = dst + (nint)r * len;
            float* from = src + (r - g.PW);
            int l = lo[r], h = hi[r];
            Zero(d, l);
            Zero(d + h, len - h);
            if (s == 1)
            {
                Copy(from + l, d + l, h - l);
                continue;
            }
            // Stride 2: only the ends outside the joint range; other strides: everything, scalar.
            int e0 = s == 2 && b > a ? a : h, e1 = s == 2 && b > a ? b : h;
            for (int t = l; t < e0; t++) d[t] = from[(nint)t * s];
            for (int t = e1; t < h; t++) d[t] = from[(nint)t * s];
        }
        if (s == 2 && b > a) Deinterleave(src + (2 * a - g.PW), dst + a, dst + len + a, b - a);
    }

    /// <summary>d[0..n) = 0 (short runs: the padding at a row's ends).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Zero(float* d, int n)
    {
        int i = 0;
        for (; i + 8 <= n; i += 8) Vector256.Store(Vector256<float>.Zero, d + i);
        for (; i < n; i++) d[i] = 0f;
    }

    /// <summary>d[0..n) = p[0..n); the last vector overlaps the one before rather than running a scalar tail.</summary>
    private static void Copy(float* p, float* d, int n)
    {
        if (n < 8)
        {
            for (int i = 0; i < n; i++) d[i] = p[i];
            return;
        }
        for (int i = 0; ; i += 8)
        {
            if (i + 8 > n) i = n - 8;
            Vector256.Store(Vector256.Load(p + i), d + i);
            if (i + 8 == n) break;
        }
    }

    /// <summary>even[t] = p[2t], odd[t] = p[2t + 1] for t &lt; n, reading nothing past p[2n - 1].</summary>
    private static void Deinterleave(float* p, float* even, float* odd, int n)
    {
        if (n < 8)
        {
            for (int i = 0; i < n; i++)
            {
                even[i] = p[2 * i];
                odd[i] = p[2 * i + 1];
            }
            return;
        }
        for (int t = 0; ; t += 8)
        {
            if (t + 8 > n) t = n - 8; // last block overlaps the previous one
            var x0 = Avx.LoadVector256(p + 2 * t);        // 0 1 2 3 | 4 5 6 7
            var x1 = Avx.LoadVector256(p + 2 * t + 8);    // 8 9 10 11 | 12 13 14 15
            var e = Avx.Shuffle(x0, x1, 0x88);            // 0 2 8 10 | 4 6 12 14
            var o = Avx.Shuffle(x0, x1, 0xDD);            // 1 3 9 11 | 5 7 13 15
            Avx.Store(even + t, Avx2.Permute4x64(e.AsDouble(), 0xD8).AsSingle());
            Avx.Store(odd + t, Avx2.Permute4x64(o.AsDouble(), 0xD8).AsSingle());
            if (t + 8 == n) break;
        }
    }

    /// <summary>4 output channels × 32 columns: 16 ymm accumulators (needs the 32 AVX-512 vector registers), or 8 zmm at 512 bits.</summary>
    private static void Tile32(float* src, nint* taps, int count, float* w, float* bias, float* o, nint os, int ocn)
    {
        if (Gemm.Wide)
        {
            Tile32Zmm(src, taps, count, w, bias, o, os, ocn);
            return;
        }
        var c00 = Vector256.Create(bias[0]); var c01 = c00; var c02 = c00; var c03 = c00;
        var c10 = Vector256.Create(bias[1]); var c11 = c10; var c12 = c10; var c13 = c10;
        var c20 = Vector256.Create(bias[2]); var c21 = c20; var c22 = c20; var c23 = c20;
        var c30 = Vector256.Create(bias[3]); var c31 = c30; var c32 = c30; var c33 = c30;
        for (int t = 0; t < count; t++)
        {
            float* s = src + taps[t];
            float* wp = w + t * OCB;
            var i0 = Avx.LoadVector256(s);
            var i1 = Avx.LoadVector256(s + 8);
            var i2 = Avx.LoadVector256(s + 16);
            var i3 = Avx.LoadVector256(s + 24);
            var wv = Avx.BroadcastScalarToVector256(wp);
            c00 = Fma.MultiplyAdd(wv, i0, c00); c01 = Fma.MultiplyAdd(wv, i1, c01); c02 = Fma.MultiplyAdd(wv, i2, c02); c03 = Fma.MultiplyAdd(wv, i3, c03);
            wv = Avx.BroadcastScalarToVector256(wp + 1);
            c10 = Fma.MultiplyAdd(wv, i0, c10); c11 = Fma.MultiplyAdd(wv, i1, c11); c12 = Fma.MultiplyAdd(wv, i2, c12); c13 = Fma.MultiplyAdd(wv, i3, c13);
            wv = Avx.BroadcastScalarToVector256(wp + 2);
            c20 = Fma.MultiplyAdd(wv, i0, c20); c21 = Fma.MultiplyAdd(wv, i1, c21); c22 = Fma.MultiplyAdd(wv, i2, c22); c23 = Fma.MultiplyAdd(wv, i3, c23);
            wv = Avx.BroadcastScalarToVector256(wp + 3);
            c30 = Fma.MultiplyAdd(wv, i0, c30); c31 = Fma.MultiplyAdd(wv, i1, c31); c32 = Fma.MultiplyAdd(wv, i2, c32); c33 = Fma.MultiplyAdd(wv, i3, c33);
        }
        Avx.Store(o, c00); Avx.Store(o + 8, c01); Avx.Store(o + 16, c02); Avx.Store(o + 24, c03);
        if (ocn < 2) return;
        o += os;
        Avx.Store(o, c10); Avx.Store(o + 8, c11); Avx.Store(o + 16, c12); Avx.Store(o + 24, c13);
        if (ocn < 3) return;
        o += os;
        Avx.Store(o, c20); Avx.Store(o + 8, c21); Avx.Store(o + 16, c22); Avx.Store(o + 24, c23);
        if (ocn < 4) return;
        o += os;
        Avx.Store(o, c30); Avx.Store(o + 8, c31); Avx.Store(o + 16, c32); Avx.Store(o + 24, c33);
    }

    /// <summary>
    /// <see cref="Tile32"/> with zmm vectors: half the FMA instructions for the same work, and the same
    /// FMA chain per element (bit-identical to the ymm tile).
    /// </summary>
    private static void Tile32Zmm(float* src, nint* taps, int count, float* w, float* bias, float* o, nint os, int ocn)
    {
        var c00 = Vector512.Create(bias[0]); var c01 = c00;
        var c10 = Vector512.Create(bias[1]); var c11 = c10;
        var c20 = Vector512.Create(bias[2]); var c21 = c20;
        var c30 = Vector512.Create(bias[3]); var c31 = c30;
        for (int t = 0; t < count; t++)
        {
            float* s = src + taps[t];
            float* wp = w + t * OCB;
            var i0 = Avx512F.LoadVector512(s);
            var i1 = Avx512F.LoadVector512(s + 16);
            var wv = Vector512.Create(wp[0]);
            c00 = Avx512F.FusedMultiplyAdd(wv, i0, c00); c01 = Avx512F.FusedMultiplyAdd(wv, i1, c01);
            wv = Vector512.Create(wp[1]);
            c10 = Avx512F.FusedMultiplyAdd(wv, i0, c10); c11 = Avx512F.FusedMultiplyAdd(wv, i1, c11);
            wv = Vector512.Create(wp[2]);
            c20 = Avx512F.FusedMultiplyAdd(wv, i0, c20); c21 = Avx512F.FusedMultiplyAdd(wv, i1, c21);
            wv = Vector512.Create(wp[3]);
            c30 = Avx512F.FusedMultiplyAdd(wv, i0, c30); c31 = Avx512F.FusedMultiplyAdd(wv, i1, c31);
        }
        Avx512F.Store(o, c00); Avx512F.Store(o + 16, c01);
        if (ocn < 2) return;
        o += os;
        Avx512F.Store(o, c10); Avx512F.Store(o + 16, c11);
        if (ocn < 3) return;
        o += os;
        Avx512F.Store(o, c20); Avx512F.Store(o + 16, c21);
        if (ocn < 4) return;
        o += os;
        Avx512F.Store(o, c30); Avx512F.Store(o + 16, c31);
    }

    /// <summary>4 output channels × 24 columns: 12 accumulators from the bias, one FMA each per tap.</summary>
    private static void Tile24(float* src, nint* taps, int count, float* w, float* bias, float* o, nint os, int ocn)
    {
        var c00 = Vector256.Create(bias[0]); var c01 = c00; var c02 = c00;
        var c10 = Vector256.Create(bias[1]); var c11 = c10; var c12 = c10;
        var c20 = Vector256.Create(bias[2]); var c21 = c20; var c22 = c20;
        var c30 = Vector256.Create(bias[3]); var c31 = c30; var c32 = c30;
        for (int t = 0; t < count; t++)
        {
            float* s = src + taps[t];
            float* wp = w + t * OCB;
            var i0 = Avx.LoadVector256(s);
            var i1 = Avx.LoadVector256(s + 8);
            var i2 = Avx.LoadVector256(s + 16);
            var wv = Avx.BroadcastScalarToVector256(wp);
            c00 = Fma.MultiplyAdd(wv, i0, c00); c01 = Fma.MultiplyAdd(wv, i1, c01); c02 = Fma.MultiplyAdd(wv, i2, c02);
            wv = Avx.BroadcastScalarToVector256(wp + 1);
            c10 = Fma.MultiplyAdd(wv, i0, c10); c11 = Fma.MultiplyAdd(wv, i1, c11); c12 = Fma.MultiplyAdd(wv, i2, c12);
            wv = Avx.BroadcastScalarToVector256(wp + 2);
            c20 = Fma.MultiplyAdd(wv, i0, c20); c21 = Fma.MultiplyAdd(wv, i1, c21); c22 = Fma.MultiplyAdd(wv, i2, c22);
            wv = Avx.BroadcastScalarToVector256(wp + 3);
            c30 = Fma.MultiplyAdd(wv, i0, c30); c31 = Fma.MultiplyAdd(wv, i1, c31); c32 = Fma.MultiplyAdd(wv, i2, c32);
        }
        Avx.Store(o, c00); Avx.Store(o + 8, c01); Avx.Store(o + 16, c02);
        if (ocn < 2) return;
        o += os;
        Avx.Store(o, c10); Avx.Store(o + 8, c11); Avx.Store(o + 16, c12);
        if (ocn < 3) return;
        o += os;
        Avx.Store(o, c20); Avx.Store(o + 8, c21); Avx.Store(o + 16, c22);
        if (ocn < 4) return;
        o += os;
        Avx.Store(o, c30); Avx.Store(o + 8, c31); Avx.Store(o + 16, c32);
    }

    /// <summary>4 output channels × 16 columns (row tails).</summary>
    private static void Tile16(float* src, nint* taps, int count, float* w, float* bias, float* o, nint os, int ocn)
    {
        var c00 = Vector256.Create(bias[0]); var c01 = c00;
        var c10 = Vector256.Create(bias[1]); var c11 = c10;
        var c20 = Vector256.Create(bias[2]); var c21 = c20;
        var c30 = Vector256.Create(bias[3]); var c31 = c30;
        for (int t = 0; t < count; t++)
        {
            float* s = src + taps[t];
            float* wp = w + t * OCB;
            var i0 = Avx.LoadVector256(s);
            var i1 = Avx.LoadVector256(s + 8);
            var wv = Avx.BroadcastScalarToVector256(wp);
            c00 = Fma.MultiplyAdd(wv, i0, c00); c01 = Fma.MultiplyAdd(wv, i1, c01);
            wv = Avx.BroadcastScalarToVector256(wp + 1);
            c10 = Fma.MultiplyAdd(wv, i0, c10); c11 = Fma.MultiplyAdd(wv, i1, c11);
            wv = Avx.BroadcastScalarToVector256(wp + 2);
            c20 = Fma.MultiplyAdd(wv, i0, c20); c21 = Fma.MultiplyAdd(wv, i1, c21);
            wv = Avx.BroadcastScalarToVector256(wp + 3);
            c30 = Fma.MultiplyAdd(wv, i0, c30); c31 = Fma.MultiplyAdd(wv, i1, c31);
        }
        Avx.Store(o, c00); Avx.Store(o + 8, c01);
        if (ocn < 2) return;
        o += os;
        Avx.Store(o, c10); Avx.Store(o + 8, c11);
        if (ocn < 3) return;
        o += os;
        Avx.Store(o, c20); Avx.Store(o + 8, c21);
        if (ocn < 4) return;
        o += os;
        Avx.Store(o, c30); Avx.Store(o + 8, c31);
    }
}
