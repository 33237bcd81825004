using System.Collections.Concurrent;
using FsCheck;
using FsCheck.Fluent;
using Xunit.Abstractions;

namespace Functional.Properties.Fuzz;

/// <summary>
/// A fuzz run: <c>count</c> cases drawn from an FsCheck generator with a seed, each run through the
/// library and classified by <see cref="Outcome"/>. Any other exception fails the test with the seed,
/// the case number and the case itself, which replay it exactly: set <c>FUNCTIONAL_FUZZ_SEED</c> to
/// the seed (and <c>FUNCTIONAL_FUZZ_SCALE</c> to 1). The seed is new for every run unless given;
/// <c>FUNCTIONAL_FUZZ_SCALE</c> multiplies every test's case count (the one-off million-case run
/// uses it), and <c>FUNCTIONAL_FUZZ_REPORT</c> names a file that receives each test's counts.
/// </summary>
internal static class FuzzRun
{
    /// <summary>Exactly the exceptions a caller can get (README, "Errors").</summary>
    public static string? Outcome(Exception? e) => e switch
    {
        null => "success",
        SafeTensorsException => nameof(SafeTensorsException),
        ModuleDescriptionException => nameof(ModuleDescriptionException),
        ShapeException => nameof(ShapeException),
        ObjectDisposedException => nameof(ObjectDisposedException),
        KeyNotFoundException when FromLibrary(e) => nameof(KeyNotFoundException),
        ArgumentException when e.GetType() == typeof(ArgumentException) && FromLibrary(e) => nameof(ArgumentException),
        _ => null,
    };

    /// <summary>Thrown by the library's own code (not the runtime's argument checks), so the message is the library's.</summary>
    private static bool FromLibrary(Exception e) =>
        e.TargetSite?.DeclaringType?.Namespace is { } ns && (ns == "Functional" || ns.StartsWith("Functional.", StringComparison.Ordinal));

    public static int Seed { get; } = int.TryParse(Environment.GetEnvironmentVariable("FUNCTIONAL_FUZZ_SEED"), out int s) ? s : Environment.TickCount & int.MaxValue;

    private static int Scale => int.TryParse(Environment.GetEnvironmentVariable("FUNCTIONAL_FUZZ_SCALE"), out int n) && n > 0 ? n : 1;

    /// <summary>
    /// Runs <paramref name="count"/> (× scale) cases of <paramref name="cases"/>: <paramref name="prepare"/> makes
    /// each case's input (outside the classification: a failure there is the harness's), the action it
    /// returns runs the library. Returns the counts by outcome; fails on the first foreign exception or failed check.
    /// </summary>
    public static IReadOnlyDictionary<string, long> Run<T>(string name, int count, Gen<T> cases, Func<T, Action> prepare, ITestOutputHelper? output)
    {
        long total = (long)count * Scale;
        var counts = new ConcurrentDictionary<string, long>();
        const int Batch = 500;
        for (long start = 0; start < total; start += Batch)
        {
            int n = (int)Math.Min(Batch, total - start);
            // Batch b of seed s is always the same cases, so a failure replays from the seed alone.
            var batch = cases.Sample(n, new Rnd((ulong)Seed * 0x9E3779B97F4A7C15UL + (ulong)(start / Batch)), 30);
            Assert.Equal(n, batch.Length);
            for (int i = 0; i < n; i++)
            {
                var run = prepare(batch[i]);
                Exception? error = null;
                try { run(); }
                catch (Exception e) { error = e; }
                string? outcome = Outcome(error);
                if (outcome is null)
                    Assert.Fail($"{name}: FUNCTIONAL_FUZZ_SEED={Seed} (case {start + i}): {batch[i]}\ngave a foreign exception: {error}");
                counts.AddOrUpdate(outcome, 1, (_, c) => c + 1);
            }
        }
        string line = $"{name}: seed {Seed}, {total} cases: " + string.Join(", ", counts.OrderByDescending(kv => kv.Value).Select(kv => $"{kv.Key} {kv.Value}"));
        output?.WriteLine(line);
        if (Environment.GetEnvironmentVariable("FUNCTIONAL_FUZZ_REPORT") is { Length: > 0 } report)
            lock (typeof(FuzzRun)) File.AppendAllText(report, line + Environment.NewLine);
        return counts;
    }

    /// <summary>A check inside a fuzz case whose failure is not one of the library's exceptions (a wrong result, not an error).</summary>
    public static void Check(bool condition, string what)
    {
        if (!condition) throw new FuzzCheckFailed(what);
    }

    private sealed class FuzzCheckFailed(string message) : Exception(message);
}
