namespace Functional.Kernels;

/// <summary>
/// Adaptive average and max pooling over <c>[planes, D, H, W]</c> (1-D and 2-D use extents of 1).
/// Output position <c>o</c> of a dimension of input size <c>in</c> and output size <c>out</c> pools input
/// positions <c>[floor(o·in/out), ceil((o+1)·in/out))</c>, as PyTorch does.
/// </summary>
/// <remarks>
/// Each output row (plane, od, oh) first combines its window's input rows column-wise into a scratch
/// row (vectorised), then reduces each width window from that row. Max rows containing NaN, index
/// requests and CPUs without AVX2 use PyTorch's scalar loop verbatim. Parallel over output rows.
/// </remarks>
public static class AdaptivePooling
{
    /// <summary>
    /// Adaptive average: each output is the window's sum divided by the window's extents in turn
    /// (<c>sum / kd / kh / kw</c>, PyTorch's order).
    /// </summary>
    /// <param name="planes">Independent planes (batch × channels), at least 0.</param>
    /// <param name="input">Input extents, each at least 1.</param>
    /// <param name="output">Output extents, each at least 1.</param>
    /// <param name="source">planes × input volume values.</param>
    /// <param name="destination">planes × output volume values, fully written.</param>
    /// <exception cref="ArgumentException">A size or span length is invalid.</exception>
    public static unsafe void Avg(int planes, Dim3 input, Dim3 output, ReadOnlySpan<float> source, Span<float> destination)
    {
        Validate(planes, input, output, source.Length, destination.Length);
        if (destination.IsEmpty) return;
        fixed (float* ps = source)
        fixed (float* pd = destination)
        {
            var job = new Job(input, output, (nint)ps, (nint)pd, 0, average: true);
            PoolCore.Run(planes * output.D * output.H, Cost(input, output), job);
        }
    }

    /// <summary>
    /// Adaptive max, with PyTorch's NaN rule (a NaN in the window gives NaN) and, when
    /// <paramref name="indices"/> is not empty, the flat index within the input plane
    /// (<c>d·H·W + h·W + w</c>) of each maximum, first occurrence winning ties in scan order.
    /// </summary>
    /// <param name="planes">Independent planes (batch × channels), at least 0.</param>
    /// <param name="input">Input extents, each at least 1.</param>
    /// <param name="output">Output extents, each at least 1.</param>
    /// <param name="source">planes × input volume values.</param>
    /// <param name="destination">planes × output volume values, fully written.</param>
    /// <param name="indices">Empty when not wanted, else the same length as <paramref name="destination"/>.</param>
    /// <exception cref="ArgumentException">A size or span length is invalid.</exception>
    public static unsafe void Max(int planes, Dim3 input, Dim3 output, ReadOnlySpan<float> source, Span<float> destination, Span<long> indices)
    {
        Validate(planes, input, output, source.Length, destination.Length);
        if (!indices.IsEmpty && indices.Length != destination.Length)
            throw new ArgumentException(
                $"indices has {indices.Length} elements; expected {destination.Length} (one per output element) or 0.", nameof(indices));
        if (destination.IsEmpty) return;
        fixed (float* ps = source)
        fixed (float* pd = destination)
        fixed (long* px = indices)
        {
            var job = new Job(input, output, (nint)ps, (nint)pd, (nint)px, average: false);
            PoolCore.Run(planes * output.D * output.H, Cost(input, output), job);
        }
    }

    private static void Validate(int planes, Dim3 input, Dim3 output, int sourceLength, int destinationLength)
    {
        if (planes < 0)
            throw new ArgumentOutOfRangeException(nameof(planes), planes, "Adaptive pool planes must be at least 0.");
        if (input.D < 1 || input.H < 1 || input.W < 1)
            throw new ArgumentException($"Adaptive pool input size {input}; expected every extent at least 1.", nameof(input));
        if (output.D < 1 || output.H < 1 || output.W < 1)
            throw new ArgumentException($"Adaptive pool output size {output}; expected every extent at least 1.", nameof(output));
        long expectedIn = PoolCore.Length(planes, input);
        if (sourceLength != expectedIn)
            throw new ArgumentException(
                $"source has {sourceLength} elements; expected {PoolCore.Describe(expectedIn)} ({planes} planes × {input}).", "source");
        long expectedOut = PoolCore.Length(planes, output);
        if (destinationLength != expectedOut)
            throw new ArgumentException(
                $"destination has {destinationLength} elements; expected {PoolCore.Describe(expectedOut)} ({planes} planes × {output}).", "destination");
    }

    /// <summary>Work per output row: its windows' elements plus the vertical pass.</summary>
    private static long Cost(Dim3 input, Dim3 output)
    {
        double windowRows = Math.Ceiling((double)input.D / output.D + 1) * Math.Ceiling((double)input.H / output.H + 1);
        double cost = windowRows * input.W + (double)output.W * Math.Ceiling((double)input.W / output.W + 1);
        return (long)Math.Min(cost, 1L << 40);
    }

    /// <summary>PyTorch's <c>start_index</c>: floor(o·in/out).</summary>
    private static long Start(long o, int output, int input) => o * input / output;

    /// <summary>PyTorch's <c>end_index</c>: ceil((o+1)·in/out).</summary>
    private static long End(long o, int output, int input) => ((o + 1) * input + output - 1) / output;

    private readonly unsafe struct Job(Dim3 input, Dim3 output, nint source, nint destination, nint indices, bool average) : IRangeJob
    {
        public void Run(int start, int end)
        {
            int W = input.W, oW = output.W;
            bool fast = PoolCore.Simd && indices == 0;
            var scratch = fast ? PoolCore.Row(W + 8) : null;
            nint* rows = stackalloc nint[PoolCore.RowGroup];
            fixed (float* t = scratch)
            {
                for (int i = start; i < end; i++)
                {
                    int rowsPerPlane = output.D * output.H;
                    int p = i / rowsPerPlane;
                    int r = i - p * rowsPerPlane;
                    int od = r / output.H, oh = r - od * output.H;
                    float* plane = (float*)source + p * input.Volume;
                    long outOffset = (long)i * oW;
                    float* outRow = (float*)destination + outOffset;

                    long d0 = Start(od, output.D, input.D), d1 = End(od, output.D, input.D);
                    long h0 = Start(oh, output.H, input.H), h1 = End(oh, output.H, input.H);
                    if (!fast)
                    {
                        if (average) AvgRowExact(plane, d0, d1, h0, h1, outRow);
                        else MaxRowExact(plane, d0, d1, h0, h1, outRow, indices == 0 ? null : (long*)indices + outOffset);
                        continue;
                    }

                    // Combine the window's rows (scan order) into t[0, W); windows are never empty.
                    int n = 0;
                    bool any = false, nan = false;
                    for (long d = d0; d < d1; d++)
                        for (long h = h0; h < h1; h++)
                        {
                            rows[n++] = (nint)(plane + (d * input.H + h) * W);
                            if (n == PoolCore.RowGroup)
                            {
                                Fold(rows, n, W, t, any, ref nan);
                                any = true;
                                n = 0;
                            }
                        }
                    if (n > 0) Fold(rows, n, W, t, any, ref nan);

                    if (!average && nan)
                    {
                        MaxRowExact(plane, d0, d1, h0, h1, outRow, null);
                        continue;
                    }
                    float kd = d1 - d0, kh = h1 - h0;
                    for (int ow = 0; ow < oW; ow++)
                    {
                        long w0 = Start(ow, oW, W), w1 = End(ow, oW, W);
                        float acc = t[w0];
                        if (average)
                        {
                            for (long w = w0 + 1; w < w1; w++) acc += t[w];
                            outRow[ow] = acc / kd / kh / (w1 - w0);
                        }
                        else
                        {
                            for (long w = w0 + 1; w < w1; w++)
                            {
                                float v = t[w];
                                acc = v > acc ? v : acc;
                            }
                            outRow[ow] = acc;
                        }
                    }
                }
            }
        }

        private void Fold(nint* rows, int n, int width, float* t, bool accumulate, ref bool nan)
        {
            if (average) PoolCore.VerticalSum(rows, n, width, t, accumulate);
            else nan |= PoolCore.VerticalMax(rows, n, width, t, accumulate);
        }

        private void AvgRowExact(float* plane, long d0, long d1, long h0, long h1, float* outRow)
        {
            for (int ow = 0; ow < output.W; ow++)
            {
                long w0 = Start(ow, output.W, input.W), w1 = End(ow, output.W, input.W);
                float sum = 0f;
                for (long d = d0; d < d1; d++)
                    for (long h = h0; h < h1; h++)
                    {
                        float* row = plane + (d * input.H + h) * input.W;
                        for (long w = w0; w < w1; w++) sum += row[w];
                    }
                outRow[ow] = sum / (float)(d1 - d0) / (float)(h1 - h0) / (float)(w1 - w0);
            }
        }

        private void MaxRowExact(float* plane, long d0, long d1, long h0, long h1, float* outRow, long* indexRow)
        {
            for (int ow = 0; ow < output.W; ow++)
            {
                long w0 = Start(ow, output.W, input.W), w1 = End(ow, output.W, input.W);
                long maxIndex = (d0 * input.H + h0) * input.W + w0;
                float maxVal = float.NegativeInfinity;
                for (long d = d0; d < d1; d++)
                    for (long h = h0; h < h1; h++)
                    {
                        long rowStart = (d * input.H + h) * input.W;
                        for (long w = w0; w < w1; w++)
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
    }
}
