using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Functional.Kernels;

/// <summary>
/// Depthwise convolution (groups == in channels, any channel multiplier) as a direct loop: one
/// input channel per output channel leaves no reduction for a GEMM to block, so each output row
/// is a weighted sum of shifted input rows.
/// <code>
///   out[oc, od, oh, x] = bias[oc] + Σ over valid (kd, kh), kw of  w[oc, kd, kh, kw] · in[oc / mult, id, ih, x·sW - pW + kw·dW]
///
///   x:   0 1 | 2 3 4 .............. 51 52 53 | 54 55
///        edge|  interior: every kw in range   | edge     interior: 16 / 8 outputs per step in
///                                                         registers, all taps, one store
/// </code>
/// Every element accumulates from its bias over the in-range taps in (kd, kh, kw) order, in the
/// vector interior and the scalar edges alike.
/// </summary>
internal static unsafe class Depthwise
{
    /// <summary>Computes output rows [start, end), row r being (n, oc, od, oh) in output order.</summary>
    [SkipLocalsInit]
    internal static void Rows(in ConvGeometry g, int inChannels, int outChannels, float* input, float* weight,
        float* bias, float* output, int start, int end, bool fast)
    {
        int mult = outChannels / inChannels;
        int kw = g.KW, sw = g.SW, ow = g.ColW;
        // Per kw: input offset and the valid output range; their intersection is the interior.
        long* offW = stackalloc long[kw];
        int* lo = stackalloc int[kw];
        int* hi = stackalloc int[kw];
        int inLo = 0, inHi = ow;
        for (int j = 0; j < kw; j++)
        {
            offW[j] = (long)j * g.DW - g.PW;
            ConvGeometry.ValidRange(ow, sw, offW[j], g.ImgW, out lo[j], out hi[j]);
            inLo = Math.Max(inLo, lo[j]);
            inHi = Math.Min(inHi, hi[j]);
        }
        if (inHi < inLo) inHi = inLo;
        int maxRows = g.KD * g.KH;
        float** rows = stackalloc float*[maxRows];
        float** wrows = stackalloc float*[maxRows];
        bool vector = fast && (sw == 1 || sw == 2);

        // Zero-pad the input rows in W (left pW, right as far as the last tap reaches) so that
        // every output is "interior": one vector loop, no per-tap range tests at the edges. Taps
        // on the padding multiply a stored zero, exactly as the GEMM path's im2col zeros do.
        // A whole padded plane is built when it is small (and reused by the next output rows and
        // the channel multiplier's other outputs); otherwise each output row pads its own rows.
        long right = (long)(ow - 1) * sw + (long)(kw - 1) * g.DW - g.PW - (g.ImgW - 1);
        int padL = g.PW, padR = (int)Math.Clamp(right, 0, int.MaxValue);
        long paddedW = (long)padL + g.ImgW + padR;
        bool pad = padL > 0 || padR > 0;
        bool planeMode = false;
        float* scratch = null;
        if (pad && paddedW <= 1 << 16)
        {
            long planeSize = (long)g.ImgD * g.ImgH * paddedW;
            planeMode = planeSize <= 1 << 18;
            scratch = Scratch.Get(planeMode ? planeSize : maxRows * paddedW);
        }
        else
        {
            pad = false; // unpadded input, or padding too wide to copy: range-checked edges instead
        }
        if (pad)
        {
            for (int j = 0; j < kw; j++) { offW[j] = (long)j * g.DW; lo[j] = 0; hi[j] = ow; }
            inLo = 0;
            inHi = ow;
        }
        float* planeOf = null;

        // Decode the first row once, then step (oh, od, oc, n) like an odometer.
        int t = start / g.ColH, oh = start - t * g.ColH;
        int t2 = t / g.ColD, od = t - t2 * g.ColD;
        int n = t2 / outChannels, oc = t2 - n * outChannels;
        for (int r = start; r < end; r++)
        {
            if (r != start && ++oh == g.ColH)
            {
                oh = 0;
                if (++od == g.ColD)
                {
                    od = 0;
                    if (++oc == outChannels) { oc = 0; n++; }
                }
            }
            float* plane = input + ((nint)n * inChannels + oc / mult) * g.ImgVolume;
            float* o = output + (nint)r * ow;
            float* w = weight + (nint)oc * g.Taps;
            float bv = bias == null ? 0f : bias[oc];

            // The input rows this output row sees, in (kd, kh) order.
            int count = 0;
            for (int kd = 0; kd < g.KD; kd++)
            {
                long id = od * (long)g.SD + (long)kd * g.DD - g.PD;
                if ((ulong)id >= (ulong)g.ImgD) continue;
                for (int kh = 0; kh < g.KH; kh++)
                {
                    long ih = oh * (long)g.SH + (long)kh * g.DH - g.PH;
                    if ((ulong)ih >= (ulong)g.ImgH) continue;
                    float* src = plane + (id * g.ImgH + ih) * g.ImgW;
                    if (!pad) rows[count] = src;
                    else if (planeMode) rows[count] = scratch + (id * g.ImgH + ih) * paddedW;
                    else PadRow(src, rows[count] = scratch + count * paddedW, padL, g.ImgW, padR);
                    wrows[count] = w + (kd * g.KH + kh) * kw;
                    count++;
                }
            }
            if (planeMode && plane != planeOf)
            {
                for (long row = 0; row < (long)g.ImgD * g.ImgH; row++)
                    PadRow(plane + row * g.ImgW, scratch + row * paddedW, padL, g.ImgW, padR);
                planeOf = plane;
            }

            int x = 0;
            if (vector && inHi - inLo >= 8)
            {
                // Scalar up to the interior, then vectors, then scalar for the rest.
                Scalar(o, 0, inLo, rows, wrows, count, offW, lo, hi, kw, sw, bv, fast);
                if (sw == 1) Interior<UnitStride>(o, inLo, inHi, rows, wrows, count, offW, kw, bv);
                else Interior<DoubleStride>(o, inLo, inHi, rows, wrows, count, offW, kw, bv);
                x = inHi;
            }
            Scalar(o, x, ow, rows, wrows, count, offW, lo, hi, kw, sw, bv, fast);
        }
    }

    private interface ILoad
    {
        /// <summary>The 8 inputs of 8 consecutive outputs, starting at the first output's input.</summary>
        static abstract Vector256<float> Load(float* s);
        static abstract int Stride { get; }
    }

    private struct UnitStride : ILoad
    {
        public static Vector256<float> Load(float* s) => Avx.LoadVector256(s);
        public static int Stride => 1;
    }

    private struct DoubleStride : ILoad
    {
        public static Vector256<float> Load(float* s) => Im2Col.Even(s);
        public static int Stride => 2;
    }

    /// <summary>
    /// Outputs [x0, x1) (at least 8), all taps in range. 32 outputs per step in four independent
    /// accumulators (so the FMA latency chain over the taps does not stall), the last step shifted
    /// back to overlap the previous one; narrower rows go 8 at a time. Recomputing an element
    /// repeats its exact operation sequence, so overlapping stores write the same value.
    /// </summary>
    private static void Interior<T>(float* o, int x0, int x1, float** rows, float** wrows, int count, long* offW, int kw, float bv)
        where T : struct, ILoad
    {
        if (x1 - x0 >= 32)
        {
            for (int x = x0; ; x += 32)
            {
                if (x + 32 > x1) x = x1 - 32;
                if (kw == 3) Block32Of3<T>(o + x, x, rows, wrows, count, offW, bv);
                else Block32<T>(o + x, x, rows, wrows, count, offW, kw, bv);
                if (x + 32 == x1) break;
            }
            return;
        }
        for (int x = x0; ; x += 8)
        {
            if (x + 8 > x1) x = x1 - 8;
            var acc = Vector256.Create(bv);
            int sw = T.Stride;
            for (int i = 0; i < count; i++)
            {
                float* src = rows[i] + (long)x * sw;
                float* wr = wrows[i];
                for (int j = 0; j < kw; j++)
                    acc = Fma.MultiplyAdd(Vector256.Create(wr[j]), T.Load(src + offW[j]), acc);
            }
            Avx.Store(o + x, acc);
            if (x + 8 == x1) break;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Block32Of3<T>(float* o, int x, float** rows, float** wrows, int count, long* offW, float bv)
        where T : struct, ILoad
    {
        int sw = T.Stride;
        long d0 = offW[0], d1 = offW[1], d2 = offW[2];
        var a0 = Vector256.Create(bv);
        var a1 = a0; var a2 = a0; var a3 = a0;
        for (int i = 0; i < count; i++)
        {
            float* s = rows[i] + (long)x * sw;
            float* wr = wrows[i];
            var w0 = Vector256.Create(wr[0]);
            var w1 = Vector256.Create(wr[1]);
            var w2 = Vector256.Create(wr[2]);
            a0 = Fma.MultiplyAdd(w0, T.Load(s + d0), a0);
            a1 = Fma.MultiplyAdd(w0, T.Load(s + d0 + 8 * sw), a1);
            a2 = Fma.MultiplyAdd(w0, T.Load(s + d0 + 16 * sw), a2);
            a3 = Fma.MultiplyAdd(w0, T.Load(s + d0 + 24 * sw), a3);
            a0 = Fma.MultiplyAdd(w1, T.Load(s + d1), a0);
            a1 = Fma.MultiplyAdd(w1, T.Load(s + d1 + 8 * sw), a1);
            a2 = Fma.MultiplyAdd(w1, T.Load(s + d1 + 16 * sw), a2);
            a3 = Fma.MultiplyAdd(w1, T.Load(s + d1 + 24 * sw), a3);
            a0 = Fma.MultiplyAdd(w2, T.Load(s + d2), a0);
            a1 = Fma.MultiplyAdd(w2, T.Load(s + d2 + 8 * sw), a1);
            a2 = Fma.MultiplyAdd(w2, T.Load(s + d2 + 16 * sw), a2);
            a3 = Fma.MultiplyAdd(w2, T.Load(s + d2 + 24 * sw), a3);
        }
        Avx.Store(o, a0); Avx.Store(o + 8, a1); Avx.Store(o + 16, a2); Avx.Store(o + 24, a3);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Block32<T>(float* o, int x, float** rows, float** wrows, int count, long* offW, int kw, float bv)
        where T : struct, ILoad
    {
        int sw = T.Stride;
        var a0 = Vector256.Create(bv);
        var a1 = a0; var a2 = a0; var a3 = a0;
        for (int i = 0; i < count; i++)
        {
            float* src = rows[i] + (long)x * sw;
            float* wr = wrows[i];
            for (int j = 0; j < kw; j++)
            {
                var wv = Vector256.Create(wr[j]);
                float* s = src + offW[j];
                a0 = Fma.MultiplyAdd(wv, T.Load(s), a0);
                a1 = Fma.MultiplyAdd(wv, T.Load(s + 8 * sw), a1);
                a2 = Fma.MultiplyAdd(wv, T.Load(s + 16 * sw), a2);
                a3 = Fma.MultiplyAdd(wv, T.Load(s + 24 * sw), a3);
            }
        }
        Avx.Store(o, a0); Avx.Store(o + 8, a1); Avx.Store(o + 16, a2); Avx.Store(o + 24, a3);
    }

    private static void PadRow(float* src, float* dst, int padL, int width, int padR)
    {
        new Span<float>(dst, padL).Clear();
        new ReadOnlySpan<float>(src, width).CopyTo(new Span<float>(dst + padL, width));
        new Span<float>(dst + padL + width, padR).Clear();
    }

    /// <summary>Outputs [x0, x1) of one row, one at a time, skipping out-of-range taps.</summary>
    private static void Scalar(float* o, int x0, int x1, float** rows, float** wrows, int count,
        long* offW, int* lo, int* hi, int kw, int sw, float bv, bool fast)
    {
        for (int x = x0; x < x1; x++)
        {
            float acc = bv;
            for (int i = 0; i < count; i++)
            {
                float* src = rows[i] + (long)x * sw;
                float* wr = wrows[i];
                for (int j = 0; j < kw; j++)
                {
                    if (x < lo[j] || x >= hi[j]) continue;
                    float v = src[offW[j]];
                    acc = fast ? MathF.FusedMultiplyAdd(wr[j], v, acc) : acc + wr[j] * v;
                }
            }
            o[x] = acc;
        }
    }
}
