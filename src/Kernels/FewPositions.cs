namespace Functional.Kernels;

/// <summary>
/// Convolutions with many channels over few output positions (ResNet's last stages: 14×14 and
/// 7×7 maps with 256–512 channels), computed transposed, per (batch, group):
/// <code>
///   Yᵀ[P × OCg] = colᵀ[P × K] · Wᵀ[K × OCg]     K = Cin/G · taps, P = output positions
/// </code>
/// Positions are the GEMM's rows (4 per micro-tile) and output channels its 24-wide columns, so a
/// 49-position map fills 94 % of its tiles instead of 68 % (49 of 72 columns); the weight
/// streams from output-channel panels packed once per weight (<see cref="ConvWeights"/>); the
/// column matrix, small here, is built once per call and shared by the threads, which split the
/// output channels (the usual split by positions would leave one block to share, and every thread
/// would rebuild it). Each output element is one micro-kernel accumulation over K in a fixed
/// order, so results do not depend on the thread count.
/// </summary>
internal static unsafe class FewPositions
{
    private const int NR = Gemm.NR;

    /// <summary>Largest map handled: beyond it the ordinary split over position blocks feeds every thread.</summary>
    internal const int MaxPositions = 256;
    public static bool Enabled = true; // TEMP A/B

    /// <summary>True for the AVX2 path with few positions, enough output channels to fill panels, and a real reduction.</summary>
    internal static bool Applies(in ConvPlan p, in ConvGeometry geo, bool fast)
    {
        int cg = p.InChannels / p.Groups, ocg = p.OutChannels / p.Groups;
        return Enabled && fast && geo.ColVolume <= MaxPositions && ocg >= 2 * NR && (long)cg * geo.Taps >= 64;
    }

    /// <summary>The forward convolution; <paramref name="prepared"/> (may be null) caches the weight panels.</summary>
    internal static void Forward(in ConvPlan p, in ConvGeometry geo, float* input, float* weight, ConvWeights? prepared, float* bias, float* output)
    {
        int groups = p.Groups, cg = p.InChannels / groups, ocg = p.OutChannels / groups;
        int k = cg * geo.Taps, positions = geo.ColVolume;
        int panelsPerGroup = (ocg + NR - 1) / NR;
        long groupPanels = (long)panelsPerGroup * k * NR;
        nint w = (nint)weight;
        float[] make() => PackPanels((float*)w, groups, ocg, k, panelsPerGroup);
        float[] panels = prepared is null ? make() : prepared.Panels(((long)groups << 32) | (uint)ocg, make);

        int kb = Gemm.KBlock(k), nk = (k + kb - 1) / kb;
        long blockSize = Gemm.PackedBSize(kb, positions);
        long colSize = nk * blockSize;
        float* col = Scratch.GetShared(colSize + (long)positions * ocg);
        float* transposed = col + colSize;
        var g0 = geo;
        fixed (float* pp = panels)
        {
            float* allPanels = pp;
            for (int n = 0; n < p.Batch; n++)
                for (int g = 0; g < groups; g++)
                {
                    float* image = input + ((long)n * p.InChannels + (long)g * cg) * geo.ImgVolume;
                    float* wg = allPanels + g * groupPanels;
                    float* yg = output + ((long)n * p.OutChannels + (long)g * ocg) * positions;
                    float* bg = bias == null ? null : bias + (long)g * ocg;

                    Parallelism.For(nk, (long)kb * positions, (s, e) =>
                    {
                        for (int b = s; b < e; b++)
                        {
                            int k0 = b * kb;
                            Im2Col.Pack(g0, image, k0, Math.Min(kb, k - k0), 0, positions, col + b * blockSize);
                        }
                    });

                    Parallelism.For(panelsPerGroup, (long)k * positions * NR, (s, e) =>
                    {
                        int oc0 = s * NR, ocn = Math.Min(e * NR, ocg) - oc0;
                        for (int b = 0; b < nk; b++)
                        {
                            int k0 = b * kb, kc = Math.Min(kb, k - k0);
                            float* colBlock = col + b * blockSize;
                            for (int p0 = 0; p0 < positions; p0 += NR)
                                Gemm.Block(Math.Min(NR, positions - p0), kc, colBlock + (long)p0 * kc, 1, NR,
                                    wg + (long)s * k * NR + (long)k0 * NR, (nint)k * NR, NR, ocn,
                                    transposed + (long)p0 * ocg + oc0, ocg, null, b > 0, true);
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

    /// <summary>
    /// Wᵀ per group in <see cref="NR"/>-wide output-channel panels, k-major:
    /// panel j of group g holds W[g·OCg + 24j + x][k] at (g·panels + j)·K·24 + k·24 + x (zero past OCg).
    /// </summary>
    private static float[] PackPanels(float* weight, int groups, int ocg, int k, int panelsPerGroup)
    {
        var packed = GC.AllocateUninitializedArray<float>(checked(groups * panelsPerGroup * k * NR));
        fixed (float* dst = packed)
            for (int g = 0; g < groups; g++)
                for (int j = 0; j < panelsPerGroup; j++)
                {
                    float* panel = dst + ((long)g * panelsPerGroup + j) * k * NR;
                    for (int x = 0; x < NR; x++)
                    {
                        int oc = j * NR + x;
                        if (oc < ocg)
                        {
                            float* row = weight + ((long)g * ocg + oc) * k;
                            for (int kk = 0; kk < k; kk++) panel[(long)kk * NR + x] = row[kk];
                        }
                        else
                        {
                            for (int kk = 0; kk < k; kk++) panel[(long)kk * NR + x] = 0f;
                        }
                    }
                }
        return packed;
    }
}
