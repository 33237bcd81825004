using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace Functional.Kernels;

/// <summary>
/// Convolutions with many channels over few output positions (ResNet's last stages: 14×14 and
/// 7×7 maps with 256–512 channels), computed transposed, per (batch, group):
/// <code>
///   Yᵀ[P × OCg] = colᵀ[P × K] · Wᵀ[K × OCg]     K = Cin/G · taps, P = output positions
/// </code>
/// Positions are the GEMM's rows (<see cref="Gemm.MR"/> per micro-tile) and output channels its
/// <see cref="Gemm.NR"/>-wide columns, so a 49-position map fills 94 % (4×24 tiles) or 88 % (8×32)
/// of its tiles instead of 68 % or 77 % (49 of 72 or 64 columns). colᵀ is never
/// built: the input is copied once into a zero-padded image, and the micro-kernel reads row p of
/// colᵀ at that position's window origin plus a per-k offset (<see cref="Gemm.KernelGathered"/>).
/// The weight streams from output-channel panels packed once per weight (<see cref="ConvWeights"/>),
/// and the threads split the output channels (a split by positions would leave one block to
/// share). Each output element is one accumulation over K in a fixed order, the same as the
/// im2col GEMM's, so results do not depend on the path or the thread count.
/// </summary>
internal static unsafe class FewPositions
{
    private static readonly int NR = Gemm.NR, MR = Gemm.MR;

    /// <summary>Largest map handled: beyond it the ordinary split over position blocks feeds every thread.</summary>
    internal const int MaxPositions = 256;

    /// <summary>True for the AVX2 path with few positions, a spatial kernel, enough output channels to fill panels, and a real reduction.</summary>
    internal static bool Applies(in ConvPlan p, in ConvGeometry geo, bool fast)
    {
        int cg = p.InChannels / p.Groups, ocg = p.OutChannels / p.Groups;
        // 1×1 kernels stay on the plain GEMM: each k would read a new line of a large image.
        return fast && geo.ColVolume <= MaxPositions && geo.Taps > 1 && ocg >= 2 * NR && (long)cg * geo.Taps >= 64
            && cg * PaddedVolume(geo) < int.MaxValue / 2;
    }

    /// <summary>The padded image's extents: exactly what the windows reach.</summary>
    private static (int D, int H, int W) Padded(in ConvGeometry g) =>
        ((g.ColD - 1) * g.SD + (g.KD - 1) * g.DD + 1, (g.ColH - 1) * g.SH + (g.KH - 1) * g.DH + 1, (g.ColW - 1) * g.SW + (g.KW - 1) * g.DW + 1);

    private static long PaddedVolume(in ConvGeometry g)
    {
        var (d, h, w) = Padded(g);
        return (long)d * h * w;
    }

    /// <summary>The forward convolution; <paramref name="prepared"/> (may be null) caches the weight panels.</summary>
    internal static void Forward(in ConvPlan p, in ConvGeometry geo, float* input, float* weight, ConvWeights? prepared, float* bias, float* output)
    {
        int groups = p.Groups, cg = p.InChannels / groups, ocg = p.OutChannels / groups;
        int k = cg * geo.Taps, positions = geo.ColVolume;
        int panelsPerGroup = (ocg + NR - 1) / NR;
        long groupPanels = (long)panelsPerGroup * k * NR;
        int kb = Gemm.KBlock(k), nk = (k + kb - 1) / kb;
        var layout = ((nint)weight, groups, ocg, k, kb, panelsPerGroup);
        static float[] Pack((nint Weight, int Groups, int Ocg, int K, int Kb, int Panels) l) =>
            PackPanels((float*)l.Weight, l.Groups, l.Ocg, l.K, l.Kb, l.Panels);
        float[] panels = prepared is null ? Pack(layout) : prepared.Panels(((long)groups << 32) | (uint)ocg, layout, Pack);

        var g0 = geo;
        var (pd, ph, pw) = Padded(geo);
        int plane = pd * ph * pw;
        int rowSlots = Gemm.RoundUp(positions, MR);
        // Shared by the workers: the padded image, each k's offset in it, each position's window
        // origin (the last tile's spare rows repeat the last position), and Yᵀ.
        float* image = Scratch.GetShared((long)cg * plane + k + rowSlots + (long)positions * ocg);
        int* offsets = (int*)(image + (long)cg * plane);
        int* origins = offsets + k;
        float* transposed = (float*)(origins + rowSlots);
        for (int kk = 0; kk < k; kk++)
        {
            int c = kk / geo.Taps;
            geo.Tap(kk - c * geo.Taps, out int kd, out int kh, out int kw);
            offsets[kk] = c * plane + (kd * geo.DD * ph + kh * geo.DH) * pw + kw * geo.DW;
        }
        for (int q = 0; q < rowSlots; q++)
        {
            int pos = Math.Min(q, positions - 1);
            int od = pos / (geo.ColH * geo.ColW), rem = pos - od * geo.ColH * geo.ColW, oh = rem / geo.ColW, ow = rem - oh * geo.ColW;
            origins[q] = (od * geo.SD * ph + oh * geo.SH) * pw + ow * geo.SW;
        }

        fixed (float* pp = panels)
        {
            float* allPanels = pp;
            for (int n = 0; n < p.Batch; n++)
                for (int g = 0; g < groups; g++)
                {
                    float* source = input + ((long)n * p.InChannels + (long)g * cg) * geo.ImgVolume;
                    float* wg = allPanels + g * groupPanels;
                    float* yg = output + ((long)n * p.OutChannels + (long)g * ocg) * positions;
                    float* bg = bias == null ? null : bias + (long)g * ocg;

                    Parallelism.For(cg, plane, (s, e) =>
                    {
                        for (int c = s; c < e; c++)
                            PadPlane(g0, source + (long)c * g0.ImgVolume, image + (long)c * plane, pd, ph, pw);
                    });

                    Parallelism.For(panelsPerGroup, (long)k * positions * NR, (s, e) =>
                    {
                        int oc0 = s * NR, ocn = Math.Min(e * NR, ocg) - oc0;
                        float* tile = stackalloc float[Gemm.MaxMR * 32];
                        float** rows = stackalloc float*[Gemm.MaxMR];
                        for (int b = 0; b < nk; b++)
                        {
                            int k0 = b * kb, kc = Math.Min(kb, k - k0);
                            for (int j = 0; j < ocn; j += NR)
                            {
                                int nr = Math.Min(NR, ocn - j);
                                float* panel = wg + (long)k0 * panelsPerGroup * NR + (long)(s + j / NR) * kc * NR;
                                // The next panel follows this one; fetch it from memory a slice per row tile
                                // while this one, already in cache after the first tile, is computed.
                                float* next = panel + kc * NR;
                                int lines = kc * NR / 16, tiles = (positions + MR - 1) / MR;
                                for (int t = 0, q0 = 0; q0 < positions; t++, q0 += MR)
                                {
                                    for (int line = t * lines / tiles, end = (t + 1) * lines / tiles; line < end; line++)
                                        Sse.Prefetch1(next + line * 16);
                                    Tile(kc, image, origins + q0, offsets + k0, panel, transposed + (long)q0 * ocg + oc0 + j, ocg,
                                        Math.Min(MR, positions - q0), nr, b > 0, tile, rows);
                                }
                            }
                        }
                        // This worker's channels, back to [OC × P], plus bias.
                        for (int oc = oc0; oc < oc0 + ocn; oc++)
                        {
                            float add = bg == null ? 0f : bg[oc];
                            float* y = yg + (long)oc * positions;
                            for (int q = 0; q < positions; q++) y[q] = transposed[(long)q * ocg + oc] + add;
                        }
                    });
                }
        }
    }

    /// <summary>One MR×NR tile of Yᵀ; an edge tile runs the same kernel on a private tile, so every element sees the same operations.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tile(int kc, float* image, int* origins, int* offsets, float* panel, float* c, int ldc, int mr, int nr, bool accumulate,
        float* tile, float** rows)
    {
        for (int i = 0; i < MR; i++) rows[i] = image + origins[i];
        if (mr == MR && nr == NR)
        {
            Gemm.KernelGathered(kc, rows, offsets, panel, NR, c, ldc, accumulate);
            return;
        }
        if (accumulate)
            for (int i = 0; i < mr; i++)
                for (int j = 0; j < nr; j++) tile[i * NR + j] = c[i * ldc + j];
        Gemm.KernelGathered(kc, rows, offsets, panel, NR, tile, NR, accumulate);
        for (int i = 0; i < mr; i++)
            for (int j = 0; j < nr; j++) c[i * ldc + j] = tile[i * NR + j];
    }

    /// <summary>One input channel into its zero-padded copy [pd × ph × pw] (padded index = input index + padLo).</summary>
    private static void PadPlane(in ConvGeometry g, float* source, float* padded, int pd, int ph, int pw)
    {
        int lo = Math.Clamp(g.PW, 0, pw), hi = Math.Clamp(g.PW + g.ImgW, lo, pw);
        for (int d = 0; d < pd; d++)
            for (int h = 0; h < ph; h++)
            {
                float* row = padded + ((long)d * ph + h) * pw;
                int id = d - g.PD, ih = h - g.PH;
                if ((uint)id >= (uint)g.ImgD || (uint)ih >= (uint)g.ImgH)
                {
                    new Span<float>(row, pw).Clear();
                    continue;
                }
                new Span<float>(row, lo).Clear();
                new ReadOnlySpan<float>(source + ((long)id * g.ImgH + ih) * g.ImgW + (lo - g.PW), hi - lo).CopyTo(new Span<float>(row + lo, hi - lo));
                new Span<float>(row + hi, pw - hi).Clear();
            }
    }

    /// <summary>
    /// Wᵀ per group in <see cref="NR"/>-wide output-channel panels, k-major, K block by K block so
    /// that a worker's panels for one block lie end to end (one stream for the prefetcher): element
    /// (oc = 24j + x, k = k0 + kk) of group g, in the block of kc rows starting at k0, sits at
    /// g·K·panels·24 + k0·panels·24 + j·kc·24 + kk·24 + x (zero past OCg).
    /// </summary>
    private static float[] PackPanels(float* weight, int groups, int ocg, int k, int kb, int panelsPerGroup)
    {
        var packed = GC.AllocateUninitializedArray<float>(checked(groups * panelsPerGroup * k * NR));
        fixed (float* dst = packed)
            for (int g = 0; g < groups; g++)
                for (int k0 = 0; k0 < k; k0 += kb)
                {
                    int kc = Math.Min(kb, k - k0);
                    for (int j = 0; j < panelsPerGroup; j++)
                    {
                        float* panel = dst + (long)g * k * panelsPerGroup * NR + (long)k0 * panelsPerGroup * NR + (long)j * kc * NR;
                        for (int x = 0; x < NR; x++)
                        {
                            int oc = j * NR + x;
                            float* row = weight + ((long)g * ocg + Math.Min(oc, ocg - 1)) * k + k0;
                            for (int kk = 0; kk < kc; kk++) panel[(long)kk * NR + x] = oc < ocg ? row[kk] : 0f;
                        }
                    }
                }
        return packed;
    }
}
