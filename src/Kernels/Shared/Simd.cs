using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Functional.Kernels;

/// <summary>
/// The vector width the kernels run at, decided once per process on first use. 512 when the CPU
/// has AVX-512F, the runtime accelerates <see cref="Vector512"/> and a short measurement shows
/// 512-bit FMAs completing at (nearly) twice the rate of 256-bit ones (full-width units, as on
/// Zen 5; Zen 4 splits them in two, where the wider kernels gain nothing); 256 when AVX2 and FMA
/// are available; 0 when the kernels take their portable loops. Results are bit-identical
/// between 512 and 256: every output element is the same chain of fused multiply-adds in the
/// same order, only more of them run side by side.
/// <para>
/// The environment variable <c>FUNCTIONAL_SIMD_WIDTH</c> (<c>256</c> or <c>512</c>), read once at
/// startup, overrides the decision (512 still needs AVX-512F); tests run once with each value.
/// </para>
/// </summary>
public static class Simd
{
    /// <summary>The environment variable that overrides the detected width (<c>256</c> or <c>512</c>).</summary>
    public const string WidthVariable = "FUNCTIONAL_SIMD_WIDTH";

    /// <summary>Bits per vector in the convolution kernels: 512, 256, or 0 for the portable loops.</summary>
    public static int Width { get; }

    /// <summary>
    /// The measured ratio of 512-bit to 256-bit FMA throughput behind the decision (about 2 where
    /// 512-bit units are full width, about 1 where they are split); NaN when nothing was measured
    /// (no AVX-512, or the width was set through <see cref="WidthVariable"/>).
    /// </summary>
    public static double WideFmaSpeedup { get; } = double.NaN;

    /// <summary>Smallest 512/256-bit FMA throughput ratio at which the 512-bit kernels are chosen.</summary>
    private const double FullWidthRatio = 1.5;

    static Simd()
    {
        bool narrow = Fma.IsSupported && Avx2.IsSupported;
        bool wide = narrow && Avx512F.IsSupported && Vector512.IsHardwareAccelerated;
        string? forced = Environment.GetEnvironmentVariable(WidthVariable);
        if (forced == "256" && narrow)
        {
            Width = 256;
            return;
        }
        if (forced == "512" && wide)
        {
            Width = 512;
            return;
        }
        if (wide)
        {
            WideFmaSpeedup = MeasureWideSpeedup();
            Width = WideFmaSpeedup >= FullWidthRatio ? 512 : 256;
            return;
        }
        Width = narrow ? 256 : 0;
    }

    /// <summary>
    /// Best-of-several timing of the same number of dependent-chain-free FMA instructions at each
    /// width (interleaved, so a busy machine disturbs both alike): a fraction of a millisecond.
    /// </summary>
    private static double MeasureWideSpeedup()
    {
        const int Iterations = 4096;
        long best256 = long.MaxValue, best512 = long.MaxValue;
        Fma256(64);
        Fma512(64);
        for (int round = 0; round < 7; round++)
        {
            long t0 = Stopwatch.GetTimestamp();
            Fma256(Iterations);
            long t1 = Stopwatch.GetTimestamp();
            Fma512(Iterations);
            long t2 = Stopwatch.GetTimestamp();
            best256 = Math.Min(best256, t1 - t0);
            best512 = Math.Min(best512, t2 - t1);
        }
        // Same instruction count, twice the lanes: the speedup in flops is 2·t256/t512.
        return 2.0 * best256 / Math.Max(best512, 1);
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Fma256(int n)
    {
        var m = Vector256.Create(0.999f);
        var a = Vector256.Create(1e-3f);
        Vector256<float> x0 = m, x1 = m, x2 = m, x3 = m, x4 = m, x5 = m, x6 = m, x7 = m, x8 = m, x9 = m, x10 = m, x11 = m;
        for (int i = 0; i < n; i++)
        {
            x0 = Fma.MultiplyAdd(x0, m, a); x1 = Fma.MultiplyAdd(x1, m, a); x2 = Fma.MultiplyAdd(x2, m, a); x3 = Fma.MultiplyAdd(x3, m, a);
            x4 = Fma.MultiplyAdd(x4, m, a); x5 = Fma.MultiplyAdd(x5, m, a); x6 = Fma.MultiplyAdd(x6, m, a); x7 = Fma.MultiplyAdd(x7, m, a);
            x8 = Fma.MultiplyAdd(x8, m, a); x9 = Fma.MultiplyAdd(x9, m, a); x10 = Fma.MultiplyAdd(x10, m, a); x11 = Fma.MultiplyAdd(x11, m, a);
        }
        return (x0 + x1 + x2 + x3 + x4 + x5 + x6 + x7 + x8 + x9 + x10 + x11).ToScalar();
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Fma512(int n)
    {
        var m = Vector512.Create(0.999f);
        var a = Vector512.Create(1e-3f);
        Vector512<float> x0 = m, x1 = m, x2 = m, x3 = m, x4 = m, x5 = m, x6 = m, x7 = m, x8 = m, x9 = m, x10 = m, x11 = m;
        for (int i = 0; i < n; i++)
        {
            x0 = Avx512F.FusedMultiplyAdd(x0, m, a); x1 = Avx512F.FusedMultiplyAdd(x1, m, a); x2 = Avx512F.FusedMultiplyAdd(x2, m, a);
            x3 = Avx512F.FusedMultiplyAdd(x3, m, a); x4 = Avx512F.FusedMultiplyAdd(x4, m, a); x5 = Avx512F.FusedMultiplyAdd(x5, m, a);
            x6 = Avx512F.FusedMultiplyAdd(x6, m, a); x7 = Avx512F.FusedMultiplyAdd(x7, m, a); x8 = Avx512F.FusedMultiplyAdd(x8, m, a);
            x9 = Avx512F.FusedMultiplyAdd(x9, m, a); x10 = Avx512F.FusedMultiplyAdd(x10, m, a); x11 = Avx512F.FusedMultiplyAdd(x11, m, a);
        }
        return (x0 + x1 + x2 + x3 + x4 + x5 + x6 + x7 + x8 + x9 + x10 + x11).ToScalar();
    }
}
