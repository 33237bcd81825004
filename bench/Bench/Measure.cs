using System.Diagnostics;

namespace Functional.Bench;

/// <summary>Per-call timings of one (engine, thread count), pooled over the rounds of a workload.</summary>
public sealed class Series
{
    /// <summary>Per-call time of each sample, in µs.</summary>
    public List<double> Samples { get; } = [];

    /// <summary>Calls per sample (tiny workloads time a batch of calls, so a sample is ≥ ~200 µs).</summary>
    public int Batch { get; set; }

    /// <summary>Whether the warm-up has run.</summary>
    public bool Warm { get; set; }

    public double Median => Quantile(0.5);

    public double Quantile(double q)
    {
        if (Samples.Count == 0) return double.NaN;
        var s = Samples.Order().ToArray();
        double pos = q * (s.Length - 1);
        int lo = (int)Math.Floor(pos), hi = (int)Math.Ceiling(pos);
        return s[lo] + (s[hi] - s[lo]) * (pos - lo);
    }
}

/// <summary>The timing loop.</summary>
public static class Measure
{
    private static double Us(long ticks) => ticks * 1e6 / Stopwatch.Frequency;

    /// <summary>
    /// Warm-up: at least <paramref name="minCalls"/> calls and <paramref name="minSeconds"/>
    /// (so .NET's tiered JIT has promoted the hot methods: after 30 calls, plus a 100 ms
    /// background delay), but no longer than <paramref name="maxSeconds"/> (then at least 2
    /// calls); then picks the batch size from the last call's time.
    /// </summary>
    public static void WarmUp(Action call, Series series, int minCalls, double minSeconds, double maxSeconds)
    {
        var total = Stopwatch.StartNew();
        long last = 0;
        for (int i = 0; ; i++)
        {
            long t0 = Stopwatch.GetTimestamp();
            call();
            last = Stopwatch.GetTimestamp() - t0;
            double elapsed = total.Elapsed.TotalSeconds;
            if (i >= 1 && (elapsed >= maxSeconds || (i + 1 >= minCalls && elapsed >= minSeconds))) break;
        }
        series.Batch = (int)Math.Clamp(Math.Ceiling(200.0 / Math.Max(Us(last), 0.01)), 1, 100_000);
        series.Warm = true;
    }

    /// <summary>
    /// Samples until <paramref name="seconds"/> have passed and at least
    /// <paramref name="minSamples"/> samples are taken (but stops at 10× the time box).
    /// </summary>
    public static void Run(Action call, Series series, double seconds, int minSamples)
    {
        int batch = series.Batch;
        var clock = Stopwatch.StartNew();
        int taken = 0;
        while (true)
        {
            long t0 = Stopwatch.GetTimestamp();
            for (int i = 0; i < batch; i++) call();
            long dt = Stopwatch.GetTimestamp() - t0;
            series.Samples.Add(Us(dt) / batch);
            taken++;
            double elapsed = clock.Elapsed.TotalSeconds;
            if (elapsed >= seconds && taken >= minSamples) break;
            if (elapsed >= 10 * seconds && taken >= 3) break;
        }
    }
}
