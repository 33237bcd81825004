using Functional.Kernels;

namespace Functional.Properties.Kernels;

/// <summary>
/// Plain loops transcribing PyTorch's CPU pooling kernels (max_pool, avg_pool, adaptive pools,
/// max_unpool) element by element, with no shared code with the kernels under test.
/// </summary>
internal static class ReferencePool
{
    /// <summary>PyTorch's pooling output size: floor/ceil((in + 2p − d(k−1) − 1)/s) + 1, with ceil_mode's last-window rule.</summary>
    public static int OutputSize(int input, int kernel, int stride, int pad, int dilation, bool ceilMode)
    {
        long numerator = (long)input + 2L * pad - (long)dilation * (kernel - 1) - 1;
        long q = ceilMode ? CeilDiv(numerator, stride) : FloorDiv(numerator, stride);
        long output = q + 1;
        // With ceil_mode the last window must start inside the input or its left padding.
        if (ceilMode && (output - 1) * stride >= input + pad) output--;
        return (int)output;
    }

    private static long FloorDiv(long a, long b) => a >= 0 ? a / b : -((-a + b - 1) / b);
    private static long CeilDiv(long a, long b) => -FloorDiv(-a, b);

    /// <summary>max_pool{1,2,3}d with indices, PyTorch's loop verbatim (3-D form).</summary>
    public static (float[] Values, long[] Indices) Max(PoolPlan plan, float[] input)
    {
        var I = plan.Input;
        var O = plan.Output;
        var values = new float[plan.Planes * O.Volume];
        var indices = new long[values.Length];
        int o = 0;
        for (int p = 0; p < plan.Planes; p++)
            for (int od = 0; od < O.D; od++)
                for (int oh = 0; oh < O.H; oh++)
                    for (int ow = 0; ow < O.W; ow++, o++)
                    {
                        long d0 = (long)od * plan.Stride.D - plan.PadLo.D;
                        long h0 = (long)oh * plan.Stride.H - plan.PadLo.H;
                        long w0 = (long)ow * plan.Stride.W - plan.PadLo.W;
                        long d1 = Math.Min(d0 + (long)(plan.Kernel.D - 1) * plan.Dilation.D + 1, I.D);
                        long h1 = Math.Min(h0 + (long)(plan.Kernel.H - 1) * plan.Dilation.H + 1, I.H);
                        long w1 = Math.Min(w0 + (long)(plan.Kernel.W - 1) * plan.Dilation.W + 1, I.W);
                        while (d0 < 0) d0 += plan.Dilation.D;
                        while (h0 < 0) h0 += plan.Dilation.H;
                        while (w0 < 0) w0 += plan.Dilation.W;
                        long maxIndex = d0 * I.H * I.W + h0 * I.W + w0;
                        float maxVal = float.NegativeInfinity;
                        for (long d = d0; d < d1; d += plan.Dilation.D)
                            for (long h = h0; h < h1; h += plan.Dilation.H)
                                for (long w = w0; w < w1; w += plan.Dilation.W)
                                {
                                    long index = d * I.H * I.W + h * I.W + w;
                                    float val = input[p * I.Volume + index];
                                    if (val > maxVal || float.IsNaN(val))
                                    {
                                        maxVal = val;
                                        maxIndex = index;
                                    }
                                }
                        values[o] = maxVal;
                        indices[o] = maxIndex;
                    }
        return (values, indices);
    }

    /// <summary>avg_pool{1,2,3}d, PyTorch's loop verbatim (float accumulation in scan order).</summary>
    public static float[] Avg(PoolPlan plan, float[] input, bool countIncludePad, int divisorOverride)
    {
        var I = plan.Input;
        var O = plan.Output;
        var values = new float[plan.Planes * O.Volume];
        int o = 0;
        for (int p = 0; p < plan.Planes; p++)
            for (int od = 0; od < O.D; od++)
                for (int oh = 0; oh < O.H; oh++)
                    for (int ow = 0; ow < O.W; ow++, o++)
                    {
                        long d0 = (long)od * plan.Stride.D - plan.PadLo.D;
                        long h0 = (long)oh * plan.Stride.H - plan.PadLo.H;
                        long w0 = (long)ow * plan.Stride.W - plan.PadLo.W;
                        long d1 = Math.Min(d0 + plan.Kernel.D, I.D + plan.PadLo.D);
                        long h1 = Math.Min(h0 + plan.Kernel.H, I.H + plan.PadLo.H);
                        long w1 = Math.Min(w0 + plan.Kernel.W, I.W + plan.PadLo.W);
                        long poolSize = (d1 - d0) * (h1 - h0) * (w1 - w0);
                        d0 = Math.Max(d0, 0); h0 = Math.Max(h0, 0); w0 = Math.Max(w0, 0);
                        d1 = Math.Min(d1, I.D); h1 = Math.Min(h1, I.H); w1 = Math.Min(w1, I.W);
                        values[o] = 0f;
                        if (d0 >= d1 || h0 >= h1 || w0 >= w1) continue;
                        float sum = 0f;
                        long divideFactor = divisorOverride > 0 ? divisorOverride
                            : countIncludePad ? poolSize : (d1 - d0) * (h1 - h0) * (w1 - w0);
                        for (long d = d0; d < d1; d++)
                            for (long h = h0; h < h1; h++)
                                for (long w = w0; w < w1; w++)
                                    sum += input[p * I.Volume + d * I.H * I.W + h * I.W + w];
                        values[o] += sum / divideFactor;
                    }
        return values;
    }

    /// <summary>The same average computed in double, for tolerance checks on arbitrary values.</summary>
    public static double[] AvgExact(PoolPlan plan, float[] input, bool countIncludePad, int divisorOverride, out double[] absMean)
    {
        var I = plan.Input;
        var O = plan.Output;
        var values = new double[plan.Planes * O.Volume];
        absMean = new double[values.Length];
        int o = 0;
        for (int p = 0; p < plan.Planes; p++)
            for (int od = 0; od < O.D; od++)
                for (int oh = 0; oh < O.H; oh++)
                    for (int ow = 0; ow < O.W; ow++, o++)
                    {
                        long d0 = (long)od * plan.Stride.D - plan.PadLo.D;
                        long h0 = (long)oh * plan.Stride.H - plan.PadLo.H;
                        long w0 = (long)ow * plan.Stride.W - plan.PadLo.W;
                        long d1 = Math.Min(d0 + plan.Kernel.D, I.D + plan.PadLo.D);
                        long h1 = Math.Min(h0 + plan.Kernel.H, I.H + plan.PadLo.H);
                        long w1 = Math.Min(w0 + plan.Kernel.W, I.W + plan.PadLo.W);
                        long poolSize = (d1 - d0) * (h1 - h0) * (w1 - w0);
                        d0 = Math.Max(d0, 0); h0 = Math.Max(h0, 0); w0 = Math.Max(w0, 0);
                        d1 = Math.Min(d1, I.D); h1 = Math.Min(h1, I.H); w1 = Math.Min(w1, I.W);
                        if (d0 >= d1 || h0 >= h1 || w0 >= w1) continue;
                        double sum = 0, abs = 0;
                        long divideFactor = divisorOverride > 0 ? divisorOverride
                            : countIncludePad ? poolSize : (d1 - d0) * (h1 - h0) * (w1 - w0);
                        for (long d = d0; d < d1; d++)
                            for (long h = h0; h < h1; h++)
                                for (long w = w0; w < w1; w++)
                                {
                                    float x = input[p * I.Volume + d * I.H * I.W + h * I.W + w];
                                    sum += x;
                                    abs += Math.Abs(x);
                                }
                        values[o] = sum / divideFactor;
                        absMean[o] = abs / divideFactor;
                    }
        return values;
    }

    private static long Start(long o, long outSize, long inSize) => (long)Math.Floor((double)(o * inSize) / outSize);
    private static long End(long o, long outSize, long inSize) => (long)Math.Ceiling((double)((o + 1) * inSize) / outSize);

    /// <summary>adaptive_avg_pool{1,2,3}d: windows [floor(o·in/out), ceil((o+1)·in/out)), sum / kd / kh / kw.</summary>
    public static float[] AdaptiveAvg(int planes, Dim3 I, Dim3 O, float[] input)
    {
        var values = new float[planes * O.Volume];
        int o = 0;
        for (int p = 0; p < planes; p++)
            for (int od = 0; od < O.D; od++)
                for (int oh = 0; oh < O.H; oh++)
                    for (int ow = 0; ow < O.W; ow++, o++)
                    {
                        long d0 = Start(od, O.D, I.D), d1 = End(od, O.D, I.D);
                        long h0 = Start(oh, O.H, I.H), h1 = End(oh, O.H, I.H);
                        long w0 = Start(ow, O.W, I.W), w1 = End(ow, O.W, I.W);
                        float sum = 0f;
                        for (long d = d0; d < d1; d++)
                            for (long h = h0; h < h1; h++)
                                for (long w = w0; w < w1; w++)
                                    sum += input[p * I.Volume + d * I.H * I.W + h * I.W + w];
                        values[o] = sum / (d1 - d0) / (h1 - h0) / (w1 - w0);
                    }
        return values;
    }

    /// <summary>adaptive_max_pool{1,2,3}d with indices.</summary>
    public static (float[] Values, long[] Indices) AdaptiveMax(int planes, Dim3 I, Dim3 O, float[] input)
    {
        var values = new float[planes * O.Volume];
        var indices = new long[values.Length];
        int o = 0;
        for (int p = 0; p < planes; p++)
            for (int od = 0; od < O.D; od++)
                for (int oh = 0; oh < O.H; oh++)
                    for (int ow = 0; ow < O.W; ow++, o++)
                    {
                        long d0 = Start(od, O.D, I.D), d1 = End(od, O.D, I.D);
                        long h0 = Start(oh, O.H, I.H), h1 = End(oh, O.H, I.H);
                        long w0 = Start(ow, O.W, I.W), w1 = End(ow, O.W, I.W);
                        long maxIndex = d0 * I.H * I.W + h0 * I.W + w0;
                        float maxVal = float.NegativeInfinity;
                        for (long d = d0; d < d1; d++)
                            for (long h = h0; h < h1; h++)
                                for (long w = w0; w < w1; w++)
                                {
                                    long index = d * I.H * I.W + h * I.W + w;
                                    float val = input[p * I.Volume + index];
                                    if (val > maxVal || float.IsNaN(val))
                                    {
                                        maxVal = val;
                                        maxIndex = index;
                                    }
                                }
                        values[o] = maxVal;
                        indices[o] = maxIndex;
                    }
        return (values, indices);
    }

    /// <summary>max_unpool: zeros, then serial scatter of each plane.</summary>
    public static float[] MaxUnpool(int planes, Dim3 I, Dim3 O, float[] source, long[] indices)
    {
        var result = new float[planes * O.Volume];
        for (int p = 0; p < planes; p++)
            for (long i = 0; i < I.Volume; i++)
                result[p * O.Volume + indices[p * I.Volume + i]] = source[p * I.Volume + i];
        return result;
    }
}
