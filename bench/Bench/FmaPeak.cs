using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Functional.Bench;

/// <summary>
/// The machine's float32 FMA peak, measured: a loop of 12 independent <c>vfmadd</c> chains
/// (enough to cover the FMA latency × issue width of current x86 cores) of Vector256 and, where
/// AVX-512F exists, of Vector512 (twice the Vector256 figure where 512-bit units are full width,
/// as on Zen 5; about the same where they are split, as on Zen 4), on 1 and on 2 threads at once.
/// GF/s counts 2 flops per lane per FMA.
/// </summary>
public static class FmaPeak
{
    private const int Chains = 12;

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Loop(long iterations, float seed)
    {
        var m = Vector256.Create(0.999999f);
        var c = Vector256.Create(1e-7f);
        Vector256<float> a0 = Vector256.Create(seed), a1 = a0 + c, a2 = a1 + c, a3 = a2 + c, a4 = a3 + c, a5 = a4 + c,
            a6 = a5 + c, a7 = a6 + c, a8 = a7 + c, a9 = a8 + c, a10 = a9 + c, a11 = a10 + c;
        for (long i = 0; i < iterations; i++)
        {
            a0 = Fma.MultiplyAdd(a0, m, c); a1 = Fma.MultiplyAdd(a1, m, c);
            a2 = Fma.MultiplyAdd(a2, m, c); a3 = Fma.MultiplyAdd(a3, m, c);
            a4 = Fma.MultiplyAdd(a4, m, c); a5 = Fma.MultiplyAdd(a5, m, c);
            a6 = Fma.MultiplyAdd(a6, m, c); a7 = Fma.MultiplyAdd(a7, m, c);
            a8 = Fma.MultiplyAdd(a8, m, c); a9 = Fma.MultiplyAdd(a9, m, c);
            a10 = Fma.MultiplyAdd(a10, m, c); a11 = Fma.MultiplyAdd(a11, m, c);
        }
        var s = ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)) + ((a8 + a9) + (a10 + a11));
        return Vector256.Sum(s);
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Loop512(long iterations, float seed)
    {
        var m = Vector512.Create(0.999999f);
        var c = Vector512.Create(1e-7f);
        Vector512<float> a0 = Vector512.Create(seed), a1 = a0 + c, a2 = a1 + c, a3 = a2 + c, a4 = a3 + c, a5 = a4 + c,
            a6 = a5 + c, a7 = a6 + c, a8 = a7 + c, a9 = a8 + c, a10 = a9 + c, a11 = a10 + c;
        for (long i = 0; i < iterations; i++)
        {
            a0 = Avx512F.FusedMultiplyAdd(a0, m, c); a1 = Avx512F.FusedMultiplyAdd(a1, m, c);
            a2 = Avx512F.FusedMultiplyAdd(a2, m, c); a3 = Avx512F.FusedMultiplyAdd(a3, m, c);
            a4 = Avx512F.FusedMultiplyAdd(a4, m, c); a5 = Avx512F.FusedMultiplyAdd(a5, m, c);
            a6 = Avx512F.FusedMultiplyAdd(a6, m, c); a7 = Avx512F.FusedMultiplyAdd(a7, m, c);
            a8 = Avx512F.FusedMultiplyAdd(a8, m, c); a9 = Avx512F.FusedMultiplyAdd(a9, m, c);
            a10 = Avx512F.FusedMultiplyAdd(a10, m, c); a11 = Avx512F.FusedMultiplyAdd(a11, m, c);
        }
        var s = ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)) + ((a8 + a9) + (a10 + a11));
        return Vector512.Sum(s);
    }

    private static double Flops(long iterations, bool wide) => iterations * Chains * (wide ? 16 : 8) * 2.0;

    /// <summary>
    /// GF/s on <paramref name="threads"/> threads running the loop at once, of Vector512 when
    /// <paramref name="wide"/> (NaN without AVX-512F); best of <paramref name="repeats"/>.
    /// </summary>
    public static double Measure(int threads, double secondsPerRepeat, int repeats, bool wide = false)
    {
        if (!Fma.IsSupported || (wide && !Avx512F.IsSupported)) return double.NaN;
        Func<long, float, float> loop = wide ? Loop512 : Loop;
        loop(1000, 1f); // JIT
        // Calibrate: iterations for the time box on one thread.
        var sw = Stopwatch.StartNew();
        loop(10_000_000, 1f);
        long iterations = (long)(10_000_000 * secondsPerRepeat / sw.Elapsed.TotalSeconds);
        double best = 0;
        float sink = 0;
        for (int r = 0; r < repeats; r++)
        {
            using var start = new Barrier(threads + 1);
            var results = new float[threads];
            var workers = Enumerable.Range(0, threads).Select(t => new Thread(() =>
            {
                start.SignalAndWait();
                results[t] = loop(iterations, 1f + t);
            })).ToArray();
            foreach (var w in workers) w.Start();
            start.SignalAndWait();
            var clock = Stopwatch.StartNew();
            foreach (var w in workers) w.Join();
            double seconds = clock.Elapsed.TotalSeconds;
            sink += results.Sum();
            best = Math.Max(best, threads * Flops(iterations, wide) / seconds / 1e9);
        }
        GC.KeepAlive(sink);
        return best;
    }
}
