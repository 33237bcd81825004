using System.Globalization;
using System.Text;

namespace Functional.Bench;

/// <summary>One engine at one thread count on one workload.</summary>
public sealed record Timing(string Engine, int Threads, Series Series)
{
    public double Median => Series.Median;
}

/// <summary>A workload's timings, or why it was not timed.</summary>
public sealed record WorkloadResult(Workload Workload, IReadOnlyList<Timing> Timings, string? Mismatch)
{
    public long OutputCount { get; init; }

    /// <summary>The 1-minute load average before → after the workload ran.</summary>
    public string Load { get; init; } = "";

    /// <summary>The engine's best thread setting (lowest median).</summary>
    public Timing? Best(string engine) => Timings.Where(t => t.Engine == engine).MinBy(t => t.Median);

    /// <summary>The fastest of the two peers, each at its best thread setting.</summary>
    public Timing? FastestPeer => new[] { Best("libtorch"), Best("ORT") }.Where(t => t is not null).MinBy(t => t!.Median);

    /// <summary>GF/s (convolutions: 2·MACs / time) or GB/s (bytes read + written / time).</summary>
    public double Throughput(Timing t) => Workload.Kind == Kind.Conv
        ? 2.0 * Workload.Macs / (t.Median * 1e-6) / 1e9
        : Workload.Bytes(OutputCount) / (t.Median * 1e-6) / 1e9;

    public string Unit => Workload.Kind == Kind.Conv ? "GF/s" : "GB/s";
}

/// <summary>The markdown table, the CSV and the README section.</summary>
public sealed class Report(Machine machine, DateTime started, Options options, IReadOnlyDictionary<int, double> peak,
    IReadOnlyDictionary<int, double> peak512, IReadOnlyList<WorkloadResult> results, IReadOnlyList<string>? skipped = null)
{
    /// <summary>The machine's FMA peak at <paramref name="threads"/>: the wider vector's where it exists.</summary>
    private double Widest(int threads) => double.IsNaN(peak512[threads]) ? peak[threads] : Math.Max(peak[threads], peak512[threads]);

    /// <summary>Whole networks whose time per image the summary states: id → name.</summary>
    private static readonly Dictionary<string, string> Networks = new() { ["resnet18"] = "ResNet-18" };

    public const string Begin = "<!-- perf:begin -->";
    public const string End = "<!-- perf:end -->";

    private static readonly Dictionary<string, string> EngineNames = new()
    {
        ["Functional"] = "Functional",
        ["libtorch"] = "libtorch 2.10",
        ["ORT"] = "ONNX Runtime 1.32",
    };

    /// <summary>µs with 3 significant figures below 100, thousands separators above.</summary>
    public static string Us(double us) => double.IsNaN(us) ? "–"
        : us < 10 ? us.ToString("0.00", CultureInfo.InvariantCulture)
        : us < 100 ? us.ToString("0.0", CultureInfo.InvariantCulture)
        : us.ToString("#,0", CultureInfo.InvariantCulture);

    private static string Num(double v) => v < 10 ? v.ToString("0.00", CultureInfo.InvariantCulture)
        : v < 100 ? v.ToString("0.0", CultureInfo.InvariantCulture) : v.ToString("#,0", CultureInfo.InvariantCulture);

    private static string Cell(Timing? t) => t is null ? "–" : $"{Us(t.Median)} {t.Threads}T";

    private double PctPeak(WorkloadResult r, Timing t) => 100 * r.Throughput(t) / Widest(t.Threads);

    private string Header => string.Join(Environment.NewLine,
        $"Measured {started:yyyy-MM-dd HH:mm} UTC on {machine.Cpu}, {machine.Cores} cores ({machine.Flags}); {machine.Runtime}; " +
        $"threads {string.Join(" and ", Options.ThreadCounts)}; {options.Mode} run " +
        $"(time box {options.Seconds:0.##} s per engine and thread count, {options.Rounds} round(s), median per call).",
        "",
        $"Measured FMA peak (12 independent FMA chains; the better of a measurement before and after the workloads): Vector256 {Num(peak[1])} GF/s on 1 thread, {Num(peak[2])} GF/s on 2" +
        (double.IsNaN(peak512[1]) ? " (no AVX-512)." : $"; Vector512 {Num(peak512[1])} GF/s on 1 thread, {Num(peak512[2])} GF/s on 2. % of FMA peak is of the wider.") +
        $" Functional's kernels ran at {Functional.Kernels.Simd.Width} bits." +
        LoadWarning);

    /// <summary>A warning when other processes competed for the cores during the run.</summary>
    private string LoadWarning
    {
        get
        {
            double max = results.SelectMany(r => r.Load.Split('→'))
                .Select(v => double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d : 0).DefaultIfEmpty(0).Max();
            return max > 1.5
                ? $" **Other processes competed for the cores during this run (1-minute load average up to {max:0.0} on {machine.Cores} cores): 2-thread figures especially are unreliable.**"
                : "";
        }
    }

    /// <summary>The summary: each engine at its best thread setting.</summary>
    public string SummaryTable()
    {
        var sb = new StringBuilder();
        sb.AppendLine("| id | workload | Functional µs | libtorch 2.10 µs | ONNX Runtime 1.32 µs | fastest peer | Functional ÷ fastest peer | Functional throughput | % of FMA peak (ours / peer) |");
        sb.AppendLine("| --- | --- | ---: | ---: | ---: | --- | ---: | ---: | ---: |");
        foreach (var r in results)
        {
            if (r.Mismatch is not null)
            {
                sb.AppendLine($"| {r.Workload.Id} | {r.Workload.Title} | outputs disagree: not timed | | | | | | |");
                continue;
            }
            var ours = r.Best("Functional")!;
            var peer = r.FastestPeer!;
            double ratio = ours.Median / peer.Median;
            string pct = r.Workload.GemmBound ? $"{PctPeak(r, ours):0} % / {PctPeak(r, peer):0} %" : "";
            sb.AppendLine($"| {r.Workload.Id} | {r.Workload.Title} | {Cell(ours)} | {Cell(r.Best("libtorch"))} | {Cell(r.Best("ORT"))} " +
                $"| {peer.Engine} {peer.Threads}T | {(ratio >= 10 ? ratio.ToString("0", CultureInfo.InvariantCulture) : ratio.ToString("0.00", CultureInfo.InvariantCulture))}× " +
                $"| {Num(r.Throughput(ours))} {r.Unit} | {pct} |");
        }
        return sb.ToString();
    }

    /// <summary>
    /// "ResNet-18 time per image": each engine at its best thread setting, in ms per image
    /// (the call's time ÷ the batch), for the whole networks that ran.
    /// </summary>
    public IEnumerable<string> PerImage()
    {
        foreach (var r in results.Where(r => r.Mismatch is null && Networks.ContainsKey(r.Workload.Id)))
        {
            int batch = r.Workload.Input[0];
            string Ms(Timing t) => $"{(t.Median / batch / 1000).ToString("0.0", CultureInfo.InvariantCulture)} ms ({t.Threads}T)";
            var ours = r.Best("Functional")!;
            var peer = r.FastestPeer!;
            yield return $"{Networks[r.Workload.Id]} time per image ({string.Join("×", r.Workload.Input.Skip(1))}, best thread setting): " +
                $"Functional {Ms(ours)}, libtorch 2.10 {Ms(r.Best("libtorch")!)}, ONNX Runtime 1.32 {Ms(r.Best("ORT")!)}; " +
                $"Functional ÷ fastest peer ({peer.Engine}) {(ours.Median / peer.Median).ToString("0.00", CultureInfo.InvariantCulture)}×";
        }
    }

    private string Notes() => string.Join(Environment.NewLine,
        "- Each engine is judged at its best thread setting (label: 1T or 2T); the ratio is Functional's median ÷ the faster peer's. Below 1 we are faster.",
        "- Same process, same input, same weights (bench/models/*.safetensors; ORT runs the matching .onnx; resnet18's weights are generated from the recipe of tests/Parity/cases/models/resnet18_torchvision.safetensors and its .onnx exported from torchvision by bench/models/export_resnet18.py), float32, inference mode; outputs checked against libtorch (max |diff| ≤ 1e-3 × max(1, max|y|)) at both thread counts before timing.",
        "- Throughput: convolutions in GF/s (2·MACs / time; a transposed convolution's MACs are input elements × out channels × kernel; ResNet-18's are its convolutions' and classifier's, 1.814 G per image); pooling and activations in GB/s (float32 bytes read + written / time). % of FMA peak: at the thread count of that engine's best setting.",
        "- libtorch: torch.nn.functional through TorchSharp 0.107.0, torch.set_num_threads, inference_mode, each call's tensors freed at once. ORT: one session per thread count, intra-op threads = the count, inter-op 1, sequential execution, all graph optimisations, input and output bound to preallocated buffers. Functional: Layer.Forward, Parallelism.Threads, a new output tensor per call, disposed at once (its storage is reused by the next call, as libtorch's allocator reuses freed memory; containers dispose their intermediates the same way).",
        $"- The process runs with GLIBC_TUNABLES={(machine.Tunables.Length > 0 ? machine.Tunables : "(unset)")} (set by bench/run.sh): raised malloc mmap/trim thresholds keep libtorch's large per-call outputs from being fresh, page-faulting pages on every call; it is there to be fair to libtorch (Functional's arrays come from the .NET GC, which glibc malloc does not serve).",
        "- Figures move 10–50 % between runs on a 2-vCPU machine, more when other processes compete for the cores (the full results list the load average per workload); compare within one run.");

    public string Markdown()
    {
        var sb = new StringBuilder();
        sb.AppendLine("# Speed: Functional vs libtorch 2.10 vs ONNX Runtime 1.32");
        sb.AppendLine();
        sb.AppendLine("Written by `bash bench/run.sh" + (options.Quick ? " --quick" : "") +
            (options.Filter is null ? "" : " --filter " + string.Join(",", options.Filter)) + "` (bench/Bench).");
        sb.AppendLine();
        sb.AppendLine(Header);
        sb.AppendLine();
        sb.AppendLine("## Each engine at its best thread setting");
        sb.AppendLine();
        sb.Append(SummaryTable());
        sb.AppendLine();
        foreach (var line in PerImage()) sb.AppendLine(line).AppendLine();
        sb.AppendLine(Notes());
        sb.AppendLine();
        sb.AppendLine("## Every setting (median µs per call; in brackets the 25th–75th percentile)");
        sb.AppendLine();
        sb.AppendLine("| id | Functional 1T | Functional 2T | libtorch 1T | libtorch 2T | ORT 1T | ORT 2T | load avg |");
        sb.AppendLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |");
        foreach (var r in results.Where(r => r.Mismatch is null))
        {
            var cells = from e in new[] { "Functional", "libtorch", "ORT" }
                        from t in Options.ThreadCounts
                        let s = r.Timings.First(x => x.Engine == e && x.Threads == t).Series
                        select $"{Us(s.Median)} ({Us(s.Quantile(0.25))}–{Us(s.Quantile(0.75))})";
            sb.AppendLine($"| {r.Workload.Id} | {string.Join(" | ", cells)} | {r.Load} |");
        }
        var failed = results.Where(r => r.Mismatch is not null).ToList();
        if (failed.Count > 0)
        {
            sb.AppendLine();
            sb.AppendLine("## Outputs that disagreed (not timed)");
            sb.AppendLine();
            foreach (var r in failed) sb.AppendLine($"- {r.Workload.Id}: {r.Mismatch}");
        }
        if (skipped is { Count: > 0 })
        {
            sb.AppendLine();
            sb.AppendLine("## Skipped workloads");
            sb.AppendLine();
            foreach (var why in skipped) sb.AppendLine($"- {why}");
        }
        return sb.ToString();
    }

    private static string Csv(object? v)
    {
        string s = v switch
        {
            null => "",
            double d => double.IsNaN(d) ? "" : d.ToString("0.###", CultureInfo.InvariantCulture),
            IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
            _ => v.ToString() ?? "",
        };
        return s.IndexOfAny([',', '"', '\n']) >= 0 ? "\"" + s.Replace("\"", "\"\"") + "\"" : s;
    }

    public string Csv()
    {
        var sb = new StringBuilder();
        void Row(params object?[] fields) => sb.AppendLine(string.Join(",", fields.Select(Csv)));
        Row("date", "machine", "cores", "mode", "workload", "title", "engine", "threads", "median_us", "p25_us", "p75_us", "min_us",
            "samples", "calls_per_sample", "throughput", "unit", "pct_fma_peak", "best_for_engine", "fastest_peer", "functional_over_fastest_peer", "load_avg");
        string date = started.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture) + " UTC";
        foreach (int t in Options.ThreadCounts)
            Row(date, machine.Cpu, machine.Cores, options.Mode, "fma_peak", "Vector256 FMA loop, 12 chains", "machine", t,
                null, null, null, null, null, null, peak[t], "GF/s", 100 * peak[t] / Widest(t), null, null, null);
        foreach (int t in Options.ThreadCounts.Where(t => !double.IsNaN(peak512[t])))
            Row(date, machine.Cpu, machine.Cores, options.Mode, "fma_peak_512", "Vector512 FMA loop, 12 chains", "machine", t,
                null, null, null, null, null, null, peak512[t], "GF/s", 100 * peak512[t] / Widest(t), null, null, null);
        foreach (var r in results)
        {
            if (r.Mismatch is not null)
            {
                Row(date, machine.Cpu, machine.Cores, options.Mode, r.Workload.Id, r.Workload.Title, "MISMATCH: " + r.Mismatch);
                continue;
            }
            var peer = r.FastestPeer!;
            foreach (var t in r.Timings)
            {
                bool best = r.Best(t.Engine) == t;
                bool oursBest = best && t.Engine == "Functional";
                Row(date, machine.Cpu, machine.Cores, options.Mode, r.Workload.Id, r.Workload.Title, t.Engine, t.Threads,
                    t.Median, t.Series.Quantile(0.25), t.Series.Quantile(0.75), t.Series.Samples.Min(), t.Series.Samples.Count, t.Series.Batch,
                    r.Throughput(t), r.Unit, r.Workload.GemmBound ? PctPeak(r, t) : null, best,
                    oursBest ? $"{peer.Engine} {peer.Threads}T" : null, oursBest ? t.Median / peer.Median : null, r.Load);
            }
        }
        return sb.ToString();
    }

    /// <summary>The README block: what lies between the markers.</summary>
    public string ReadmeBlock() => string.Join(Environment.NewLine,
        "<!-- Generated by bench/run.sh (bench/Bench/Report.cs) from bench/results/results.csv: do not edit by hand. -->",
        "",
        Header,
        "",
        SummaryTable().TrimEnd(),
        "",
        string.Concat(PerImage().Select(line => line + Environment.NewLine + Environment.NewLine)) + Notes());

    /// <summary>Replaces the text between the markers; false when they are missing.</summary>
    public bool UpdateReadme(string path) => ReplaceBetween(path, Begin, End, ReadmeBlock());

    /// <summary>Replaces the text between two markers of a file; false when they are missing.</summary>
    public static bool ReplaceBetween(string path, string begin, string end, string block)
    {
        if (!File.Exists(path)) return false;
        string text = File.ReadAllText(path);
        int b = text.IndexOf(begin, StringComparison.Ordinal);
        int e = text.IndexOf(end, StringComparison.Ordinal);
        if (b < 0 || e < b) return false;
        string updated = text[..(b + begin.Length)] + Environment.NewLine + block + Environment.NewLine + text[e..];
        File.WriteAllText(path, updated);
        return true;
    }
}
