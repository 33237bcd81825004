using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Functional.Kernels;

/// <summary>
/// Sliding-window max and average pooling over <c>[Planes, D, H, W]</c> (1-D and 2-D pools use
/// extents of 1), following PyTorch's CPU kernels rule for rule.
/// </summary>
/// <remarks>
/// Fast path (AVX2): each output row is computed separably — the input rows its windows cover are
/// combined column-wise into a scratch row padded with the pool's neutral value (−∞ or 0), then the
/// width window slides over that row, 8 outputs at a time: contiguous loads for stride 1, even/odd
/// de-interleaving shuffles for stride 2 (with dedicated 3-tap and 2-tap forms for the common 3×3/2
/// and 2×2/2 pools), scalar taps for larger strides. Max with indices runs PyTorch's scan itself
/// (strictly greater or NaN replaces) on 8 outputs at once, tracking each lane's index, wherever the
/// windows lie inside the input width and the stride is at most 2. Rows containing NaN, edge outputs
/// of indexed pools, CPUs without AVX2 and degenerate plans take an exact scalar path that is
/// PyTorch's loop verbatim.
/// Work is split over output rows across <see cref="Parallelism.Threads"/>; results never depend on
/// the split.
/// </remarks>
public static class Pooling
{
    /// <summary>
    /// Max over each window; input <c>[Planes, D, H, W]</c>, output <c>[Planes, oD, oH, oW]</c>; padding never
    /// wins (as PyTorch's −∞ padding). A NaN in the window makes the result NaN (PyTorch's
    /// <c>if ((val &gt; maxval) || isnan(val))</c>); a window lying wholly in padding gives −∞.
    /// When the maximum is a zero present with both signs, the sign returned by the fast path may differ
    /// from the first in scan order (the index, when requested, always follows scan order).
    /// </summary>
    /// <param name="plan">The resolved pool (kernel, stride, dilation ≥ 1; padding ≥ 0).</param>
    /// <param name="input">Planes × Input.Volume values.</param>
    /// <param name="output">Planes × Output.Volume values, fully written.</param>
    /// <param name="indices">Empty when not wanted; else the same length as <paramref name="output"/>, filled
    /// with the flat index of each maximum within its input plane (<c>d·H·W + h·W + w</c>), the first
    /// occurrence winning ties in scan order. For a wholly padded window it is the first in-window
    /// position clipped to the input's lower edges, as in PyTorch.</param>
    /// <exception cref="ArgumentException">A span's length or the plan is invalid.</exception>
    public static unsafe void Max(in PoolPlan plan, ReadOnlySpan<float> input, Span<float> output, Span<long> indices)
    {
        Validate(plan, input.Length, output.Length, average: false);
        if (!indices.IsEmpty && indices.Length != output.Length)
            throw new ArgumentException(
                $"indices has {indices.Length} elements; expected {output.Length} (one per output element) or 0.", nameof(indices));
        if (output.IsEmpty) return;

        var geometry = RowGeometry.For(plan);
        bool fast = indices.IsEmpty && geometry.Fast;
        fixed (float* pi = input)
        fixed (float* po = output)
        fixed (long* px = indices)
        {
            var job = new Job(plan, geometry, (nint)pi, (nint)po, fast ? 0 : (nint)px, average: false, fast,
                countIncludePad: false, divisorOverride: 0);
            PoolCore.Run(geometry.Rows, geometry.CostPerRow, job);
        }
    }

    /// <summary>
    /// Average over each window with PyTorch's avg_pool rules (symmetric padding <c>pad = plan.PadLo</c>):
    /// <c>start = o·stride − pad</c>, <c>end = min(start + k, in + pad)</c>, pool size = product of <c>end − start</c>;
    /// the window is then clipped to <c>[0, in)</c>. A window left empty by clipping gives 0. The divisor is
    /// <paramref name="divisorOverride"/> when positive, else the pool size when
    /// <paramref name="countIncludePad"/>, else the clipped window's element count.
    /// </summary>
    /// <param name="plan">The resolved pool (kernel, stride ≥ 1; padding ≥ 0; dilation must be 1).</param>
    /// <param name="input">Planes × Input.Volume values.</param>
    /// <param name="output">Planes × Output.Volume values, fully written.</param>
    /// <param name="countIncludePad">Whether padding counts towards the divisor.</param>
    /// <param name="divisorOverride">Divisor to use instead when positive; ignored when 0 or negative.</param>
    /// <exception cref="ArgumentException">A span's length or the plan is invalid.</exception>
    public static unsafe void Avg(in PoolPlan plan, ReadOnlySpan<float> input, Span<float> output, bool countIncludePad, int divisorOverride)
    {
        Validate(plan, input.Length, output.Length, average: true);
        if (output.IsEmpty) return;

        var geometry = RowGeometry.For(plan);
        fixed (float* pi = input)
        fixed (float* po = output)
        {
            var job = new Job(plan, geometry, (nint)pi, (nint)po, 0, average: true, geometry.Fast,
                countIncludePad, Math.Max(divisorOverride, 0));
            PoolCore.Run(geometry.Rows, geometry.CostPerRow, job);
        }
    }

    private static void Validate(in PoolPlan plan, int inputLength, int outputLength, bool average)
    {
        if (plan.Planes < 0)
            throw new ArgumentException($"Pool plan has {plan.Planes} planes; expected at least 0.", nameof(plan));
        RequirePositive(plan.Input, "input size");
        RequirePositive(plan.Output, "output size");
        RequirePositive(plan.Kernel, "kernel size");
        RequirePositive(plan.Stride, "stride");
        if (average)
        {
            if (plan.Dilation != Dim3.All(1))
                throw new ArgumentException($"Average pool plan has dilation {plan.Dilation}; average pools take dilation (1, 1, 1).", nameof(plan));
        }
        else RequirePositive(plan.Dilation, "dilation");
        if (plan.PadLo.D < 0 || plan.PadLo.H < 0 || plan.PadLo.W < 0)
            throw new ArgumentException($"Pool plan has padding {plan.PadLo}; expected every extent at least 0.", nameof(plan));

        long expectedIn = PoolCore.Length(plan.Planes, plan.Input);
        if (inputLength != expectedIn)
            throw new ArgumentException(
                $"input has {inputLength} elements; expected {PoolCore.Describe(expectedIn)} ({plan.Planes} planes × {plan.Input}).", "input");
        long expectedOut = PoolCore.Length(plan.Planes, plan.Output);
        if (outputLength != expectedOut)
            throw new ArgumentException(
                $"output has {outputLength} elements; expected {PoolCore.Describe(expectedOut)} ({plan.Planes} planes × {plan.Output}).", "output");
    }

    private static void RequirePositive(Dim3 d, string what)
    {
        if (d.D < 1 || d.H < 1 || d.W < 1)
            throw new ArgumentException($"Pool plan has {what} {d}; expected every extent at least 1.", "plan");
    }

    /// <summary>Per-call facts shared by all rows: work size and the scratch row's layout.</summary>
    private readonly struct RowGeometry
    {
        public int Rows { get; init; }
        public long CostPerRow { get; init; }
        /// <summary>Scratch slots left of input column 0 (= padding, so window starts are never negative).</summary>
        public int Left { get; init; }
        /// <summary>Total scratch row length: Left + max(W, last column any window reads) + vector slack.</summary>
        public int Length { get; init; }
        public bool Fast { get; init; }

        public static RowGeometry For(in PoolPlan plan)
        {
            long rows = (long)plan.Planes * plan.Output.D * plan.Output.H;
            long windowRows = (long)plan.Kernel.D * plan.Kernel.H;
            double cost = (double)plan.Output.W * plan.Kernel.W * windowRows + plan.Input.W;
            // Columns read by the last window (exclusive), relative to input column 0.
            long reach = (long)(plan.Output.W - 1) * plan.Stride.W - plan.PadLo.W + (long)(plan.Kernel.W - 1) * plan.Dilation.W + 1;
            long length = plan.PadLo.W + Math.Max(plan.Input.W, reach) + 16;
            bool fast = PoolCore.Simd && length <= PoolCore.MaxScratch && rows <= int.MaxValue;
            return new RowGeometry
            {
                Rows = (int)Math.Min(rows, int.MaxValue),
                CostPerRow = (long)Math.Min(cost, 1L << 40),
                Left = fast ? plan.PadLo.W : 0,
                Length = fast ? (int)length : 0,
                Fast = fast,
            };
        }
    }

    private readonly unsafe struct Job(
        PoolPlan plan, RowGeometry geometry, nint input, nint output, nint indices,
        bool average, bool fast, bool countIncludePad, int divisorOverride) : IRangeJob
    {
        public void Run(int start, int end)
        {
            if (fast) RunFast(start, end);
            else
            {
                for (int i = start; i < end; i++)
                {
                    Locate(i, out var planeIn, out long outOffset, out int od, out int oh);
                    if (average)
                        AvgRowExact(plan, planeIn, od, oh, (float*)output + outOffset, countIncludePad, divisorOverride);
                    else if (indices != 0 && PoolCore.Simd && plan.Stride.W <= 2)
                        MaxRowIndexed(planeIn, od, oh, (float*)output + outOffset, (long*)indices + outOffset);
                    else
                        MaxRowExact(plan, planeIn, od, oh, (float*)output + outOffset,
                            indices == 0 ? null : (long*)indices + outOffset);
                }
            }
        }

        private void Locate(int item, out float* planeIn, out long outOffset, out int od, out int oh)
        {
            int rowsPerPlane = plan.Output.D * plan.Output.H;
            int p = item / rowsPerPlane;
            int r = item - p * rowsPerPlane;
            od = r / plan.Output.H;
            oh = r - od * plan.Output.H;
            planeIn = (float*)input + p * plan.Input.Volume;
            outOffset = (long)item * plan.Output.W;
        }

        private void RunFast(int start, int end)
        {
            var I = plan.Input;
            int W = I.W, oW = plan.Output.W;
            int left = geometry.Left;
            float neutral = average ? 0f : float.NegativeInfinity;
            var scratch = PoolCore.Row(geometry.Length);
            float[]? divisorArray = average ? PoolCore.Divisors(oW + 8) : null;
            nint* rows = stackalloc nint[PoolCore.RowGroup];
            fixed (float* tmp = scratch)
            fixed (float* div = divisorArray)
            {
                // Padding slots never change: fill them once per chunk.
                PoolCore.Fill(tmp, 0, left, neutral);
                PoolCore.Fill(tmp, left + W, geometry.Length, neutral);
                float* t = tmp + left; // t[iw] is input column iw; window starts are ≥ −left.
                if (average) ColumnDivisors(div);

                for (int i = start; i < end; i++)
                {
                    Locate(i, out var planeIn, out long outOffset, out int od, out int oh);
                    float* outRow = (float*)output + outOffset;

                    // Gather the window's in-bounds input rows in scan order (d outer, h inner).
                    int n = 0;
                    bool any = false, nan = false;
                    long dBase = (long)od * plan.Stride.D - plan.PadLo.D;
                    long hBase = (long)oh * plan.Stride.H - plan.PadLo.H;
                    for (int kd = 0; kd < plan.Kernel.D; kd++)
                    {
                        long d = dBase + (long)kd * plan.Dilation.D;
                        if ((ulong)d >= (ulong)I.D) continue;
                        for (int kh = 0; kh < plan.Kernel.H; kh++)
                        {
                            long h = hBase + (long)kh * plan.Dilation.H;
                            if ((ulong)h >= (ulong)I.H) continue;
                            rows[n++] = (nint)(planeIn + (d * I.H + h) * W);
                            if (n == PoolCore.RowGroup)
                            {
                                Fold(rows, n, W, t, any, ref nan);
                                any = true;
                                n = 0;
                            }
                        }
                    }
                    if (n > 0)
                    {
                        Fold(rows, n, W, t, any, ref nan);
                        any = true;
                    }
                    if (!any) PoolCore.Fill(t, 0, W, neutral);

                    if (average)
                    {
                        float rowDivisor = divisorOverride > 0 ? divisorOverride : RowDivisor(od, oh);
                        AvgHorizontal(t, outRow, div, rowDivisor);
                    }
                    else if (nan) MaxRowExact(plan, planeIn, od, oh, outRow, null);
                    else MaxHorizontal(t, outRow);
                }
            }
        }

        /// <summary>
        /// Max with indices for one output row: PyTorch's scan (strictly greater or NaN replaces) run on
        /// 8 outputs at once wherever their windows lie inside the input width, tracking each lane's
        /// 32-bit in-plane index; edge outputs use the scalar loop.
        /// </summary>
        private void MaxRowIndexed(float* plane, int od, int oh, float* outRow, long* indexRow)
        {
            var I = plan.Input;
            int oW = plan.Output.W, s = plan.Stride.W, pad = plan.PadLo.W, k = plan.Kernel.W, dil = plan.Dilation.W;
            // Interior outputs: ow·s − pad ≥ 0 and ow·s − pad + (k−1)·dil ≤ W − 1.
            long lo = (pad + s - 1) / s;
            long hi = ((long)I.W - 1 + pad - (long)(k - 1) * dil) / s + 1; // exclusive
            hi = Math.Min(hi, oW);
            if (hi - lo < 8 || I.Volume > int.MaxValue)
            {
                MaxRowExact(plan, plane, od, oh, outRow, indexRow);
                return;
            }
            int owLo = (int)lo, owHi = (int)hi;
            MaxRowExact(plan, plane, od, oh, outRow, indexRow, 0, owLo);
            MaxRowExact(plan, plane, od, oh, outRow, indexRow, owHi, oW);

            // In-plane start offsets of the window's valid rows, in scan order.
            int rowCount = 0;
            int* rowStarts = stackalloc int[PoolCore.RowGroup];
            long dBase = (long)od * plan.Stride.D - plan.PadLo.D;
            long hBase = (long)oh * plan.Stride.H - plan.PadLo.H;
            for (int kd = 0; kd < plan.Kernel.D; kd++)
            {
                long d = dBase + (long)kd * plan.Dilation.D;
                if ((ulong)d >= (ulong)I.D) continue;
                for (int kh = 0; kh < plan.Kernel.H; kh++)
                {
                    long h = hBase + (long)kh * plan.Dilation.H;
                    if ((ulong)h >= (ulong)I.H) continue;
                    if (rowCount == PoolCore.RowGroup)
                    {
                        // Unusually tall windows: keep the whole row on the scalar loop.
                        MaxRowExact(plan, plane, od, oh, outRow, indexRow, owLo, owHi);
                        return;
                    }
                    rowStarts[rowCount++] = (int)((d * I.H + h) * I.W);
                }
            }
            if (rowCount == 0)
            {
                MaxRowExact(plan, plane, od, oh, outRow, indexRow, owLo, owHi);
                return;
            }

            // Lane j holds output ow + j; stride 2 works in shufps order (0,1,4,5,2,3,6,7) until the end.
            var lane = s == 1 ? Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7) : Vector256.Create(0, 2, 8, 10, 4, 6, 12, 14);
            for (int ow = owLo; ; ow += 8)
            {
                if (ow > owHi - 8) ow = owHi - 8;
                int col = ow * s - pad;
                var acc = Vector256.Create(float.NegativeInfinity);
                var idx = Avx2.Add(Vector256.Create(rowStarts[0] + col), lane);
                for (int r = 0; r < rowCount; r++)
                {
                    float* row = plane + rowStarts[r] + col;
                    for (int j = 0; j < k; j++)
                    {
                        int off = j * dil;
                        var v = s == 1 ? Avx.LoadVector256(row + off) : Evens(row + off);
                        var take = Avx.Or(Avx.CompareGreaterThan(v, acc), Avx.CompareUnordered(v, v));
                        acc = Avx.BlendVariable(acc, v, take);
                        var at = Avx2.Add(Vector256.Create(rowStarts[r] + col + off), lane);
                        idx = Avx.BlendVariable(idx.AsSingle(), at.AsSingle(), take).AsInt32();
                    }
                }
                if (s != 1)
                {
                    acc = Unshuffle(acc);
                    idx = Unshuffle(idx.AsSingle()).AsInt32();
                }
                Avx.Store(outRow + ow, acc);
                Avx.Store(indexRow + ow, Avx2.ConvertToVector256Int64(idx.GetLower()));
                Avx.Store(indexRow + ow + 4, Avx2.ConvertToVector256Int64(idx.GetUpper()));
                if (ow == owHi - 8) break;
            }
        }

        private void Fold(nint* rows, int n, int width, float* t, bool accumulate, ref bool nan)
        {
            if (average) PoolCore.VerticalSum(rows, n, width, t, accumulate);
            else nan |= PoolCore.VerticalMax(rows, n, width, t, accumulate);
        }

        /// <summary>
        /// Per output column divisor factor (the width dimension's share of the divisor); 1 for
        /// overrides and for windows clipped to nothing, whose all-padding sum is 0 anyway.
        /// </summary>
        private void ColumnDivisors(float* div)
        {
            int oW = plan.Output.W;
            for (int ow = 0; ow < oW; ow++)
            {
                if (divisorOverride > 0) { div[ow] = 1f; continue; }
                var (size, count) = AvgExtent(ow, plan.Stride.W, plan.PadLo.W, plan.Kernel.W, plan.Input.W);
                div[ow] = count <= 0 ? 1f : countIncludePad ? size : count;
            }
        }

        /// <summary>The depth and height dimensions' share of the divisor for output row (od, oh).</summary>
        private float RowDivisor(int od, int oh)
        {
            var (sd, cd) = AvgExtent(od, plan.Stride.D, plan.PadLo.D, plan.Kernel.D, plan.Input.D);
            var (sh, ch) = AvgExtent(oh, plan.Stride.H, plan.PadLo.H, plan.Kernel.H, plan.Input.H);
            if (cd <= 0 || ch <= 0) return 1f; // the row sum is all zeros: any nonzero divisor gives 0
            return countIncludePad ? (float)(sd * sh) : (float)(cd * ch);
        }

        private void MaxHorizontal(float* t, float* o)
        {
            int oW = plan.Output.W, s = plan.Stride.W, pad = plan.PadLo.W, k = plan.Kernel.W, dil = plan.Dilation.W;
            if (oW < 8 || s > 2)
            {
                for (int ow = 0; ow < oW; ow++)
                {
                    float* b = t + ((long)ow * s - pad);
                    float acc = b[0];
                    for (int j = 1; j < k; j++)
                    {
                        float v = b[(long)j * dil];
                        acc = v > acc ? v : acc;
                    }
                    o[ow] = acc;
                }
                return;
            }
            // Blocks of 8 outputs; the last block is shifted back to end at oW (recomputing a few
            // outputs with identical values) so no scalar tail is needed.
            for (int ow = 0; ; ow += 8)
            {
                if (ow > oW - 8) ow = oW - 8;
                float* b = t + (ow * s - pad);
                Vector256<float> acc;
                if (s == 1)
                {
                    acc = Avx.LoadVector256(b);
                    for (int j = 1; j < k; j++) acc = Avx.Max(Avx.LoadVector256(b + j * dil), acc);
                }
                else if (dil == 1 && k == 3)
                {
                    var lo = Avx.LoadVector256(b);
                    var hi = Avx.LoadVector256(b + 8);
                    var e0 = Avx.Shuffle(lo, hi, 0x88);
                    var e1 = Avx.Shuffle(lo, hi, 0xDD);
                    var e2 = Avx.Shuffle(Avx.LoadVector256(b + 2), Avx.LoadVector256(b + 10), 0x88);
                    acc = Unshuffle(Avx.Max(e2, Avx.Max(e1, e0)));
                }
                else if (dil == 1 && k == 2)
                {
                    var lo = Avx.LoadVector256(b);
                    var hi = Avx.LoadVector256(b + 8);
                    acc = Unshuffle(Avx.Max(Avx.Shuffle(lo, hi, 0xDD), Avx.Shuffle(lo, hi, 0x88)));
                }
                else
                {
                    acc = Evens(b);
                    for (int j = 1; j < k; j++) acc = Avx.Max(Evens(b + j * dil), acc);
                    acc = Unshuffle(acc);
                }
                Avx.Store(o + ow, acc);
                if (ow == oW - 8) break;
            }
        }

        private void AvgHorizontal(float* t, float* o, float* div, float rowDivisor)
        {
            int oW = plan.Output.W, s = plan.Stride.W, pad = plan.PadLo.W, k = plan.Kernel.W;
            if (oW < 8 || s > 2)
            {
                for (int ow = 0; ow < oW; ow++)
                {
                    float* b = t + ((long)ow * s - pad);
                    float acc = b[0];
                    for (int j = 1; j < k; j++) acc += b[j];
                    o[ow] = 0f + acc / (rowDivisor * div[ow]);
                }
                return;
            }
            var rd = Vector256.Create(rowDivisor);
            for (int ow = 0; ; ow += 8)
            {
                if (ow > oW - 8) ow = oW - 8;
                float* b = t + (ow * s - pad);
                Vector256<float> acc;
                if (s == 1)
                {
                    acc = Avx.LoadVector256(b);
                    for (int j = 1; j < k; j++) acc = Avx.Add(acc, Avx.LoadVector256(b + j));
                }
                else if (k == 3)
                {
                    var lo = Avx.LoadVector256(b);
                    var hi = Avx.LoadVector256(b + 8);
                    var e0 = Avx.Shuffle(lo, hi, 0x88);
                    var e1 = Avx.Shuffle(lo, hi, 0xDD);
                    var e2 = Avx.Shuffle(Avx.LoadVector256(b + 2), Avx.LoadVector256(b + 10), 0x88);
                    acc = Unshuffle(Avx.Add(Avx.Add(e0, e1), e2));
                }
                else if (k == 2)
                {
                    var lo = Avx.LoadVector256(b);
                    var hi = Avx.LoadVector256(b + 8);
                    acc = Unshuffle(Avx.Add(Avx.Shuffle(lo, hi, 0x88), Avx.Shuffle(lo, hi, 0xDD)));
                }
                else
                {
                    acc = Evens(b);
                    for (int j = 1; j < k; j++) acc = Avx.Add(acc, Evens(b + j));
                    acc = Unshuffle(acc);
                }
                var q = Avx.Divide(acc, Avx.Multiply(rd, Avx.LoadVector256(div + ow)));
                // PyTorch accumulates into a zeroed output (0 + q), which turns −0 into +0.
                Avx.Store(o + ow, Avx.Add(Vector256<float>.Zero, q));
                if (ow == oW - 8) break;
            }
        }
    }

    /// <summary>
    /// Elements 0, 2, …, 14 of the 16 starting at <paramref name="p"/>, in shufps order
    /// (0, 2, 8, 10 | 4, 6, 12, 14); <see cref="Unshuffle"/> restores the order once per block.
    /// </summary>
    private static unsafe Vector256<float> Evens(float* p) =>
        Avx.Shuffle(Avx.LoadVector256(p), Avx.LoadVector256(p + 8), 0x88);

    /// <summary>Swaps the middle 64-bit quarters, turning shufps's per-lane order into sequential order.</summary>
    private static Vector256<float> Unshuffle(Vector256<float> v) =>
        Avx2.Permute4x64(v.AsDouble(), 0xD8).AsSingle();

    /// <summary>
    /// PyTorch's per-dimension avg extents for output position <paramref name="o"/>: the padded size
    /// <c>min(start + k, in + pad) − start</c> and the clipped count (≤ 0 when the window misses the input).
    /// </summary>
    internal static (long Size, long Count) AvgExtent(long o, int stride, int pad, int kernel, int size)
    {
        long start = o * stride - pad;
        long end = Math.Min(start + kernel, (long)size + pad);
        long poolSize = end - start;
        return (poolSize, Math.Min(end, size) - Math.Max(start, 0));
    }

    /// <summary>One output row of max pooling by PyTorch's scalar loop (exact scan order, NaN and index rules).</summary>
    private static unsafe void MaxRowExact(in PoolPlan plan, float* plane, int od, int oh, float* outRow, long* indexRow) =>
        MaxRowExact(plan, plane, od, oh, outRow, indexRow, 0, plan.Output.W);

    /// <summary>Outputs <c>[owStart, owEnd)</c> of one max-pool row by PyTorch's scalar loop.</summary>
    private static unsafe void MaxRowExact(in PoolPlan plan, float* plane, int od, int oh, float* outRow, long* indexRow, int owStart, int owEnd)
    {
        var I = plan.Input;
        long H = I.H, W = I.W;
        var k = plan.Kernel;
        var s = plan.Stride;
        var dl = plan.Dilation;
        var p = plan.PadLo;
        long d0 = (long)od * s.D - p.D;
        long d1 = Math.Min(d0 + (long)(k.D - 1) * dl.D + 1, I.D);
        d0 = PoolCore.FirstValid(d0, dl.D);
        long h0 = (long)oh * s.H - p.H;
        long h1 = Math.Min(h0 + (long)(k.H - 1) * dl.H + 1, I.H);
        h0 = PoolCore.FirstValid(h0, dl.H);
        for (int ow = owStart; ow < owEnd; ow++)
        {
            long w0 = (long)ow * s.W - p.W;
            long w1 = Math.Min(w0 + (long)(k.W - 1) * dl.W + 1, I.W);
            w0 = PoolCore.FirstValid(w0, dl.W);
            long maxIndex = (d0 * H + h0) * W + w0;
            float maxVal = float.NegativeInfinity;
            for (long d = d0; d < d1; d += dl.D)
                for (long h = h0; h < h1; h += dl.H)
                {
                    long rowStart = (d * H + h) * W;
                    for (long w = w0; w < w1; w += dl.W)
                    {
                        float v = plane[rowStart + w];
                        if (v > maxVal || float.IsNaN(v))
                        {
                            maxVal = v;
                            maxIndex = rowStart + w;
                        }
                    }
                }
            outRow[ow] = maxVal;
            if (indexRow != null) indexRow[ow] = maxIndex;
        }
    }

    /// <summary>One output row of average pooling by PyTorch's scalar loop.</summary>
    private static unsafe void AvgRowExact(in PoolPlan plan, float* plane, int od, int oh, float* outRow, bool countIncludePad, int divisorOverride)
    {
        var I = plan.Input;
        var (sd, cd) = AvgExtent(od, plan.Stride.D, plan.PadLo.D, plan.Kernel.D, I.D);
        var (sh, ch) = AvgExtent(oh, plan.Stride.H, plan.PadLo.H, plan.Kernel.H, I.H);
        long d0 = Math.Max((long)od * plan.Stride.D - plan.PadLo.D, 0), d1 = d0 + cd;
        long h0 = Math.Max((long)oh * plan.Stride.H - plan.PadLo.H, 0), h1 = h0 + ch;
        for (int ow = 0; ow < plan.Output.W; ow++)
        {
            var (sw, cw) = AvgExtent(ow, plan.Stride.W, plan.PadLo.W, plan.Kernel.W, I.W);
            if (cd <= 0 || ch <= 0 || cw <= 0)
            {
                outRow[ow] = 0f;
                continue;
            }
            long w0 = Math.Max((long)ow * plan.Stride.W - plan.PadLo.W, 0), w1 = w0 + cw;
            float sum = 0f;
            for (long d = d0; d < d1; d++)
                for (long h = h0; h < h1; h++)
                {
                    float* row = plane + (d * I.H + h) * I.W;
                    for (long w = w0; w < w1; w++) sum += row[w];
                }
            long divisor = divisorOverride > 0 ? divisorOverride : countIncludePad ? sd * sh * sw : cd * ch * cw;
            outRow[ow] = 0f + sum / divisor;
        }
    }
}
