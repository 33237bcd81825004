// The speed benchmark: each workload on Functional, on libtorch 2.10 (TorchSharp) and on
// ONNX Runtime 1.32, in one process, same input, same weights, float32, inference mode.
// Outputs are checked against each other before anything is timed.
//
//   bash bench/run.sh [--quick] [--filter a,b,f1] [--no-readme] [--seconds S] [--rounds R]
//   bash bench/run.sh --models [--quick] [--no-cold] [--filter resnet18,resnet50]   (whole models only)
//
// Run it through bench/run.sh: TorchSharp needs the loader fix that script applies.
using System.Diagnostics;
using System.Globalization;
using Functional;
using Functional.Bench;
using Functional.Kernels;
using TorchSharp;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;

// A cold run of one engine on one model, in the fresh process the whole-model benchmark started.
if (args.Length == 5 && args[0] == "--cold")
    return ModelBench.RunCold(args[1], args[2], args[3], int.Parse(args[4], CultureInfo.InvariantCulture));

var options = Options.Parse(args);
if (options is null) return 2;

string root = Options.FindRoot();
string models = Path.Combine(root, "bench", "models");
var machine = Machine.Describe();
var started = DateTime.UtcNow;

Console.WriteLine($"machine: {machine}");
Console.WriteLine($"mode: {options.Mode}, time box {options.Seconds:0.##} s per engine and thread count in {options.Rounds} round(s); threads {string.Join(", ", Options.ThreadCounts)}");
if (machine.Tunables.Length > 0) Console.WriteLine($"GLIBC_TUNABLES={machine.Tunables}");
Console.WriteLine($"load average (1 min) at start: {Machine.LoadAverage()}");

// libtorch's inference mode is per thread; every call below runs on this thread.
using var inference = torch.inference_mode();
var peak = new Dictionary<int, double>();
var peak512 = new Dictionary<int, double>();
foreach (int t in Options.ThreadCounts)
{
    peak[t] = FmaPeak.Measure(t, options.Quick ? 0.1 : 0.25, options.Quick ? 3 : 5);
    peak512[t] = FmaPeak.Measure(t, options.Quick ? 0.1 : 0.25, options.Quick ? 3 : 5, wide: true);
    Console.WriteLine($"FMA peak {t}T: {peak[t]:0.0} GF/s (Vector256), {peak512[t]:0.0} GF/s (Vector512)");
}
Console.WriteLine($"Functional's kernels run at {Functional.Kernels.Simd.Width} bits (Simd.Width; 512/256-bit FMA speedup measured at startup: {Functional.Kernels.Simd.WideFmaSpeedup:0.00})");

if (options.ModelsOnly) return RunModels();

var workloads = Workload.All.Where(w => options.Filter is null || options.Filter.Contains(w.Id)).ToList();
var unknown = options.Filter?.Except(Workload.All.Select(w => w.Id)).ToList() ?? [];
if (unknown.Count > 0)
{
    Console.Error.WriteLine($"unknown workload(s): {string.Join(", ", unknown)}; known: {string.Join(", ", Workload.All.Select(w => w.Id))}");
    return 2;
}

var results = new List<WorkloadResult>();
var failures = new List<string>();
var skipped = new List<string>();
foreach (var wl in workloads)
{
    Console.WriteLine();
    Console.WriteLine($"[{wl.Id}] {wl.Title}");
    if (!File.Exists(OnnxPath(wl)))
    {
        string why = $"{wl.Id}: no ONNX model at {Path.GetRelativePath(root, OnnxPath(wl))}; make it with {wl.OnnxRecipe ?? "/usr/bin/python3 bench/models/export_onnx.py"}";
        Console.WriteLine("  skipped: " + why);
        skipped.Add(why);
        continue;
    }
    string loadBefore = Machine.LoadAverage();
    var result = RunWorkload(wl) with { Load = $"{loadBefore}→{Machine.LoadAverage()}" };
    results.Add(result);
    if (result.Mismatch is not null) failures.Add($"{wl.Id}: {result.Mismatch}");
}

// The FMA peak again: a peak disturbed by another process at the start would inflate every
// "% of FMA peak"; the better of the two measurements is the machine's.
foreach (int t in Options.ThreadCounts)
{
    double again = FmaPeak.Measure(t, options.Quick ? 0.1 : 0.25, options.Quick ? 3 : 5);
    double again512 = FmaPeak.Measure(t, options.Quick ? 0.1 : 0.25, options.Quick ? 3 : 5, wide: true);
    Console.WriteLine($"FMA peak {t}T at the end: {again:0.0} GF/s (Vector256), {again512:0.0} GF/s (Vector512)");
    peak[t] = Math.Max(peak[t], again);
    peak512[t] = double.IsNaN(again512) ? peak512[t] : Math.Max(peak512[t], again512);
}

var report = new Report(machine, started, options, peak, peak512, results, skipped);
string resultsDir = Path.Combine(root, "bench", "results");
Directory.CreateDirectory(resultsDir);
string stem = options.Filter is not null ? "results-partial" : options.Quick ? "results-quick" : "results";
File.WriteAllText(Path.Combine(resultsDir, stem + ".md"), report.Markdown());
File.WriteAllText(Path.Combine(resultsDir, stem + ".csv"), report.Csv());
Console.WriteLine();
Console.WriteLine(report.SummaryTable());
foreach (var line in report.PerImage()) Console.WriteLine(line);
foreach (var why in skipped) Console.WriteLine("SKIPPED " + why);
Console.WriteLine($"wrote bench/results/{stem}.md and {stem}.csv");

if (failures.Count > 0)
{
    Console.Error.WriteLine();
    Console.Error.WriteLine("OUTPUTS DISAGREE — these workloads were not timed:");
    foreach (var f in failures) Console.Error.WriteLine("  " + f);
    return 1;
}

if (options.Readme && !options.Quick && options.Filter is null)
{
    string readme = Path.Combine(root, "README.md");
    Console.WriteLine(report.UpdateReadme(readme)
        ? "updated the README's table between <!-- perf:begin --> and <!-- perf:end -->"
        : "README.md has no <!-- perf:begin --> / <!-- perf:end --> markers: not updated");
}
return options.Quick || options.Filter is not null ? 0 : RunModels();

// The whole-model table (bench/Bench/Models.cs): bench/results/models.{md,csv} and the README's
// section between <!-- models:begin --> and <!-- models:end -->.
int RunModels()
{
    string dir = Path.Combine(root, "bench", ".artifacts", "zoo");
    var zoo = ZooModel.Read(dir);
    if (zoo.Count == 0)
    {
        Console.Error.WriteLine($"no models in {dir}: make them with /usr/bin/python3 bench/models/export_zoo.py (bench/run.sh does)");
        return 2;
    }
    var chosen = zoo.Where(m => options.Filter is null || options.Filter.Contains(m.Name)).ToList();
    var results = new List<ModelResult>();
    foreach (var m in chosen)
    {
        Console.WriteLine();
        Console.WriteLine($"[{m.Name}] {string.Join("×", m.Input)}");
        string before = Machine.LoadAverage();
        var r = ModelBench.Run(m, dir, options, cold: !options.NoCold);
        results.Add(r with { Load = $"{before}→{Machine.LoadAverage()}" });
        if (r.NotTimed is not null) Console.WriteLine($"  Functional not timed: {r.NotTimed}");
    }
    var peak512 = Options.ThreadCounts.ToDictionary(t => t, _ => double.NaN);
    var report = new ModelReport(machine, started, options, peak, peak512, results);
    string resultsDir = Path.Combine(root, "bench", "results");
    string stem = options.Filter is not null ? "models-partial" : options.Quick ? "models-quick" : "models";
    File.WriteAllText(Path.Combine(resultsDir, stem + ".md"), report.Markdown());
    File.WriteAllText(Path.Combine(resultsDir, stem + ".csv"), report.Csv());
    Console.WriteLine();
    Console.WriteLine(report.SpeedTable());
    Console.WriteLine(report.ColdTable());
    foreach (var line in report.Targets()) Console.WriteLine(line);
    Console.WriteLine($"wrote bench/results/{stem}.md and {stem}.csv");
    if (options.Readme && !options.Quick && options.Filter is null)
        Console.WriteLine(report.UpdateReadme(Path.Combine(root, "README.md"))
            ? $"updated the README's whole-model section between {ModelReport.Begin} and {ModelReport.End}"
            : $"README.md has no {ModelReport.Begin} / {ModelReport.End} markers: not updated");
    return 0;
}

string OnnxPath(Workload wl) => wl.Onnx is null ? Path.Combine(models, wl.Id + ".onnx") : Path.Combine(root, wl.Onnx);

WorkloadResult RunWorkload(Workload wl)
{
    using var weights = wl.LoadWeights?.Invoke(root) ?? Weights.Load(Path.Combine(models, wl.Id + ".safetensors"));
    var layer = wl.Build(weights);
    if (weights.UnusedKeys().Count > 0)
        throw new InvalidOperationException($"{wl.Id}: weights never used: {string.Join(", ", weights.UnusedKeys())}");

    var x = Tensor.RandomNormal(new Shape(wl.Input), seed: 42);
    var xs = x.ToArray();
    var outShape = layer.OutputShape(x.Shape).ToArray();
    long outCount = outShape.Aggregate(1L, (a, b) => a * b);

    // libtorch gets the very arrays Functional loaded: the layer's parameters and buffers
    // (BatchNorm's running statistics) by state_dict name.
    using var scope = torch.NewDisposeScope();
    var parameters = layer.Parameters().Concat(layer.Buffers()).ToDictionary(p => p.Name,
        p => torch.tensor(p.Value.ToArray(), p.Value.Shape.ToArray().Select(d => (long)d).ToArray()));
    var tx = torch.tensor(xs, wl.Input.Select(d => (long)d).ToArray());

    Engine[] engines =
    [
        new FunctionalEngine(layer, x),
        new TorchEngine(wl.Torch(parameters), tx),
        new OrtEngine(OnnxPath(wl), xs, wl.Input, outShape),
    ];
    try
    {
        // Agreement first, at every thread count, against libtorch (PyTorch's own numbers).
        foreach (int t in Options.ThreadCounts)
        {
            foreach (var e in engines) e.SetThreads(t);
            var reference = engines[1].Output();
            if (reference.Length != outCount)
                return new(wl, [], $"libtorch output has {reference.Length} elements, expected {outCount} ({string.Join("×", outShape)})");
            double scale = Math.Max(1.0, reference.Max(v => Math.Abs((double)v)));
            foreach (var e in new[] { engines[0], engines[2] })
            {
                var y = e.Output();
                if (y.Length != reference.Length)
                    return new(wl, [], $"{e.Label} {t}T output has {y.Length} elements, libtorch {reference.Length}");
                double worst = 0; int at = 0;
                for (int i = 0; i < y.Length; i++)
                {
                    double d = Math.Abs((double)y[i] - reference[i]);
                    if (!(d <= worst)) { worst = d; at = i; } // NaN counts as the worst
                }
                double rel = worst / scale;
                Console.WriteLine($"  check {e.Label,-10} {t}T vs libtorch: max |diff| {worst:0.###e+0} (÷ max(1, max|y|) = {rel:0.###e+0})");
                if (!(rel <= 1e-3))
                    return new(wl, [], $"{e.Label} {t}T differs from libtorch by {worst:g4} at flat index {at} " +
                        $"({y[at]:g7} vs {reference[at]:g7}; max |y| {scale:g4}); tolerance 1e-3 × max(1, max|y|)");
            }
        }

        // Timing: rounds over (threads × engines), so drift hits every engine alike.
        var series = new Dictionary<(string, int), Series>();
        foreach (var e in engines) foreach (int t in Options.ThreadCounts) series[(e.Label, t)] = new Series();
        for (int round = 0; round < options.Rounds; round++)
            foreach (int t in Options.ThreadCounts)
                foreach (var e in engines)
                {
                    e.SetThreads(t);
                    var s = series[(e.Label, t)];
                    GC.Collect();
                    GC.WaitForPendingFinalizers();
                    Thread.Sleep(20); // let other engines' spinning worker threads go idle
                    if (!s.Warm) Measure.WarmUp(e.Call, s, minCalls: 40, minSeconds: options.Quick ? 0.25 : 0.5, maxSeconds: options.Quick ? 0.6 : 1.5);
                    else e.Call();
                    Measure.Run(e.Call, s, options.Seconds / options.Rounds, options.Quick ? 5 : 10);
                }

        var rows = series.Select(kv => new Timing(kv.Key.Item1, kv.Key.Item2, kv.Value)).ToList();
        foreach (int t in Options.ThreadCounts)
            Console.WriteLine("  " + string.Join("   ", rows.Where(r => r.Threads == t)
                .Select(r => $"{r.Engine} {t}T {Report.Us(r.Series.Median)} µs")));
        return new(wl, rows, null) { OutputCount = outCount };
    }
    finally
    {
        foreach (var e in engines) e.Dispose();
        Parallelism.Threads = Environment.ProcessorCount;
    }
}

/// <summary>Command line.</summary>
public sealed record Options(bool Quick, HashSet<string>? Filter, bool Readme, double Seconds, int Rounds)
{
    /// <summary>Only the whole-model table (<c>--models</c>); a full run does both.</summary>
    public bool ModelsOnly { get; init; }

    /// <summary>No fresh-process (cold) figures in the whole-model table (<c>--no-cold</c>).</summary>
    public bool NoCold { get; init; }

    public static readonly int[] ThreadCounts = [1, 2];

    public string Mode => Quick ? "quick" : "full";

    public static Options? Parse(string[] args)
    {
        bool quick = false, readme = true, models = false, noCold = false;
        HashSet<string>? filter = null;
        double? seconds = null;
        int? rounds = null;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--quick": quick = true; break;
                case "--no-readme": readme = false; break;
                case "--models": models = true; break;
                case "--no-cold": noCold = true; break;
                case "--filter" when i + 1 < args.Length:
                    filter = args[++i].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet();
                    break;
                case "--seconds" when i + 1 < args.Length: seconds = double.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--rounds" when i + 1 < args.Length: rounds = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                default:
                    Console.Error.WriteLine($"unknown argument '{args[i]}'");
                    Console.Error.WriteLine("usage: bench/run.sh [--quick] [--models [--no-cold]] [--filter a,b,f1 | resnet18,resnet50] [--no-readme] [--seconds S] [--rounds R]");
                    return null;
            }
        }
        return new(quick, filter, readme, seconds ?? (quick ? 0.4 : 3.0), rounds ?? (quick ? 1 : 3)) { ModelsOnly = models, NoCold = noCold };
    }

    /// <summary>The repository root: the first folder above the program holding Functional.sln.</summary>
    public static string FindRoot()
    {
        foreach (var start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
            for (var d = new DirectoryInfo(start); d is not null; d = d.Parent)
                if (File.Exists(Path.Combine(d.FullName, "Functional.sln"))) return d.FullName;
        throw new DirectoryNotFoundException("no Functional.sln above the benchmark or the current folder");
    }
}
