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
    /// worker, on at most <see cref="Threads"/> threads (the caller runs the first chunk); runs
    /// inline when one worker suffices, when the work is too small (<paramref name="costPerItem"/>
    /// × count below ~50k operations) to repay a hand-off, or when called from inside another
    /// parallel region.
    /// </summary>
    public static void For(int count, long costPerItem, Action<int, int> body)
    {
        int workers = Math.Min(Threads, count);
        if (workers <= 1 || costPerItem * count < 50_000 || !WorkerPool.TryRun(count, workers, body))
        {
            if (count > 0) body(0, count);
        }
    }

    /// <summary>
    /// Dedicated worker threads that spin for a short while after each job before blocking.
    /// Kernels run back to back (layer after layer), and a thread-pool thread woken from sleep
    /// for each call arrives too late for jobs of 0.1–2 ms: the caller would do all the work.
    /// </summary>
    private static class WorkerPool
    {
        private const int SpinMicroseconds = 300;
        private static readonly object Gate = new();
        private static readonly List<Worker> Pool = [];
        private static Action<int, int>? job;
        private static int jobCount, jobWorkers, pending;
        private static Exception? failure;
        private static readonly ManualResetEventSlim Done = new(false, spinCount: 1000);

        public static bool TryRun(int count, int workers, Action<int, int> body)
        {
            // One parallel region at a time; a nested or concurrent call runs inline (same results).
            // Monitor is re-entrant, so the thread already running a region must be turned away explicitly.
            if (Monitor.IsEntered(Gate) || !Monitor.TryEnter(Gate)) return false;
            try
            {
                while (Pool.Count < workers - 1) Pool.Add(new Worker(Pool.Count + 1));
                job = body;
                jobCount = count;
                jobWorkers = workers;
                failure = null;
                Done.Reset();
                Volatile.Write(ref pending, workers - 1);
                for (int w = 1; w < workers; w++) Pool[w - 1].Start();
                try { RunChunk(0); }
                catch (Exception e) { Interlocked.CompareExchange(ref failure, e, null); }
                Done.Wait();
                job = null;
                if (failure is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
                return true;
            }
            finally
            {
                Monitor.Exit(Gate);
            }
        }

        private static void RunChunk(int w)
        {
            int start = (int)((long)jobCount * w / jobWorkers);
            int end = (int)((long)jobCount * (w + 1) / jobWorkers);
            if (end > start) job!(start, end);
        }

        private sealed class Worker
        {
            private readonly int index;
            private readonly ManualResetEventSlim wake = new(false, spinCount: 1);
            private long generation, seen;

            public Worker(int index)
            {
                this.index = index;
                new Thread(Loop) { IsBackground = true, Name = $"Functional.Kernels worker {index}" }.Start();
            }

            public void Start()
            {
                Interlocked.Increment(ref generation);
                wake.Set();
            }

            private void Loop()
            {
                while (true)
                {
                    // Spin briefly for the next job (consecutive layers), then sleep until woken.
                    var spinner = new SpinWait();
                    long start = System.Diagnostics.Stopwatch.GetTimestamp();
                    while (Volatile.Read(ref generation) == seen
                           && System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalMicroseconds < SpinMicroseconds)
                        spinner.SpinOnce(sleep1Threshold: -1);
                    if (Volatile.Read(ref generation) == seen)
                    {
                        wake.Wait();
                    }
                    wake.Reset();
                    if (Volatile.Read(ref generation) == seen) continue;
                    seen = Volatile.Read(ref generation);
                    try { RunChunk(index); }
                    catch (Exception e) { Interlocked.CompareExchange(ref failure, e, null); }
                    if (Interlocked.Decrement(ref pending) == 0) Done.Set();
                }
            }
        }
    }
}
