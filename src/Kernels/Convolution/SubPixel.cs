using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Functional.Kernels;

/// <summary>
/// Strided transposed convolution by sub-pixel (phase) decomposition: no column buffer, no scatter-add.
/// Along an axis with stride s, output o = i·s - pad + k·dil receives only the taps with k·dil ≡ (o + pad) mod s,
/// so each output phase is an ordinary stride-1 correlation of the input with a sub-kernel (flipped taps).
/// <code>
///   depth, height: work items per phase (rD, rH) and block of its grid; phase row q ↦ output row (Q0 + q)·s + r - pad
///   width: folded into the item. Super-column c covers outputs c·sW + baseW + r, r &lt; sW; tap kw with
///          kw·dilW = e·sW + r reads input column c + cLo - e, so every e reads the same input run shifted:
///
///     stage [ICg·jD·jH × cols] (one copy per K block) ──► e=0: C_r0 += A_kw0·B, C_r1 += A_kw1·B   (k4 s2)
///       B = stage read (eMax - e) columns on        ──► e=1: C_r0 += A_kw2·B, C_r1 += A_kw3·B
///
///   then the sW residue tiles C_r [OCg × cols] are interleaved into output row runs (the bias where a residue
///   or a phase has no tap).
/// </code>
/// Per call the weight is repacked once as A[group][phase][kw][oc][jd, jh, ic], the layout the GEMM reads in
/// place, and the input is copied once with a zero halo, rows wp wide, so that a B row over a phase's grid is one
/// contiguous run of it (no im2col, no panel packing). A C element starts from its bias and accumulates in a fixed
/// order (K block, then kw) whatever the work split; items are claimed dynamically but each is computed whole by
/// one thread and threads own disjoint outputs, so results are bit-identical for any <see cref="Parallelism.Threads"/>.
/// </summary>
internal static unsafe class SubPixel
{
    private static readonly int NR = Gemm.NR;
    /// <summary>Most columns (grid positions of one phase) per work item; a phase's slab is split into equal blocks of whole panels.</summary>
    private const int NC = 288;
    /// <summary>Largest K block: row-major B (K × 24 floats per micro-panel, rows ~1 KB apart) must stay in L1.</summary>
    private const int KB = 128;

    /// <summary>
    /// Where the sub-pixel path beats col2im (measured on AVX2): a stride above 1 somewhere; every phase has a tap
    /// on each strided axis (kernel ≥ stride, dilation coprime to it: otherwise most outputs are bias and col2im's
    /// fill-and-scatter is cheaper); at least 8 output channels per group (the GEMM rows per residue; fewer run as
    /// partial micro-tiles); and at most 2048 weight floats per input position, as the per-call weight repack and
    /// short phase grids eat the gain for big kernels over small images.
    /// </summary>
    internal static bool Applies(in ConvPlan p, bool fast)
    {
        if (!fast || !Avx2.IsSupported || !Fma.IsSupported) return false;
        if (p.Stride == Dim3.All(1) || p.OutChannels / p.Groups < 8) return false;
        if (!EveryPhaseHasTaps(p.Kernel.D, p.Stride.D, p.Dilation.D) || !EveryPhaseHasTaps(p.Kernel.H, p.Stride.H, p.Dilation.H)
            || !EveryPhaseHasTaps(p.Kernel.W, p.Stride.W, p.Dilation.W)) return false;
        long weight = (long)p.InChannels * (p.OutChannels / p.Groups) * p.Kernel.Volume;
        return weight <= 2048L * p.Batch * p.Input.Volume;

        // Residues k·dilation mod stride cover every phase.
        static bool EveryPhaseHasTaps(int kernel, int stride, int dilation) => stride == 1 || (kernel >= stride && Gcd(dilation, stride) == 1);
    }

    /// <summary>
    /// Runs the transposed convolution of <paramref name="p"/> (validated, Batch &gt; 0; any geometry, not only where
    /// <see cref="Applies"/> holds; needs AVX2/FMA): every output element is written, bias null for none.
    /// </summary>
    internal static void Transposed(in ConvPlan p, float* input, float* weight, float* bias, float* output)
        => new Job(p, input, weight, bias, output).Run();

    /// <summary>
    /// Residue r of a depth or height axis as a stride-1 correlation: the phase's outputs are o = (Q0 + q)·s + r - pad
    /// for q &lt; Count, and tap j (of Taps, flipped) is original tap LastTap - j·TapStep, reading input q - Pad + j·Dilation.
    /// </summary>
    private readonly struct AxisPhase
    {
        public readonly int Taps, LastTap, TapStep, Dilation, Q0, Count, Pad;

        public AxisPhase(int r, int kernel, int stride, int dilation, int pad, int output)
        {
            int g = Gcd(dilation, stride);
            TapStep = stride / g;
            Dilation = dilation / g;
            int first = -1;
            for (int t = 0; t < Math.Min(kernel, TapStep); t++)
                if ((long)t * dilation % stride == r) { first = t; break; }
            Taps = first < 0 ? 0 : (kernel - 1 - first) / TapStep + 1;
            LastTap = first + (Taps - 1) * TapStep;
            long q0 = CeilDiv((long)pad - r, stride), q1 = FloorDiv((long)output - 1 + pad - r, stride);
            Q0 = checked((int)q0);
            Count = (int)Math.Max(0, q1 - q0 + 1);
            // Original tap k reads input q - floor(k·dil/s) for phase position q = Q0 + q'.
            Pad = Taps == 0 ? 0 : checked((int)((long)LastTap * dilation / stride - q0));
        }

        /// <summary>The flipped index of original tap k (which must belong to this phase).</summary>
        public int Index(int k) => (LastTap - k) / TapStep;

        /// <summary>Widens [lo, hi] to the input indices this phase reads (nothing when it has no taps or outputs).</summary>
        public void Reads(ref long lo, ref long hi)
        {
            if (Taps == 0 || Count == 0) return;
            lo = Math.Min(lo, -Pad);
            hi = Math.Max(hi, Count - 1 - Pad + (long)(Taps - 1) * Dilation);
        }
    }

    private sealed class Job
    {
        private readonly float* input, weight, bias, output;
        private readonly int batch, groups, inChannels, outChannels, icg, ocg;
        private readonly Dim3 inDim, outDim, kernel, stride, dilation, padLo;
        private readonly int taps, inVol, outVol;

        // Depth/height phases: phase ph = rD·sH + rH.
        private readonly AxisPhase[] phD, phH;
        private readonly int phases;
        private readonly int[] ku, aOffset, slabColumns, slabBlocks, blockColumns, blockStart;
        // Width: super-columns, the distinct e = floor(kw·dilW/sW), and per kw its e index and residue.
        private readonly int sW, cLo, cW, baseW, eCount;
        private readonly int[] eValue, eOfTap, resOfTap, firstTapOfE;
        private readonly long aGroup;
        // The zero-haloed input: padded index x along an axis is input index x + lo (width: wLo = cLo - eMax).
        private readonly int dLo, hLo, dp, hp, wp, eMax, ldS;
        private readonly long planeP;
        private float* a, biasRep, xp;
        private int mChunks, mChunkRows, kbMax, itemCount, nextItem;
        // The current batch pass: samples [n0, n0 + passCount), the haloed input holding just those.
        private int n0, passCount;

        public Job(in ConvPlan p, float* input, float* weight, float* bias, float* output)
        {
            this.input = input;
            this.weight = weight;
            this.bias = bias;
            this.output = output;
            (batch, groups, inChannels, outChannels) = (p.Batch, p.Groups, p.InChannels, p.OutChannels);
            icg = inChannels / groups;
            ocg = outChannels / groups;
            (inDim, outDim, kernel, stride, dilation, padLo) = (p.Input, p.Output, p.Kernel, p.Stride, p.Dilation, p.PadLo);
            taps = (int)kernel.Volume;
            inVol = (int)inDim.Volume;
            outVol = (int)outDim.Volume;

            phD = new AxisPhase[stride.D];
            for (int r = 0; r < stride.D; r++) phD[r] = new AxisPhase(r, kernel.D, stride.D, dilation.D, padLo.D, outDim.D);
            phH = new AxisPhase[stride.H];
            for (int r = 0; r < stride.H; r++) phH[r] = new AxisPhase(r, kernel.H, stride.H, dilation.H, padLo.H, outDim.H);

            sW = stride.W;
            cLo = padLo.W / sW;
            cW = checked((int)(((long)outDim.W - 1 + padLo.W) / sW - cLo + 1));
            baseW = cLo * sW - padLo.W;
            int kw = kernel.W;
            eOfTap = new int[kw];
            resOfTap = new int[kw];
            var eValues = new List<int>();
            for (int t = 0; t < kw; t++)
            {
                long prod = (long)t * dilation.W;
                int e = checked((int)(prod / sW));
                resOfTap[t] = (int)(prod - (long)e * sW);
                if (eValues.Count == 0 || eValues[^1] != e) eValues.Add(e);
                eOfTap[t] = eValues.Count - 1;
            }
            eValue = eValues.ToArray();
            eCount = eValue.Length;
            // e = floor(kw·dil/s) never decreases with kw, so the taps of one e are a run of kw.
            firstTapOfE = new int[eCount + 1];
            for (int t = kw - 1; t >= 0; t--) firstTapOfE[eOfTap[t]] = t;
            firstTapOfE[eCount] = kw;

            eMax = eValue[^1];
            // Grid rows are wp super-columns (the haloed row width; columns past cW are computed and dropped). With
            // wp = cW + eMax every e's shifted read stays in its row. Narrower rows are exact when the reads past a
            // row's end land on zeros twice over: the virtual halo right of the row (input column wLo + wp onwards is
            // outside the input) and the next row's left halo they wrap onto (input columns before wLo + cW + eMax - wp).
            long wLo = (long)cLo - eMax;
            wp = checked((int)Math.Min((long)cW + eMax, Math.Max((long)cW + cLo, inDim.W - wLo)));
            ldS = Gemm.RoundUp(Gemm.RoundUp(NC, NR) + eMax + 8, 16) + 8;

            phases = stride.D * stride.H;
            ku = new int[phases];
            aOffset = new int[phases];
            slabColumns = new int[phases];
            slabBlocks = new int[phases];
            blockColumns = new int[phases];
            blockStart = new int[phases + 1];
            long aTotal = 0;
            for (int ph = 0; ph < phases; ph++)
            {
                AxisPhase d = phD[ph / stride.H], h = phH[ph % stride.H];
                ku[ph] = icg * d.Taps * h.Taps;
                aOffset[ph] = checked((int)aTotal);
                aTotal += (long)kw * ocg * ku[ph];
                // Work items never straddle depth slabs, so an item's grid columns are one run of the haloed input.
                slabColumns[ph] = checked(h.Count * wp);
                slabBlocks[ph] = (slabColumns[ph] + NC - 1) / NC;
                blockColumns[ph] = slabBlocks[ph] == 0 ? NR : Gemm.RoundUp((slabColumns[ph] + slabBlocks[ph] - 1) / slabBlocks[ph], NR);
                blockStart[ph + 1] = checked(blockStart[ph] + d.Count * slabBlocks[ph]);
            }
            aGroup = aTotal;

            long dl = long.MaxValue, dh = long.MinValue, hl = long.MaxValue, hh = long.MinValue;
            foreach (var d in phD) d.Reads(ref dl, ref dh);
            foreach (var h in phH) h.Reads(ref hl, ref hh);
            if (dl <= dh && hl <= hh)
            {
                dLo = checked((int)dl);
                hLo = checked((int)hl);
                dp = checked((int)(dh - dl + 1));
                hp = checked((int)(hh - hl + 1));
                planeP = checked((long)dp * hp * wp);
            }
        }

        public void Run()
        {
            // Repacked weight (A), the bias repeated per residue (so rows of several residues can share one GEMM
            // call) and the haloed input, prepared once and read by every worker. The haloed input is built for a
            // few samples at a time (about 4 MB, at least one sample) so the scratch stays small. Zero slack after it
            // covers the staging copies' reads past the last plane (a partial panel, the e shift, whole vectors).
            long aSize = aGroup * groups, biasSize = bias == null ? 0 : (long)groups * sW * ocg;
            long perSample = planeP * inChannels;
            int passBatch = (int)Math.Clamp((1L << 20) / Math.Max(perSample, 1), 1, batch);
            long xpSize = perSample * passBatch;
            int slack = Gemm.RoundUp(eMax + 40, 16);
            float* shared = Scratch.GetShared(aSize + biasSize + xpSize + slack + 16);
            a = shared;
            xp = shared + aSize + biasSize;
            if (bias != null)
            {
                biasRep = shared + aSize;
                for (int g = 0; g < groups; g++)
                    for (int r = 0; r < sW; r++)
                        new ReadOnlySpan<float>(bias + (long)g * ocg, ocg).CopyTo(new Span<float>(biasRep + ((long)g * sW + r) * ocg, ocg));
            }
            new Span<float>(xp + xpSize, slack).Clear();

            int threads = Parallelism.Threads;
            long passItems = (long)passBatch * groups * blockStart[phases];
            long passFlops = (long)passBatch * inChannels * ocg * taps * inVol;
            mChunks = 1;
            if (passFlops >= 200_000 && passItems < 2L * threads)
                mChunks = (int)Math.Min((ocg + Gemm.MR - 1) / Gemm.MR, (2L * threads + passItems - 1) / passItems);
            mChunkRows = Gemm.RoundUp((ocg + mChunks - 1) / mChunks, Gemm.MR);
            kbMax = 1;
            int kuMax = 1;
            for (int ph = 0; ph < phases; ph++)
            {
                kbMax = Math.Max(kbMax, Gemm.KBlock(ku[ph], KB));
                kuMax = Math.Max(kuMax, ku[ph]);
            }
            // An item streams its A rows (all kw, its channels) once per 24 columns: keep them within ~512 KB of L2.
            long l2Rows = (1L << 17) / ((long)kernel.W * kuMax) / Gemm.MR * Gemm.MR;
            mChunkRows = (int)Math.Max(Gemm.MR, Math.Min(mChunkRows, l2Rows));
            mChunks = (ocg + mChunkRows - 1) / mChunkRows;

            for (n0 = 0; n0 < batch; n0 += passBatch)
            {
                passCount = Math.Min(passBatch, batch - n0);
                // One parallel region for both: weight items (group, 8 input channels; first pass only) spread evenly
                // among the input planes, so each thread's contiguous share holds as much weight work as the others'.
                int packItems = n0 == 0 ? groups * ((icg + 7) / 8) : 0, padItems = planeP > 0 ? passCount * inChannels : 0;
                long prepItems = packItems + padItems;
                Parallelism.For((int)prepItems, Math.Max(8L * ocg * taps, planeP), (s, e) =>
                {
                    for (int x = s; x < e; x++)
                    {
                        // Weight items before x: floor(x·packItems / prepItems); x is one when that count steps.
                        int before = (int)((long)x * packItems / prepItems), through = (int)((long)(x + 1) * packItems / prepItems);
                        if (through > before) PackWeights(before, through);
                        else PadInput(x - before, x - before + 1);
                    }
                });

                long total = (long)passCount * groups * blockStart[phases] * mChunks;
                if (total > int.MaxValue) throw new ArgumentException("Convolution too large.", "plan");
                long flops = (long)passCount * inChannels * ocg * taps * inVol;
                long cost = total == 0 ? 1 : Math.Max(1, (flops + (long)outVol * outChannels * passCount) / total);
                // Items are claimed one at a time, so a thread slowed by the machine takes fewer. Which thread computes
                // an item never changes its values.
                itemCount = (int)total;
                nextItem = 0;
                int workers = (int)Math.Min(threads, total);
                Parallelism.For(workers, cost * total / Math.Max(workers, 1), (s, e) =>
                {
                    for (int w = s; w < e; w++) Work();
                });
            }
        }

        /// <summary>
        /// A[g][phase][kw][oc][(jd·jH + jh)·ICg + ic] = w[g·ICg + ic][oc][kd][kh][kw], for items (group, block of 8 input
        /// channels) [s, e). Each A row segment for one tap is a column of the [ic × tap] matrix of one oc, so 8×8 tiles
        /// (8 channels × 8 taps) are transposed in registers and stored as 8 runs of 8 channels.
        /// </summary>
        private void PackWeights(int s, int e)
        {
            int kHW = kernel.H * kernel.W;
            var tapRow = new long[taps];
            var perOc = new int[taps];
            for (int t = 0; t < taps; t++)
            {
                int kd = t / kHW, kh = t % kHW / kernel.W, kw = t % kernel.W;
                int rD = (int)((long)kd * dilation.D % stride.D), rH = (int)((long)kh * dilation.H % stride.H);
                int ph = rD * stride.H + rH;
                AxisPhase d = phD[rD], h = phH[rH];
                tapRow[t] = aOffset[ph] + (long)kw * ocg * ku[ph] + (long)(d.Index(kd) * h.Taps + h.Index(kh)) * icg;
                perOc[t] = ku[ph];
            }
            int chunks = (icg + 7) / 8;
            long icStride = (long)ocg * taps;
            float** dsts = stackalloc float*[8];
            for (int item = s; item < e; item++)
            {
                int g = item / chunks, ic0 = (item - g * chunks) * 8, icn = Math.Min(8, icg - ic0);
                float* ag = a + g * aGroup + ic0;
                float* wg = weight + ((long)g * icg + ic0) * icStride;
                for (int oc = 0; oc < ocg; oc++)
                {
                    float* src = wg + (long)oc * taps;
                    int t = 0;
                    if (icn == 8)
                    {
                        for (; t + 8 <= taps; t += 8)
                        {
                            for (int j = 0; j < 8; j++) dsts[j] = ag + tapRow[t + j] + (long)oc * perOc[t + j];
                            Transpose8(src + t, icStride, dsts);
                        }
                    }
                    for (; t < taps; t++)
                    {
                        float* d = ag + tapRow[t] + (long)oc * perOc[t];
                        for (int i = 0; i < icn; i++) d[i] = src[i * icStride + t];
                    }
                }
            }
        }

        /// <summary>dst[j][i] = src[i·stride + j] for i, j &lt; 8.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Transpose8(float* src, long stride, float** dst)
        {
            var r0 = Avx.LoadVector256(src);
            var r1 = Avx.LoadVector256(src + stride);
            var r2 = Avx.LoadVector256(src + 2 * stride);
            var r3 = Avx.LoadVector256(src + 3 * stride);
            var r4 = Avx.LoadVector256(src + 4 * stride);
            var r5 = Avx.LoadVector256(src + 5 * stride);
            var r6 = Avx.LoadVector256(src + 6 * stride);
            var r7 = Avx.LoadVector256(src + 7 * stride);
            var t0 = Avx.UnpackLow(r0, r1); var t1 = Avx.UnpackHigh(r0, r1);
            var t2 = Avx.UnpackLow(r2, r3); var t3 = Avx.UnpackHigh(r2, r3);
            var t4 = Avx.UnpackLow(r4, r5); var t5 = Avx.UnpackHigh(r4, r5);
            var t6 = Avx.UnpackLow(r6, r7); var t7 = Avx.UnpackHigh(r6, r7);
            var u0 = Avx.Shuffle(t0, t2, 0x44); var u1 = Avx.Shuffle(t0, t2, 0xEE);
            var u2 = Avx.Shuffle(t1, t3, 0x44); var u3 = Avx.Shuffle(t1, t3, 0xEE);
            var u4 = Avx.Shuffle(t4, t6, 0x44); var u5 = Avx.Shuffle(t4, t6, 0xEE);
            var u6 = Avx.Shuffle(t5, t7, 0x44); var u7 = Avx.Shuffle(t5, t7, 0xEE);
            Avx.Store(dst[0], Avx.Permute2x128(u0, u4, 0x20));
            Avx.Store(dst[1], Avx.Permute2x128(u1, u5, 0x20));
            Avx.Store(dst[2], Avx.Permute2x128(u2, u6, 0x20));
            Avx.Store(dst[3], Avx.Permute2x128(u3, u7, 0x20));
            Avx.Store(dst[4], Avx.Permute2x128(u0, u4, 0x31));
            Avx.Store(dst[5], Avx.Permute2x128(u1, u5, 0x31));
            Avx.Store(dst[6], Avx.Permute2x128(u2, u6, 0x31));
            Avx.Store(dst[7], Avx.Permute2x128(u3, u7, 0x31));
        }

        /// <summary>
        /// Haloed copies of the pass's input planes (sample·channel, from sample n0) [s, e): padded (z, y, x) holds input
        /// (z + dLo, y + hLo, x + cLo - eMax), zero outside.
        /// </summary>
        private void PadInput(int s, int e)
        {
            int wOff = cLo - eMax;
            int lo = Math.Clamp(-wOff, 0, wp), hi = Math.Clamp(inDim.W - wOff, lo, wp);
            for (int plane = s; plane < e; plane++)
            {
                float* src = input + ((long)n0 * inChannels + plane) * inVol;
                float* dst = xp + plane * planeP;
                for (int z = 0; z < dp; z++)
                {
                    int id = z + dLo;
                    for (int y = 0; y < hp; y++)
                    {
                        float* d = dst + ((long)z * hp + y) * wp;
                        int ih = y + hLo;
                        if ((uint)id >= (uint)inDim.D || (uint)ih >= (uint)inDim.H)
                        {
                            Fill(d, 0, wp);
                            continue;
                        }
                        // Rows are short (tens of floats): plain loops, not span calls.
                        Fill(d, 0, lo);
                        float* r = src + ((long)id * inDim.H + ih) * inDim.W + wOff;
                        int x = lo;
                        for (; x + 8 <= hi; x += 8) Vector256.Store(Vector256.Load(r + x), d + x);
                        for (; x < hi; x++) d[x] = r[x];
                        Fill(d, hi, wp);
                    }
                }
            }
        }

        private static void Fill(float* d, int from, int to)
        {
            int x = from;
            for (; x + 8 <= to; x += 8) Vector256.Store(Vector256<float>.Zero, d + x);
            for (; x < to; x++) d[x] = 0f;
        }

        private void Work()
        {
            int ldc = Gemm.RoundUp(NC, NR);
            long stageSize = (long)kbMax * ldS;
            float* stage = Scratch.Get(stageSize + (long)sW * mChunkRows * ldc);
            float* tiles = stage + stageSize;
            var started = new bool[sW];
            int blocks = blockStart[phases];
            for (int item; (item = Interlocked.Increment(ref nextItem) - 1) < itemCount;)
            {
                int t = item / mChunks, mc = item - t * mChunks;
                int ng = t / blocks, blk = t - ng * blocks;
                int n = ng / groups, g = ng - n * groups;   // n: sample within the pass
                int ph = 0;
                while (blockStart[ph + 1] <= blk) ph++;
                blk -= blockStart[ph];
                int qd = blk / slabBlocks[ph], p0 = (blk - qd * slabBlocks[ph]) * blockColumns[ph];
                int nc = Math.Min(blockColumns[ph], slabColumns[ph] - p0);
                int m0 = mc * mChunkRows, m = Math.Min(mChunkRows, ocg - m0);
                if (m <= 0) continue;
                Array.Clear(started);
                int k = ku[ph];
                if (k > 0)
                {
                    int rD = ph / stride.H, rH = ph - rD * stride.H;
                    AxisPhase d = phD[rD], h = phH[rH];
                    float* ap = a + g * aGroup + aOffset[ph];
                    // Grid position p0 of slab qd for e = eMax, tap (0, 0), channel 0.
                    float* xg = xp + ((long)n * inChannels + (long)g * icg) * planeP
                        + ((long)(qd - d.Pad - dLo) * hp + (-h.Pad - hLo)) * wp + p0;
                    int kb = Gemm.KBlock(k, KB);
                    int copy = Gemm.RoundUp(Gemm.RoundUp(nc, NR) + eMax, 8);
                    for (int k0 = 0; k0 < k; k0 += kb)
                    {
                        int kc = Math.Min(kb, k - k0);
                        Stage(xg, d, h, k0, kc, copy, stage);
                        for (int e = 0; e < eCount; e++)
                        {
                            int kwB = firstTapOfE[e + 1];
                            // B for e: the staged rows read eMax - e columns on.
                            float* b = stage + (eMax - eValue[e]);
                            for (int kw = firstTapOfE[e]; kw < kwB;)
                            {
                                int r = resOfTap[kw];
                                bool acc = started[r];
                                // Taps of consecutive residues (same start state) share one call when the rows line up:
                                // A rows (kw, oc) and tile rows (r, oc) then both advance uniformly.
                                int run = 1;
                                if (m == ocg)
                                    while (kw + run < kwB && resOfTap[kw + run] == r + run && started[r + run] == acc) run++;
                                float* rowBias = acc || biasRep == null ? null : biasRep + ((long)g * sW + r) * ocg + m0;
                                Gemm.Block(run * m, kc, ap + ((long)kw * ocg + m0) * k + k0, k, 1, b, NR, ldS, nc,
                                    tiles + (long)r * m * ldc, ldc, rowBias, acc, true);
                                for (int j = 0; j < run; j++) started[r + j] = true;
                                kw += run;
                            }
                        }
                    }
                }
                WriteOut(n0 + n, g, ph, qd, p0, nc, m0, m, tiles, ldc, started);
            }
        }

        /// <summary>
        /// stage[kr][0, copy) = the haloed input run of B row k0 + kr (k = (jd·jH + jh)·ICg + ic) from the item's first
        /// grid position, in whole vectors (reads past the run stay inside the haloed buffer or its zero slack).
        /// </summary>
        private void Stage(float* xg, in AxisPhase d, in AxisPhase h, int k0, int kc, int copy, float* stage)
        {
            for (int kr = 0; kr < kc; kr++)
            {
                int kk = k0 + kr;
                int j = kk / icg, ic = kk - j * icg, jd = j / h.Taps, jh = j - jd * h.Taps;
                float* src = xg + ic * planeP + ((long)jd * d.Dilation * hp + (long)jh * h.Dilation) * wp;
                float* dst = stage + (long)kr * ldS;
                for (int x = 0; x < copy; x += 8) Vector256.Store(Vector256.Load(src + x), dst + x);
            }
        }

        /// <summary>
        /// Writes tile columns [p0, p0+nc) of depth slab qd of phase ph (rows m0.. of the group's channels) into output
        /// row runs; grid columns past cW (the haloed row's tail) are dropped.
        /// </summary>
        private void WriteOut(int n, int g, int ph, int qd, int p0, int nc, int m0, int m, float* tiles, int ldc, bool[] started)
        {
            int rD = ph / stride.H, rH = ph - rD * stride.H;
            AxisPhase d = phD[rD], h = phH[rH];
            bool any = false;
            for (int r = 0; r < sW; r++) any |= started[r];
            // A residue without taps is its bias. Stride 2 reads it as a constant; wider strides fill its tile.
            if (any && sW > 2)
                for (int r = 0; r < sW; r++)
                    if (!started[r])
                        for (int i = 0; i < m; i++)
                            new Span<float>(tiles + ((long)r * m + i) * ldc, nc).Fill(bias == null ? 0f : bias[g * ocg + m0 + i]);
            int qh = p0 / wp, c = p0 - qh * wp;
            long od = (long)(d.Q0 + qd) * stride.D + rD - padLo.D;
            nint residueStride = (nint)m * ldc;
            for (int q = 0; q < nc; q += wp - c, c = 0, qh++)
            {
                int len = Math.Min(cW, c + nc - q) - c;
                if (len <= 0) continue;
                long oh = (long)(h.Q0 + qh) * stride.H + rH - padLo.H;
                float* row = output + ((long)n * outChannels + (long)g * ocg + m0) * outVol + (od * outDim.H + oh) * outDim.W;
                int lo = c * sW + baseW, hi = Math.Min((c + len) * sW + baseW, outDim.W), ow = Math.Max(lo, 0);
                for (int i = 0; i < m; i++, row += outVol)
                {
                    // The output is cold: fetch the lines two channels ahead so the stores do not wait on them.
                    if (i + 2 < m)
                        for (int x = ow; x < hi; x += 16) Sse.Prefetch0(row + 2 * (long)outVol + x);
                    float* src = tiles + (long)i * ldc + q;
                    float b = bias == null ? 0f : bias[g * ocg + m0 + i];
                    if (!any) new Span<float>(row + ow, hi - ow).Fill(b);
                    else if (sW == 1) new ReadOnlySpan<float>(src + (ow - lo), hi - ow).CopyTo(new Span<float>(row + ow, hi - ow));
                    else if (sW == 2) Interleave2(row, started[0] ? src : null, started[1] ? src + residueStride : null, b, lo, ow, hi);
                    else Interleave(row, src, residueStride, lo, ow, hi);
                }
            }
        }

        /// <summary>row[x] = s_r[j] for x in [ow, hi), x - lo = j·sW + r.</summary>
        private void Interleave(float* row, float* s, nint residueStride, int lo, int ow, int hi)
        {
            int t = ow - lo, j = t / sW, r = t - j * sW;
            float* sr = s + r * residueStride;
            for (; ow < hi; ow++)
            {
                row[ow] = sr[j];
                sr += residueStride;
                if (++r == sW) { r = 0; j++; sr = s; }
            }
        }

        /// <summary>
        /// row[lo + 2j] = s0[j], row[lo + 2j + 1] = s1[j] (a null source reads as <paramref name="b"/>), for targets in
        /// [ow, hi): 16 at a time by unpacking pairs of vectors; the last block is moved back to end at hi, rewriting a
        /// few targets with the same values.
        /// </summary>
        private static void Interleave2(float* row, float* s0, float* s1, float b, int lo, int ow, int hi)
        {
            if (hi - ow < 17)
            {
                for (; ow < hi; ow++)
                {
                    int t = ow - lo;
                    float* s = (t & 1) == 0 ? s0 : s1;
                    row[ow] = s == null ? b : s[t >> 1];
                }
                return;
            }
            if (((ow - lo) & 1) != 0) { row[ow] = s1 == null ? b : s1[(ow - lo) >> 1]; ow++; }
            if (((hi - lo) & 1) != 0) { hi--; row[hi] = s0 == null ? b : s0[(hi - lo) >> 1]; }
            // Both ends even now, at least 16 apart.
            var bv = Vector256.Create(b);
            for (; ; ow += 16)
            {
                if (ow > hi - 16) ow = hi - 16;
                int x = (ow - lo) >> 1;
                var v0 = s0 == null ? bv : Avx.LoadVector256(s0 + x);
                var v1 = s1 == null ? bv : Avx.LoadVector256(s1 + x);
                var l = Avx.UnpackLow(v0, v1);   // a0 b0 a1 b1 | a4 b4 a5 b5
                var u = Avx.UnpackHigh(v0, v1);  // a2 b2 a3 b3 | a6 b6 a7 b7
                Avx.Store(row + ow, Avx.Permute2x128(l, u, 0x20));
                Avx.Store(row + ow + 8, Avx.Permute2x128(l, u, 0x31));
                if (ow == hi - 16) break;
            }
        }
    }

    private static int Gcd(int x, int y)
    {
        while (y != 0) (x, y) = (y, x % y);
        return x;
    }

    private static long FloorDiv(long x, long y) => x >= 0 ? x / y : -((-x + y - 1) / y);

    private static long CeilDiv(long x, long y) => -FloorDiv(-x, y);
}
