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

    /// <summary>
    /// True when <see cref="Planes3x3"/> handles the problem: 2-D, 3×3, stride 1, dilation 1, padding
    /// at most 2, output at least 2 rows × 8 columns (and a padded plane of at most 1 MB), AVX2.
    /// </summary>
    internal static bool PlaneApplies(in ConvGeometry g, bool fast) =>
        fast && Fma.IsSupported && Avx2.IsSupported
        && g.ImgD == 1 && g.ColD == 1 && g.KD == 1 && g.KH == 3 && g.KW == 3
        && g.SH == 1 && g.SW == 1 && g.DH == 1 && g.DW == 1 && g.PH <= 2 && g.PW <= 2
        && g.ColH >= 2 && g.ColW >= 8 && (long)(g.ColH + 2) * (g.ColW + 2) <= 1 << 18;

    /// <summary>
    /// 3×3, stride-1 depthwise over whole planes [start, end) (plane = (n, oc)): the input plane is
    /// copied into a zero-bordered buffer (every tap in range), then two output rows at a time are
    /// accumulated 32 (or 8) columns wide from bias over the 9 taps in (kh, kw) order; the last row
    /// pair and column block shift back to overlap, recomputing identical values.
    /// </summary>
    [SkipLocalsInit]
    internal static void Planes3x3(in ConvGeometry g, int inChannels, int outChannels, float* input, float* weight,
        float* bias, float* output, int start, int end)
    {
        int mult = outChannels / inChannels;
        int oh = g.ColH, ow = g.ColW;
        int pw = ow + 2, ph = oh + 2;
        float* pad = Scratch.Get((long)ph * pw + 8);
        float* padOf = null;
        for (int plane = start; plane < end; plane++)
        {
            int n = plane / outChannels, oc = plane - n * outChannels;
            float* src = input + ((nint)n * inChannels + oc / mult) * g.ImgVolume;
            if (src != padOf)
            {
                // pad[r][x] = in[r - PH][x - PW], zero outside.
                int lo = Math.Min(g.PW, pw), hi = Math.Clamp(g.PW + g.ImgW, lo, pw);
                for (int r = 0; r < ph; r++)
                {
                    float* d = pad + (nint)r * pw;
                    int ih = r - g.PH;
                    if ((uint)ih >= (uint)g.ImgH) { new Span<float>(d, pw).Clear(); continue; }
                    new Span<float>(d, lo).Clear();
                    new ReadOnlySpan<float>(src + (nint)ih * g.ImgW + (lo - g.PW), hi - lo).CopyTo(new Span<float>(d + lo, hi - lo));
                    new Span<float>(d + hi, pw - hi).Clear();
                }
                padOf = src;
            }
            float* w = weight + (nint)oc * 9;
            var bv = Vector256.Create(bias == null ? 0f : bias[oc]);
            var w0 = Vector256.Create(w[0]); var w1 = Vector256.Create(w[1]); var w2 = Vector256.Create(w[2]);
            var w3 = Vector256.Create(w[3]); var w4 = Vector256.Create(w[4]); var w5 = Vector256.Create(w[5]);
            var w6 = Vector256.Create(w[6]); var w7 = Vector256.Create(w[7]); var w8 = Vector256.Create(w[8]);
            float* o = output + (nint)plane * oh * ow;
            for (int y = 0; ; y += 2)
            {
                if (y + 2 > oh) y = oh - 2;
                float* r0 = pad + (nint)y * pw;
                float* o0 = o + (nint)y * ow;
                if (ow >= 32)
                {
                    for (int x = 0; ; x += 32)
                    {
                        if (x + 32 > ow) x = ow - 32;
                        Pair32(r0 + x, pw, o0 + x, ow, bv, w0, w1, w2, w3, w4, w5, w6, w7, w8);
                        if (x + 32 == ow) break;
                    }
                }
                else
                {
                    for (int x = 0; ; x += 8)
                    {
                        if (x + 8 > ow) x = ow - 8;
                        Pair8(r0 + x, pw, o0 + x, ow, bv, w0, w1, w2, w3, w4, w5, w6, w7, w8);
                        if (x + 8 == ow) break;
                    }
                }
                if (y + 2 == oh) break;
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Taps3(float* s, Vector256<float> acc, Vector256<float> a, Vector256<float> b, Vector256<float> c)
    {
        acc = Fma.MultiplyAdd(a, Avx.LoadVector256(s), acc);
        acc = Fma.MultiplyAdd(b, Avx.LoadVector256(s + 1), acc);
        return Fma.MultiplyAdd(c, Avx.LoadVector256(s + 2), acc);
    }

    /// <summary>Two output rows × 8 columns: out row 0 from input rows 0-2, out row 1 from rows 1-3.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Pair8(float* s, nint pw, float* o, nint ow, Vector256<float> bv,
        Vector256<float> w0, Vector256<float> w1, Vector256<float> w2, Vector256<float> w3, Vector256<float> w4,
        Vector256<float> w5, Vector256<float> w6, Vector256<float> w7, Vector256<float> w8)
    {
        var a = Taps3(s, bv, w0, w1, w2);
        var b = Taps3(s + pw, bv, w0, w1, w2);
        a = Taps3(s + pw, a, w3, w4, w5);
        b = Taps3(s + 2 * pw, b, w3, w4, w5);
        a = Taps3(s + 2 * pw, a, w6, w7, w8);
        b = Taps3(s + 3 * pw, b, w6, w7, w8);
        Avx.Store(o, a);
        Avx.Store(o + ow, b);
    }

    /// <summary>Two output rows × 32 columns, eight independent accumulators.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Pair32(float* s, nint pw, float* o, nint ow, Vector256<float> bv,
        Vector256<float> w0, Vector256<float> w1, Vector256<float> w2, Vector256<float> w3, Vector256<float> w4,
        Vector256<float> w5, Vector256<float> w6, Vector256<float> w7, Vector256<float> w8)
    {
        var a0 = Taps3(s, bv, w0, w1, w2);
        var a1 = Taps3(s + 8, bv, w0, w1, w2);
        var a2 = Taps3(s + 16, bv, w0, w1, w2);
        var a3 = Taps3(s + 24, bv, w0, w1, w2);
        float* s1 = s + pw;
        var b0 = Taps3(s1, bv, w0, w1, w2);
        var b1 = Taps3(s1 + 8, bv, w0, w1, w2);
        var b2 = Taps3(s1 + 16, bv, w0, w1, w2);
        var b3 = Taps3(s1 + 24, bv, w0, w1, w2);
        a0 = Taps3(s1, a0, w3, w4, w5);
        a1 = Taps3(s1 + 8, a1, w3, w4, w5);
        a2 = Taps3(s1 + 16, a2, w3, w4, w5);
        a3 = Taps3(s1 + 24, a3, w3, w4, w5);
        float* s2 = s1 + pw;
        b0 = Taps3(s2, b0, w3, w4, w5);
        b1 = Taps3(s2 + 8, b1, w3, w4, w5);
        b2 = Taps3(s2 + 16, b2, w3, w4, w5);
        b3 = Taps3(s2 + 24, b3, w3, w4, w5);
        a0 = Taps3(s2, a0, w6, w7, w8);
        a1 = Taps3(s2 + 8, a1, w6, w7, w8);
        a2 = Taps3(s2 + 16, a2, w6, w7, w8);
        a3 = Taps3(s2 + 24, a3, w6, w7, w8);
        float* s3 = s2 + pw;
        b0 = Taps3(s3, b0, w6, w7, w8);
        b1 = Taps3(s3 + 8, b1, w6, w7, w8);
        b2 = Taps3(s3 + 16, b2, w6, w7, w8);
        b3 = Taps3(s3 + 24, b3, w6, w7, w8);
        Avx.Store(o, a0); Avx.Store(o + 8, a1); Avx.Store(o + 16, a2); Avx.Store(o + 24, a3);
        o += ow;
        Avx.Store(o, b0); Avx.Store(o + 8, b1); Avx.Store(o + 16, b2); Avx.Store(o + 24, b3);
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
