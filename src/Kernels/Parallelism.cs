namespace Functional.Kernels;

/// <summary>
/// The library-wide thread count for kernels, the counterpart of <c>torch.set_num_threads</c>.
/// Results never depend on it: work is split so that every output element is computed by
/// exactly the same sequence of floating-point operations whatever the count.
/// </summary>
public static class Parallelism
{
    private static int threads = Environment.ProcessorCount;

    /// <summary>Threads a kernel may use (at least 1). Defaults to the processor count.</summary>
    public static int Threads
    {
        get => threads;
        set
        {
            if (value < 1)
                throw new ArgumentOutOfRangeException(nameof(value), value, "Parallelism.Threads must be at least 1.");
            threads = value;
        }
    }

    /// <summary>
    /// Runs <paramref name="body"/> over <c>[0, count)</c> split into contiguous chunks, one per
    /// worker, on at most <see cref="Threads"/> threads; runs inline when one worker suffices or
    /// the work is too small (<paramref name="costPerItem"/> × count below ~50k operations) to
    /// repay a thread hand-off.
    /// </summary>
    public static void For(int count, long costPerItem, Action<int, int> body)
    {
        int workers = Math.Min(Threads, count);
        if (workers <= 1 || costPerItem * count < 50_000)
        {
            if (count > 0) body(0, count);
            return;
        }
        System.Threading.Tasks.Parallel.For(0, workers, new ParallelOptions { MaxDegreeOfParallelism = workers }, w =>
        {
            int start = (int)((long)count * w / workers);
            int end = (int)((long)count * (w + 1) / workers);
            if (end > start) body(start, end);
        });
    }
}
