namespace Functional.Kernels;

/// <summary>
/// Convolution and transposed convolution over <see cref="ConvPlan"/>s (NCDHW, zero padding).
/// <code>
/// Forward, per (batch, group), as NNlib's conv_im2col:
///
///        W [OCg × K]           col [K × P]                 Y [OCg × P]
///   ┌──────────────────┐   ┌──────────────┐          ┌──────────────┐
///   │ oc × (ic,kd,kh,kw)│ × │ (ic,kd,kh,kw)│    =     │ oc × position│   K = Cin/G · kD·kH·kW
///   └──────────────────┘   │  × position  │          └──────────────┘   P = oD·oH·oW
///                          └──────────────┘
///   col is never materialised: blocks of it are packed straight into GEMM panels (Im2Col).
///
/// Transposed (the adjoint), per (batch, group):
///
///   W^T [OCg·taps × ICg]  ×  X [ICg × inputs]  =  col [OCg·taps × inputs]  --col2im scatter-add-->  Y
/// </code>
/// Dispatch (one place, <see cref="Forward(in ConvPlan, ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float})"/>):
/// depthwise (one input channel per group) runs a direct vector loop (2-D 3×3 stride 1: whole padded
/// planes, <see cref="Depthwise.Planes3x3"/>); 2-D 3×3 stride-1 convolutions with ≥ 16 channels per group
/// on each side (and ≤ 256×256 with <see cref="ConvWeights"/>, else ≤ 128×128) run Winograd F(2×2, 3×3) (<see cref="Winograd"/>); 2-4 input channels per
/// group (image stems; rows ≥ 16 wide, kernels of ≥ 2 taps, <see cref="DirectConv.Applies"/>) run a direct
/// kernel vectorised along output rows (<see cref="DirectConv"/>); many channels over at most 256 output positions
/// (ResNet's last stages) run transposed, positions as GEMM rows (<see cref="FewPositions"/>); a 1×1, stride-1, unpadded kernel multiplies
/// the input as it lies (no im2col); everything else packs im2col blocks. Work is split over batch × group ×
/// column blocks (× row chunks of the output channels when that is too few items); no K reduction is ever
/// split, so results are bit-identical whatever <see cref="Parallelism.Threads"/> is.
/// Transposed: strided shapes where <see cref="SubPixel.Applies"/> run as stride-1 phase GEMMs (<see cref="SubPixel"/>), else 1×1 in place or col2im.
/// </summary>
public static unsafe partial class Convolution
{
    /// <summary>GEMM columns (output positions) per work item: 10 micro-panels, 240–320 KB of packed B at K=256.</summary>
    private static readonly int NC = 10 * Gemm.NR;

    /// <summary>
    /// Forward convolution (PyTorch's Conv1d/2d/3d with zero padding).
    /// input [Batch, InChannels, D, H, W], weight [OutChannels, InChannels/Groups, kD, kH, kW], bias [OutChannels] or empty span for none,
    /// output [Batch, OutChannels, oD, oH, oW]: every element is written (the caller passes uninitialised memory).
    /// </summary>
    /// <exception cref="ArgumentException">The plan is invalid or a span is too short (or bias neither empty nor OutChannels long).</exception>
    public static void Forward(in ConvPlan plan, ReadOnlySpan<float> input, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, Span<float> output)
        => Forward(plan, input, weight, bias, output, Gemm.FastSupported);

    /// <summary>
    /// <see cref="Forward(in ConvPlan, ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float})"/> with the
    /// weight wrapped in <see cref="ConvWeights"/>, which keeps the repacked forms some paths derive from it: a layer that
    /// runs many times passes the same instance and repacks its weight once.
    /// </summary>
    /// <exception cref="ArgumentException">The plan is invalid or a span is too short (or bias neither empty nor OutChannels long).</exception>
    public static void Forward(in ConvPlan plan, ReadOnlySpan<float> input, ConvWeights weights, ReadOnlySpan<float> bias, Span<float> output)
    {
        ArgumentNullException.ThrowIfNull(weights);
        Forward(plan, input, weights.Weight, bias, output, Gemm.FastSupported, weights);
    }

    /// <summary>
    /// Transposed convolution (the adjoint of Forward, as PyTorch's ConvTranspose): input [Batch, InChannels, D,H,W],
    /// weight [InChannels, OutChannels/Groups, kD,kH,kW], bias [OutChannels] or empty, output [Batch, OutChannels, oD,oH,oW] with the
    /// output size given by plan.Output (the caller already applied output_padding / output_size). For every input position i
    /// and tap k, o = i·stride - padLo + k·dilation; if 0 &lt;= o &lt; Output then out[o] += in[i]·w[k] (per channel pair within a group); plus bias.
    /// Every output element is written.
    /// </summary>
    /// <exception cref="ArgumentException">The plan is invalid or a span is too short (or bias neither empty nor OutChannels long).</exception>
    public static void Transposed(in ConvPlan plan, ReadOnlySpan<float> input, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, Span<float> output)
        => Transposed(plan, input, weight, bias, output, Gemm.FastSupported);

    /// <summary>Forward with the instruction set chosen by the caller (<paramref name="fast"/> false = portable fallback).</summary>
    internal static void Forward(in ConvPlan plan, ReadOnlySpan<float> input, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, Span<float> output, bool fast,
        ConvWeights? prepared = null)
    {
        Validate(plan, input.Length, weight.Length, bias.Length, output.Length, transposed: false);
        if (plan.Batch == 0) return;
        fast &= Gemm.FastSupported;
        ConvPlan p = plan;
        int cg = p.InChannels / p.Groups, ocg = p.OutChannels / p.Groups;
        var geo = new ConvGeometry(p.Output, p.Input, p.Kernel, p.Stride, p.Dilation, p.PadLo);
        fixed (float* pin = input, pw = weight, pb = bias, pout = output)
        {
            float* bptr = bias.IsEmpty ? null : pb;
            if (cg == 1)
            {
                // Depthwise: one item per output row.
                float* i = pin, w = pw, o = pout;
                if (Depthwise.PlaneApplies(geo, fast))
                {
                    Parallelism.For(checked(p.Batch * p.OutChannels), (long)geo.ColVolume * 9, (s, e) =>
                        Depthwise.Planes3x3(geo, p.InChannels, p.OutChannels, i, w, bptr, o, s, e));
                    return;
                }
                int rows = checked(p.Batch * p.OutChannels * p.Output.D * p.Output.H);
                Parallelism.For(rows, (long)geo.ColW * geo.Taps, (s, e) =>
                    Depthwise.Rows(geo, p.InChannels, p.OutChannels, i, w, bptr, o, s, e, fast));
                return;
            }

            // Winograd declines inputs its transforms cannot take (NaN, ±Inf, near float's limit): the paths below give the direct sum's answer.
            if (Winograd.Applies(p, fast, prepared is not null) && Winograd.Forward(p, pin, pw, prepared, bptr, pout))
                return;

            if (FewPositions.Applies(p, geo, fast))
            {
                FewPositions.Forward(p, geo, pin, pw, prepared, bptr, pout);
                return;
            }

            if (DirectConv.Applies(p, geo, fast))
            {
                DirectConv.Forward(p, geo, pin, pw, bptr, pout);
                return;
            }

            bool direct = geo.Taps == 1 && p.Stride == Dim3.All(1) && p.PadLo == Dim3.All(0) && p.Output == p.Input;
            var job = new GemmJob
            {
                Geo = geo, Matrix = direct,
                Input = pin, Weight = pw, Bias = bptr, Output = pout,
                Batch = p.Batch, Groups = p.Groups, M = ocg, K = cg * geo.Taps, P = geo.ColVolume,
                InBatchStride = (long)p.InChannels * geo.ImgVolume, InGroupStride = (long)cg * geo.ImgVolume,
                OutChannels = p.OutChannels,
                AGroupStride = (long)ocg * cg * geo.Taps, ARowStride = cg * geo.Taps, AKStride = 1,
                Fast = fast,
            };
            job.Run();
        }
    }

    /// <summary>Transposed with the instruction set chosen by the caller (<paramref name="fast"/> false = portable fallback).</summary>
    internal static void Transposed(in ConvPlan plan, ReadOnlySpan<float> input, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, Span<float> output, bool fast)
    {
        Validate(plan, input.Length, weight.Length, bias.Length, output.Length, transposed: true);
        if (plan.Batch == 0) return;
        fast &= Gemm.FastSupported;
        ConvPlan p = plan;
        int icg = p.InChannels / p.Groups, ocg = p.OutChannels / p.Groups;
        // Columns are the input positions, the image the output: o = i·stride - padLo + k·dilation.
        var geo = new ConvGeometry(p.Input, p.Output, p.Kernel, p.Stride, p.Dilation, p.PadLo);
        fixed (float* pin = input, pw = weight, pb = bias, pout = output)
        {
            float* bptr = bias.IsEmpty ? null : pb;
            if (geo.Taps == 1 && p.Stride == Dim3.All(1) && p.PadLo == Dim3.All(0) && p.Output == p.Input)
            {
                // 1×1, stride 1, unpadded: col is the output itself, so it is a plain GEMM
                // Y[OCg × P] = W^T[OCg × ICg] · X[ICg × P] with W^T read in place (row stride 1, k stride OCg).
                var job = new GemmJob
                {
                    Geo = geo, Matrix = true,
                    Input = pin, Weight = pw, Bias = bptr, Output = pout,
                    Batch = p.Batch, Groups = p.Groups, M = ocg, K = icg, P = geo.ColVolume,
                    InBatchStride = (long)p.InChannels * geo.ColVolume, InGroupStride = (long)icg * geo.ColVolume,
                    OutChannels = p.OutChannels,
                    AGroupStride = (long)icg * ocg, ARowStride = 1, AKStride = ocg,
                    Fast = fast,
                };
                job.Run();
                return;
            }
            if (SubPixel.Applies(p, fast))
            {
                SubPixel.Transposed(p, pin, pw, bptr, pout);
                return;
            }
            var tjob = new TransposedJob
            {
                Geo = geo, Input = pin, Weight = pw, Bias = bptr, Output = pout,
                Batch = p.Batch, Groups = p.Groups, InChannels = p.InChannels, OutChannels = p.OutChannels,
                ICg = icg, OCg = ocg, Fast = fast,
            };
            tjob.Run();
        }
    }

    /// <summary>
    /// One GEMM-shaped convolution: per (batch, group), C[M × P] = A[M × K] · B[K × P] + bias, with
    /// A read in place (row i at AGroupStride·g + i·ARowStride, k stride AKStride) and B either the
    /// group's input as a matrix (<see cref="Matrix"/>) or its implicit im2col.
    /// </summary>
    private sealed class GemmJob
    {
        public ConvGeometry Geo;
        public bool Matrix, Fast;
        public float* Input, Weight, Bias, Output;
        public int Batch, Groups, M, K, P, OutChannels;
        public long InBatchStride, InGroupStride, AGroupStride;
        public nint ARowStride, AKStride;
        private int blocks, mChunks, mChunkRows;

        public void Run()
        {
            blocks = (P + NC - 1) / NC;
            long items = (long)Batch * Groups * blocks;
            // Too few column blocks to feed every thread: also split the output channels (each
            // chunk repacks its B block, a small cost next to the multiply).
            int threads = Parallelism.Threads;
            mChunks = 1;
            bool worthSplitting = (long)M * K * P * Batch * Groups >= 200_000;
            if (worthSplitting && items < 2L * threads)
                mChunks = (int)Math.Min((M + Gemm.MR - 1) / Gemm.MR, (2L * threads + items - 1) / items);
            mChunkRows = Gemm.RoundUp((M + mChunks - 1) / mChunks, Gemm.MR);
            mChunks = (M + mChunkRows - 1) / mChunkRows;
            long total = items * mChunks;
            if (total > int.MaxValue) throw new ArgumentException("Convolution too large.", "plan");
            long cost = (long)mChunkRows * K * Math.Min(P, NC);
            Parallelism.For((int)total, Math.Max(cost, 1), Work);
        }

        private void Work(int start, int end)
        {
            int kb = Gemm.KBlock(K);
            float* packed = Scratch.Get(Gemm.PackedBSize(kb, NC));
            for (int item = start; item < end; item++)
            {
                int t = item / mChunks, mc = item - t * mChunks;
                int t2 = t / blocks, jb = t - t2 * blocks;
                int n = t2 / Groups, g = t2 - n * Groups;
                int p0 = jb * NC, nc = Math.Min(NC, P - p0);
                int m0 = mc * mChunkRows, m = Math.Min(mChunkRows, M - m0);
                if (m <= 0) continue;
                float* img = Input + n * InBatchStride + g * InGroupStride;
                float* a = Weight + g * AGroupStride + m0 * ARowStride;
                float* c = Output + ((long)n * OutChannels + (long)g * M + m0) * P + p0;
                float* bias = Bias == null ? null : Bias + (long)g * M + m0;
                for (int k0 = 0; k0 < K; k0 += kb)
                {
                    int kc = Math.Min(kb, K - k0);
                    if (Matrix) Gemm.PackB(img, P, k0, kc, p0, nc, packed);
                    else Im2Col.Pack(Geo, img, k0, kc, p0, nc, packed);
                    Gemm.Block(m, kc, a + k0 * AKStride, ARowStride, AKStride, packed, nc, c, P,
                        k0 == 0 ? bias : null, k0 > 0, Fast);
                }
            }
        }
    }

    /// <summary>
    /// The general transposed convolution: per (batch, group, chunk of output channels), tiles of
    /// input positions go through col = W^T·X into a small column buffer, then col2im. Threads own
    /// disjoint output channels, so the scatter needs no synchronisation and keeps a fixed order.
    /// </summary>
    private sealed class TransposedJob
    {
        public ConvGeometry Geo;
        public bool Fast;
        public float* Input, Weight, Bias, Output;
        public int Batch, Groups, InChannels, OutChannels, ICg, OCg;
        private int ocChunks, ocChunkSize, nct, mct;

        public void Run()
        {
            int threads = Parallelism.Threads;
            long items = (long)Batch * Groups;
            bool worthSplitting = (long)OCg * Geo.Taps * ICg * Geo.ColVolume * items >= 200_000;
            ocChunks = items >= threads || !worthSplitting ? 1 : (int)Math.Min(OCg, (2L * threads + items - 1) / items);
            ocChunkSize = (OCg + ocChunks - 1) / ocChunks;
            ocChunks = (OCg + ocChunkSize - 1) / ocChunkSize;
            // Column tile: all K blocks of packed X (≤ ~256 KB) plus a column buffer of ≤ 64K floats.
            nct = Math.Clamp(65536 / Math.Max(ICg, 1) / Gemm.NR * Gemm.NR, Gemm.NR, NC);
            mct = Math.Max(Gemm.MR, 65536 / nct / Gemm.MR * Gemm.MR);
            long total = items * ocChunks;
            if (total > int.MaxValue) throw new ArgumentException("Convolution too large.", "plan");
            long cost = (long)ocChunkSize * Geo.Taps * ICg * Geo.ColVolume + (long)ocChunkSize * Geo.ImgVolume;
            Parallelism.For((int)total, Math.Max(cost, 1), Work);
        }

        private void Work(int start, int end)
        {
            int K = ICg, taps = Geo.Taps, P = Geo.ColVolume, outVol = Geo.ImgVolume;
            int kb = Gemm.KBlock(K);
            int nk = (K + kb - 1) / kb;
            long panelSize = Gemm.PackedBSize(kb, nct);
            float* packed = Scratch.Get(nk * panelSize + (long)mct * nct);
            float* col = packed + nk * panelSize;
            nint ks = (nint)OCg * taps;
            for (int item = start; item < end; item++)
            {
                int t = item / ocChunks, oci = item - t * ocChunks;
                int n = t / Groups, g = t - n * Groups;
                int oc0 = oci * ocChunkSize, ocn = Math.Min(ocChunkSize, OCg - oc0);
                if (ocn <= 0) continue;
                float* outG = Output + ((long)n * OutChannels + (long)g * OCg) * outVol;
                for (int oc = oc0; oc < oc0 + ocn; oc++)
                {
                    float v = Bias == null ? 0f : Bias[g * OCg + oc];
                    new Span<float>(outG + (long)oc * outVol, outVol).Fill(v);
                }
                float* x = Input + ((long)n * InChannels + (long)g * ICg) * P;
                float* a = Weight + (long)g * ICg * ks;
                int mBegin = oc0 * taps, mEnd = (oc0 + ocn) * taps;
                for (int jc = 0; jc < P; jc += nct)
                {
                    int nc = Math.Min(nct, P - jc);
                    for (int b = 0; b < nk; b++)
                    {
                        int k0 = b * kb;
                        Gemm.PackB(x, P, k0, Math.Min(kb, K - k0), jc, nc, packed + b * panelSize);
                    }
                    for (int ms = mBegin; ms < mEnd; ms += mct)
                    {
                        int mc = Math.Min(mct, mEnd - ms);
                        for (int b = 0; b < nk; b++)
                        {
                            int k0 = b * kb;
                            Gemm.Block(mc, Math.Min(kb, K - k0), a + ms + k0 * ks, 1, ks, packed + b * panelSize, nc,
                                col, nct, null, b > 0, Fast);
                        }
                        Col2Im.Scatter(Geo, col, nct, ms, mc, jc, nc, outG);
                    }
                }
            }
        }
    }

    private static void Validate(in ConvPlan p, int inputLength, int weightLength, int biasLength, int outputLength, bool transposed)
    {
        if (p.Batch < 0) throw new ArgumentException($"Batch must be non-negative, got {p.Batch}.", "plan");
        if (p.Groups < 1) throw new ArgumentException($"Groups must be positive, got {p.Groups}.", "plan");
        if (p.InChannels < 1 || p.OutChannels < 1)
            throw new ArgumentException($"Channel counts must be positive, got in {p.InChannels}, out {p.OutChannels}.", "plan");
        if (p.InChannels % p.Groups != 0 || p.OutChannels % p.Groups != 0)
            throw new ArgumentException($"Groups ({p.Groups}) must divide both InChannels ({p.InChannels}) and OutChannels ({p.OutChannels}).", "plan");
        Positive(p.Input, "Input"); Positive(p.Output, "Output"); Positive(p.Kernel, "Kernel");
        Positive(p.Stride, "Stride"); Positive(p.Dilation, "Dilation");
        if (p.PadLo.D < 0 || p.PadLo.H < 0 || p.PadLo.W < 0)
            throw new ArgumentException($"PadLo must be non-negative, got {p.PadLo}.", "plan");

        long inVol = p.Input.Volume, outVol = p.Output.Volume, taps = p.Kernel.Volume;
        long input = Mul(Mul(p.Batch, p.InChannels), inVol);
        long output = Mul(Mul(p.Batch, p.OutChannels), outVol);
        long weight = transposed
            ? Mul(Mul(p.InChannels, p.OutChannels / p.Groups), taps)
            : Mul(Mul(p.OutChannels, p.InChannels / p.Groups), taps);
        if (inputLength < input) Short("input", input, inputLength);
        if (weightLength < weight) Short("weight", weight, weightLength);
        if (biasLength != 0 && biasLength != p.OutChannels)
            throw new ArgumentException($"Span bias must be empty or exactly OutChannels = {p.OutChannels} long, got {biasLength}.", "bias");
        if (outputLength < output) Short("output", output, outputLength);
        // Per-sample planes and GEMM sizes are indexed with int.
        if (inVol > int.MaxValue || outVol > int.MaxValue || Mul(p.InChannels, taps) > int.MaxValue || Mul(p.OutChannels, taps) > int.MaxValue)
            throw new ArgumentException("Convolution plan too large.", "plan");

        static void Positive(Dim3 d, string name)
        {
            if (d.D < 1 || d.H < 1 || d.W < 1)
                throw new ArgumentException($"{name} must be positive in every dimension, got {d}.", "plan");
        }
        static long Mul(long a, long b) => a == 0 || b == 0 ? 0 : a > long.MaxValue / b ? long.MaxValue : a * b;
        static void Short(string name, long expected, int actual)
            => throw new ArgumentException($"Span {name} is too short for the plan: expected at least {expected} elements, got {actual}.", name);
    }
}
