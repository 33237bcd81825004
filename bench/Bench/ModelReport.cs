using System.Globalization;
using System.Text;

namespace Functional.Bench;

/// <summary>The whole-model tables: markdown, the CSV (long format) and the README section.</summary>
public sealed class ModelReport(Machine machine, DateTime started, Options options, IReadOnlyDictionary<int, double> peak,
    IReadOnlyDictionary<int, double> peak512, IReadOnlyList<ModelResult> results)
{
    public const string Begin = "<!-- models:begin -->";
    public const string End = "<!-- models:end -->";

    private static string F(double v, string format = "0.0") => double.IsNaN(v) ? "–" : v.ToString(format, CultureInfo.InvariantCulture);

    private static string Ms(Timing? t) => t is null ? "–" : $"{F(t.Median / 1000, t.Median < 10_000 ? "0.00" : "0.0")} {t.Threads}T";

    private IEnumerable<ModelResult> Timed => results.Where(r => r.NotTimed is null && r.Best("Functional") is not null);

    private static double Ratio(ModelResult r) => r.Best("Functional")!.Median / r.FastestPeer!.Median;

    /// <summary>Geometric mean of Functional ÷ fastest peer over the models timed on all engines.</summary>
    public double GeoMean => Timed.Any() ? Math.Exp(Timed.Average(r => Math.Log(Ratio(r)))) : double.NaN;

    private string Header => string.Join(Environment.NewLine,
        $"Whole models, measured {started:yyyy-MM-dd HH:mm} UTC on {machine.Cpu}, {machine.Cores} cores ({machine.Flags}); {machine.Runtime}; " +
        $"{options.Mode} run ({options.Rounds} round(s) of interleaved engines and thread counts, median per image).",
        "",
        $"Measured FMA peak (12 independent FMA chains): Vector256 {F(peak[1], "0")} GF/s on 1 thread, {F(peak[2], "0")} on 2; " +
        $"Vector512 {F(peak512[1], "0")} GF/s on 1 thread, {F(peak512[2], "0")} on 2.");

    /// <summary>Steady state: each engine at its best thread setting.</summary>
    public string SpeedTable()
    {
        var sb = new StringBuilder();
        sb.AppendLine("| model | input | parameters | Functional ms | libtorch 2.10 ms | ONNX Runtime 1.32 ms | Functional ÷ fastest peer | max rel. diff vs libtorch |");
        sb.AppendLine("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var r in results)
        {
            string input = string.Join("×", r.Model.Input);
            string ratio = r.NotTimed is null && r.Best("Functional") is not null ? F(Ratio(r), "0.00") + "×" : "–";
            string ours = r.NotTimed is null ? Ms(r.Best("Functional")) : "not timed¹";
            sb.AppendLine($"| {r.Model.Name} | {input} | {r.Model.Parameters:#,0} | {ours} | {Ms(r.Best("libtorch"))} | {Ms(r.Best("ORT"))} | {ratio} | {(double.IsNaN(r.MaxRelDiff) ? "–" : r.MaxRelDiff.ToString("0.0e+0", CultureInfo.InvariantCulture))} |");
        }
        sb.AppendLine();
        sb.AppendLine($"Geometric mean of Functional ÷ fastest peer over the {Timed.Count()} models Functional runs: {F(GeoMean, "0.00")}×.");
        var untimed = results.Where(r => r.NotTimed is not null).ToList();
        if (untimed.Count > 0)
        {
            sb.AppendLine();
            sb.AppendLine("¹ Not timed: " + string.Join("; ", untimed.Select(r => $"{r.Model.Name}: {r.NotTimed}")) + ".");
        }
        return sb.ToString();
    }

    /// <summary>Fresh processes: time from process start, and peak RSS; load against reading the file.</summary>
    public string ColdTable()
    {
        var sb = new StringBuilder();
        sb.AppendLine("From process start, 2 threads, a fresh process per engine and model (ms: loaded / first output / tenth output; peak RSS):");
        sb.AppendLine();
        sb.AppendLine("| model | Functional | libtorch 2.10 | ONNX Runtime 1.32 | file MB | read file ms | Model.Load ms (warm) | load ÷ read |");
        sb.AppendLine("| --- | --- | --- | --- | ---: | ---: | ---: | ---: |");
        foreach (var r in results.Where(r => r.Cold.Count > 0 || !double.IsNaN(r.LoadMs)))
        {
            string Cell(string engine)
            {
                var c = r.Cold.FirstOrDefault(c => c.Engine == engine);
                return c is null ? "–" : c.Error is not null ? "failed" : $"{F(c.LoadedMs, "0")} / {F(c.FirstMs, "0")} / {F(c.TenthMs, "0")}; {F(c.PeakRssMb, "0")} MB";
            }
            sb.AppendLine($"| {r.Model.Name} | {Cell("Functional")} | {Cell("libtorch")} | {Cell("ORT")} | {F(r.FileBytes / 1e6, "0.0")} | {F(r.ReadMs)} | {F(r.LoadMs)} | {F(r.LoadMs / r.ReadMs, "0.0")}× |");
        }
        return sb.ToString();
    }

    /// <summary>The issue's targets, each with what this run measured.</summary>
    public IEnumerable<string> Targets()
    {
        var timed = Timed.ToList();
        int over = timed.Count(r => Ratio(r) > 1.0);
        yield return $"- every whole model ≤ 1.0× the fastest peer: {timed.Count - over} of {timed.Count} models" +
            (over > 0 ? $" (over: {string.Join(", ", timed.Where(r => Ratio(r) > 1.0).Select(r => $"{r.Model.Name} {F(Ratio(r), "0.00")}×"))})" : "");
        yield return $"- geometric mean ≤ 0.8×: {F(GeoMean, "0.00")}×";
        var r18 = results.FirstOrDefault(r => r.Model.Name == "resnet18");
        var ours = r18?.Cold.FirstOrDefault(c => c.Engine == "Functional" && c.Error is null);
        var ort = r18?.Cold.FirstOrDefault(c => c.Engine == "ORT" && c.Error is null);
        if (ours is not null && ort is not null)
            yield return $"- resnet18's tenth output from process start no later than ORT's: {F(ours.TenthMs, "0")} ms vs {F(ort.TenthMs, "0")} ms ({F(ours.TenthMs / ort.TenthMs, "0.00")}×)";
        var loads = results.Where(r => !double.IsNaN(r.LoadMs)).ToList();
        if (loads.Count > 0)
            yield return $"- Model.Load within 2× of reading the file: {loads.Count(r => r.LoadMs <= 2 * r.ReadMs)} of {loads.Count} models (worst {loads.MaxBy(r => r.LoadMs / r.ReadMs)!.Model.Name} {F(loads.Max(r => r.LoadMs / r.ReadMs), "0.0")}×)";
    }

    private string Notes() => string.Join(Environment.NewLine,
        "- torchvision 0.14 models with random weights (torch.manual_seed(0)), written by bench/models/export_zoo.py at benchmark time into bench/.artifacts/zoo: Functional loads tools/export.py's .safetensors with Model.Load (the user's path), libtorch the TorchScript trace (torch.jit.load through TorchSharp 0.107.0), ONNX Runtime the opset-17 ONNX export; same seeded input; outputs checked against libtorch's before timing.",
        "- Each engine at its best thread setting (1T or 2T); engines and thread counts interleaved within each round. Functional: Layer.Forward, output disposed after each call. ORT: ORT_ENABLE_ALL, intra-op threads = the count, sequential, input and output bound to preallocated buffers. libtorch: inference_mode, torch.set_num_threads.",
        "- Cold: `Bench --cold` in a new process per engine and model; times from the process's start (runtime start-up included) to the model loaded (Model.Load / InferenceSession / torch.jit.load), to the first and the tenth output; peak RSS is VmHWM. Read file: File.ReadAllBytes of the .safetensors (page cache warm), against a warm Model.Load (medians of 3).",
        "- The machine is a shared 2-vCPU VM: figures move 10–50 % between runs; compare within one run.");

    public string Markdown()
    {
        var sb = new StringBuilder();
        sb.AppendLine("# Whole models: Functional vs libtorch 2.10 vs ONNX Runtime 1.32");
        sb.AppendLine();
        sb.AppendLine("Written by `bash bench/run.sh" + (options.Quick ? " --quick" : "") + " --models" +
            (options.Filter is null ? "" : " --filter " + string.Join(",", options.Filter)) + "` (bench/Bench/Models.cs).");
        sb.AppendLine();
        sb.AppendLine(ReadmeBlock());
        sb.AppendLine();
        sb.AppendLine("## Every setting (median ms per image; in brackets the 25th–75th percentile)");
        sb.AppendLine();
        sb.AppendLine("| model | Functional 1T | Functional 2T | libtorch 1T | libtorch 2T | ORT 1T | ORT 2T | load avg |");
        sb.AppendLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |");
        foreach (var r in results.Where(r => r.Timings.Count > 0))
        {
            var cells = from e in ModelBench.Engines
                        from t in Options.ThreadCounts
                        let s = r.Timings.FirstOrDefault(x => x.Engine == e && x.Threads == t)?.Series
                        select s is null ? "–" : $"{F(s.Median / 1000, "0.00")} ({F(s.Quantile(0.25) / 1000, "0.00")}–{F(s.Quantile(0.75) / 1000, "0.00")})";
            sb.AppendLine($"| {r.Model.Name} | {string.Join(" | ", cells)} | {r.Load} |");
        }
        return sb.ToString();
    }

    /// <summary>Long format, one measurement per row: easy to filter (e.g. engine=ORT, metric=median_ms).</summary>
    public string Csv()
    {
        var sb = new StringBuilder();
        sb.AppendLine("date,model,parameters,engine,threads,metric,value");
        string date = started.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture) + " UTC";
        void Row(string model, long parameters, string engine, int? threads, string metric, double value) =>
            sb.AppendLine(string.Join(",", date, model, parameters, engine, threads?.ToString(CultureInfo.InvariantCulture) ?? "", metric, F(value, "0.###")));
        foreach (int t in Options.ThreadCounts)
        {
            Row("fma_peak_256", 0, "machine", t, "gflops", peak[t]);
            Row("fma_peak_512", 0, "machine", t, "gflops", peak512[t]);
        }
        foreach (var r in results)
        {
            var (m, n) = (r.Model.Name, r.Model.Parameters);
            foreach (var t in r.Timings.Where(t => t.Engine != "Functional" || r.NotTimed is null))
            {
                Row(m, n, t.Engine, t.Threads, "median_ms", t.Median / 1000);
                Row(m, n, t.Engine, t.Threads, "p25_ms", t.Series.Quantile(0.25) / 1000);
                Row(m, n, t.Engine, t.Threads, "p75_ms", t.Series.Quantile(0.75) / 1000);
            }
            if (!double.IsNaN(r.MaxRelDiff)) Row(m, n, "Functional", null, "max_rel_diff_vs_libtorch", r.MaxRelDiff);
            if (!double.IsNaN(r.LoadMs))
            {
                Row(m, n, "Functional", null, "model_load_ms", r.LoadMs);
                Row(m, n, "file", null, "read_ms", r.ReadMs);
                Row(m, n, "file", null, "megabytes", r.FileBytes / 1e6);
            }
            foreach (var c in r.Cold.Where(c => c.Error is null))
            {
                Row(m, n, c.Engine, 2, "cold_loaded_ms", c.LoadedMs);
                Row(m, n, c.Engine, 2, "cold_first_output_ms", c.FirstMs);
                Row(m, n, c.Engine, 2, "cold_tenth_output_ms", c.TenthMs);
                Row(m, n, c.Engine, 2, "peak_rss_mb", c.PeakRssMb);
            }
        }
        return sb.ToString();
    }

    /// <summary>The README block: what lies between the markers.</summary>
    public string ReadmeBlock() => string.Join(Environment.NewLine,
        "<!-- Generated by bash bench/run.sh --models (bench/Bench/ModelReport.cs) from bench/results/models.csv: do not edit by hand. -->",
        "",
        Header,
        "",
        SpeedTable().TrimEnd(),
        "",
        ColdTable().TrimEnd(),
        "",
        "Targets of issue 11:",
        "",
        string.Join(Environment.NewLine, Targets()),
        "",
        Notes());

    /// <summary>Replaces the text between the markers; false when they are missing.</summary>
    public bool UpdateReadme(string path) => Report.ReplaceBetween(path, Begin, End, ReadmeBlock());
}
