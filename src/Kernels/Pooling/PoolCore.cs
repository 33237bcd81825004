using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Functional.Kernels;

/// <summary>
/// Shared machinery of the pooling kernels: per-thread scratch rows, the vertical (row-combining)
/// passes of the separable max/sum, and the dispatch onto <see cref="Parallelism"/>.
/// Pools are computed one output row (fixed plane, od, oh) at a time: the input rows its windows
/// touch are first combined column-wise into a scratch row, which the horizontal pass then slides
/// the width window over. Work items are output rows, so the split never depends on the plane
/// count and every row is computed identically whatever the thread count.
/// </summary>
internal static unsafe class PoolCore
{
    /// <summary>Row pointers gathered before each vertical pass; more rows are folded in groups.</summary>
    public const int RowGroup = 64;

    /// <summary>Largest scratch row (floats) the fast paths use; stranger plans take the exact path.</summary>
    public const long MaxScratch = 1 << 22;

    [ThreadStatic] private static float[]? rowScratch;
    [ThreadStatic] private static float[]? divisorScratch;

    /// <summary>This thread's scratch row of at least <paramref name="length"/> floats (grown, never shrunk).</summary>
    public static float[] Row(int length) => Grow(ref rowScratch, length);

    /// <summary>A second per-thread scratch row, for per-column divisors.</summary>
    public static float[] Divisors(int length) => Grow(ref divisorScratch, length);

    private static float[] Grow(ref float[]? slot, int length)
    {
        var a = slot;
        if (a is null || a.Length < length)
            slot = a = GC.AllocateUninitializedArray<float>(Math.Max(length, 256), pinned: true);
        return a;
    }

    /// <summary>Whether the vectorised paths may run (they use AVX2 shuffles and permutes).</summary>
    public static bool Simd => Avx2.IsSupported;

    /// <summary>
    /// Runs <paramref name="job"/> over <c>[0, count)</c> work items, inline (no delegate) when
    /// one thread would do it anyway, else through <see cref="Parallelism.For"/>.
    /// </summary>
    public static void Run<TJob>(int count, long costPerItem, TJob job) where TJob : struct, IRangeJob
    {
        if (count <= 0) return;
        // Same inline threshold as Parallelism.For; checked here to skip boxing the job.
        if (Parallelism.Threads <= 1 || count == 1 || costPerItem * count < 50_000) job.Run(0, count);
        else Parallelism.For(count, costPerItem, job.Run);
    }

    /// <summary>Smallest <c>start + j·dilation ≥ 0</c> (PyTorch's <c>while (i &lt; 0) i += dilation</c>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static long FirstValid(long start, int dilation) =>
        start >= 0 ? start : start + (-start + dilation - 1) / dilation * dilation;

    /// <summary>
    /// <c>dst[c] = max over rows r of rows[r][c]</c> for c in [0, width), rows combined in order with
    /// "strictly greater replaces" (so equal values keep the earlier row's, as PyTorch's scan does).
    /// With <paramref name="accumulate"/> the current <paramref name="dst"/> is the first operand.
    /// maxps drops a NaN in its first operand, so NaNs are detected instead and reported: the caller
    /// then recomputes the row exactly.
    /// </summary>
    public static bool VerticalMax(nint* rows, int n, int width, float* dst, bool accumulate)
    {
        int c = 0;
        // cmpunord(a, b) flags either operand; an all-ones (true) lane is itself a NaN, so masks can
        // be chained into further compares. The loop-carried part is a single OR, off the critical path.
        var nan = Vector256<float>.Zero;
        if (!accumulate && n == 3)
        {
            float* r0 = (float*)rows[0], r1 = (float*)rows[1], r2 = (float*)rows[2];
            for (; c + 8 <= width; c += 8)
            {
                var a = Avx.LoadVector256(r0 + c);
                var b = Avx.LoadVector256(r1 + c);
                var d = Avx.LoadVector256(r2 + c);
                nan = Avx.Or(nan, Avx.CompareUnordered(d, Avx.CompareUnordered(a, b)));
                Avx.Store(dst + c, Avx.Max(d, Avx.Max(b, a)));
            }
        }
        else if (!accumulate && n == 2)
        {
            float* r0 = (float*)rows[0], r1 = (float*)rows[1];
            for (; c + 8 <= width; c += 8)
            {
                var a = Avx.LoadVector256(r0 + c);
                var b = Avx.LoadVector256(r1 + c);
                nan = Avx.Or(nan, Avx.CompareUnordered(a, b));
                Avx.Store(dst + c, Avx.Max(b, a));
            }
        }
        else
        {
            for (; c + 8 <= width; c += 8)
            {
                int r = 0;
                Vector256<float> acc;
                if (accumulate) acc = Avx.LoadVector256(dst + c);
                else
                {
                    acc = Avx.LoadVector256((float*)rows[0] + c);
                    nan = Avx.CompareUnordered(acc, nan);
                    r = 1;
                }
                for (; r < n; r++)
                {
                    var v = Avx.LoadVector256((float*)rows[r] + c);
                    nan = Avx.CompareUnordered(v, nan);
                    acc = Avx.Max(v, acc);
                }
                Avx.Store(dst + c, acc);
            }
        }
        bool sawNaN = Avx.MoveMask(nan) != 0;
        for (; c < width; c++)
        {
            int r = 0;
            float acc;
            if (accumulate) acc = dst[c];
            else
            {
                acc = ((float*)rows[0])[c];
                sawNaN |= float.IsNaN(acc);
                r = 1;
            }
            for (; r < n; r++)
            {
                float v = ((float*)rows[r])[c];
                sawNaN |= float.IsNaN(v);
                acc = v > acc ? v : acc;
            }
            dst[c] = acc;
        }
        return sawNaN;
    }

    /// <summary><c>dst[c] = sum over rows r (in order) of rows[r][c]</c>, continuing from dst with <paramref name="accumulate"/>.</summary>
    public static void VerticalSum(nint* rows, int n, int width, float* dst, bool accumulate)
    {
        int c = 0;
        if (!accumulate && n == 3)
        {
            float* r0 = (float*)rows[0], r1 = (float*)rows[1], r2 = (float*)rows[2];
            for (; c + 8 <= width; c += 8)
                Avx.Store(dst + c, Avx.Add(Avx.Add(Avx.LoadVector256(r0 + c), Avx.LoadVector256(r1 + c)), Avx.LoadVector256(r2 + c)));
        }
        else if (!accumulate && n == 2)
        {
            float* r0 = (float*)rows[0], r1 = (float*)rows[1];
            for (; c + 8 <= width; c += 8)
                Avx.Store(dst + c, Avx.Add(Avx.LoadVector256(r0 + c), Avx.LoadVector256(r1 + c)));
        }
        else
        {
            for (; c + 8 <= width; c += 8)
            {
                int r = 0;
                Vector256<float> acc;
                if (accumulate) acc = Avx.LoadVector256(dst + c);
                else { acc = Avx.LoadVector256((float*)rows[0] + c); r = 1; }
                for (; r < n; r++) acc = Avx.Add(acc, Avx.LoadVector256((float*)rows[r] + c));
                Avx.Store(dst + c, acc);
            }
        }
        for (; c < width; c++)
        {
            int r = 0;
            float acc;
            if (accumulate) acc = dst[c];
            else { acc = ((float*)rows[0])[c]; r = 1; }
            for (; r < n; r++) acc += ((float*)rows[r])[c];
            dst[c] = acc;
        }
    }

    /// <summary>
    /// planes·D·H·W, or −1 when it exceeds <see cref="int.MaxValue"/> (so it can never match a span's
    /// length, even for extents whose product would wrap around).
    /// </summary>
    public static long Length(int planes, Dim3 extent)
    {
        long v = planes;
        foreach (int e in (ReadOnlySpan<int>)[extent.D, extent.H, extent.W])
        {
            v *= e; // both factors ≤ 2³¹, so no wrap before the check
            if (v > int.MaxValue) return -1;
        }
        return v;
    }

    /// <summary>A <see cref="Length"/> result for an error message.</summary>
    public static string Describe(long length) => length < 0 ? "more than int.MaxValue" : length.ToString();

    /// <summary>Fills <c>[start, end)</c> of <paramref name="p"/> with <paramref name="value"/>.</summary>
    public static void Fill(float* p, long start, long end, float value)
    {
        if (end > start) new Span<float>(p + start, checked((int)(end - start))).Fill(value);
    }
}

/// <summary>A body for <see cref="PoolCore.Run{TJob}"/>: processes work items <c>[start, end)</c>.</summary>
internal interface IRangeJob
{
    /// <summary>Processes work items <c>[start, end)</c>.</summary>
    void Run(int start, int end);
}
