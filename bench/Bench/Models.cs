using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Functional.Kernels;
using Microsoft.ML.OnnxRuntime;
using TorchSharp;
using TT = TorchSharp.torch.Tensor;

namespace Functional.Bench;

/// <summary>
/// One torchvision model of the whole-model benchmark, as bench/models/export_zoo.py wrote it
/// into bench/.artifacts/zoo: <c>.safetensors</c> (tools/export.py, for <see cref="Model.Load"/>),
/// <c>.onnx</c> (ONNX Runtime) and <c>.pt</c> (TorchScript, for libtorch), one set of weights.
/// </summary>
/// <param name="Name">torchvision's constructor name.</param>
/// <param name="Input">Input shape.</param>
/// <param name="Parameters">PyTorch's parameter count.</param>
/// <param name="ExportError">Why tools/export.py could not write it (Functional is then not timed).</param>
/// <param name="PeerError">Why the peers' files could not be written.</param>
public sealed record ZooModel(string Name, int[] Input, long Parameters, string? ExportError, string? PeerError)
{
    /// <summary>The models in bench/.artifacts/zoo/zoo.json, in the script's order.</summary>
    public static List<ZooModel> Read(string dir)
    {
        string index = Path.Combine(dir, "zoo.json");
        if (!File.Exists(index)) return [];
        using var doc = JsonDocument.Parse(File.ReadAllText(index));
        return doc.RootElement.EnumerateObject().Select(p => new ZooModel(p.Name,
            p.Value.GetProperty("input").EnumerateArray().Select(e => e.GetInt32()).ToArray(),
            p.Value.TryGetProperty("parameters", out var n) ? n.GetInt64() : 0,
            p.Value.TryGetProperty("error", out var e) ? e.GetString() : null,
            p.Value.TryGetProperty("peer_error", out var pe) ? pe.GetString() : null)).ToList();
    }
}

/// <summary>Times from process start (ms) and the peak resident set, of one engine in a fresh process.</summary>
public sealed record Cold(string Engine, double LoadedMs, double FirstMs, double TenthMs, double PeakRssMb, string? Error = null);

/// <summary>A model's timings (or why it was not timed), load figures and cold figures.</summary>
public sealed record ModelResult(ZooModel Model, IReadOnlyList<Timing> Timings, string? NotTimed)
{
    /// <summary>Largest |Functional − libtorch| ÷ max(1, max|y|) over the thread counts.</summary>
    public double MaxRelDiff { get; init; } = double.NaN;

    /// <summary>Median warm <see cref="Model.Load"/> time, ms.</summary>
    public double LoadMs { get; init; } = double.NaN;

    /// <summary>Median time to read the whole file into memory (page cache warm), ms.</summary>
    public double ReadMs { get; init; } = double.NaN;

    /// <summary>The .safetensors file's size in bytes.</summary>
    public long FileBytes { get; init; }

    /// <summary>Fresh-process figures, per engine.</summary>
    public List<Cold> Cold { get; } = [];

    /// <summary>The 1-minute load average before → after.</summary>
    public string Load { get; init; } = "";

    public Timing? Best(string engine) => Timings.Where(t => t.Engine == engine).MinBy(t => t.Median);

    public Timing? FastestPeer => new[] { Best("libtorch"), Best("ORT") }.Where(t => t is not null).MinBy(t => t!.Median);
}

/// <summary>
/// The whole-model benchmark: every model of the zoo through <see cref="Model.Load"/> against ONNX
/// Runtime and libtorch (TorchScript) in this process, at 1 and 2 threads, interleaved; then each
/// engine cold, in fresh processes (<see cref="RunCold"/>).
/// </summary>
public static class ModelBench
{
    public static readonly string[] Engines = ["Functional", "libtorch", "ORT"];

    /// <summary>The cold run of one engine on one model in this (fresh) process: prints one "cold {json}" line.</summary>
    public static int RunCold(string engine, string dir, string name, int threads)
    {
        var model = ZooModel.Read(dir).First(m => m.Name == name);
        var x = Tensor.RandomNormal(new Shape(model.Input), seed: 42);
        double loaded, first = 0, tenth = 0;
        string path = Path.Combine(dir, name);
        switch (engine)
        {
            case "Functional":
            {
                Parallelism.Threads = threads;
                var layer = Model.Load(path + ".safetensors");
                loaded = SinceStart();
                for (int i = 1; i <= 10; i++)
                {
                    layer.Forward(x).Dispose();
                    if (i == 1) first = SinceStart();
                }
                break;
            }
            case "ORT":
            {
                using var options = OrtOptions(threads);
                using var session = new InferenceSession(path + ".onnx", options);
                loaded = SinceStart();
                using var input = OrtValue.CreateTensorValueFromMemory(x.ToArray(), model.Input.Select(d => (long)d).ToArray());
                for (int i = 1; i <= 10; i++)
                {
                    using var outputs = session.Run(new RunOptions(), ["x"], [input], ["y"]);
                    if (i == 1) first = SinceStart();
                }
                break;
            }
            case "libtorch":
            {
                torch.set_num_threads(threads);
                using var inference = torch.inference_mode();
                var module = torch.jit.load<TT, TT>(path + ".pt");
                module.eval();
                loaded = SinceStart();
                var tx = torch.tensor(x.ToArray(), model.Input.Select(d => (long)d).ToArray());
                for (int i = 1; i <= 10; i++)
                {
                    using var scope = torch.NewDisposeScope();
                    module.call(tx);
                    if (i == 1) first = SinceStart();
                }
                break;
            }
            default: throw new ArgumentException($"unknown engine '{engine}'");
        }
        tenth = SinceStart();
        Console.WriteLine("cold " + JsonSerializer.Serialize(new Cold(engine, loaded, first, tenth, PeakRssMb())));
        return 0;
    }

    private static double SinceStart() => (DateTime.Now - Process.GetCurrentProcess().StartTime).TotalMilliseconds;

    /// <summary>VmHWM: the process's peak resident set, MB.</summary>
    public static double PeakRssMb()
    {
        var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("VmHWM:"));
        return line is null ? double.NaN : double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024;
    }

    public static SessionOptions OrtOptions(int threads) => new()
    {
        IntraOpNumThreads = threads,
        InterOpNumThreads = 1,
        ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
        GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
    };

    /// <summary>Starts this program again with <c>--cold</c> and reads its line; an error when it fails.</summary>
    public static Cold ColdInFreshProcess(string engine, string dir, string name, int threads)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { typeof(ModelBench).Assembly.Location, "--cold", engine, dir, name, threads.ToString(CultureInfo.InvariantCulture) })
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        string stdout = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        var line = stdout.Split('\n').FirstOrDefault(l => l.StartsWith("cold "));
        if (p.ExitCode != 0 || line is null)
        {
            string why = (stderr.Result + stdout).Split('\n').FirstOrDefault(l => l.Contains("Exception")) ?? $"exit code {p.ExitCode}";
            return new Cold(engine, double.NaN, double.NaN, double.NaN, double.NaN, why.Trim());
        }
        return JsonSerializer.Deserialize<Cold>(line[5..])!;
    }

    /// <summary>Loads, checks and times one model with the three engines; then its cold figures.</summary>
    public static ModelResult Run(ZooModel model, string dir, Options options, bool cold)
    {
        string path = Path.Combine(dir, model.Name);
        if (model.PeerError is not null) return new(model, [], "peers' files not written: " + model.PeerError);
        var x = Tensor.RandomNormal(new Shape(model.Input), seed: 42);
        var xs = x.ToArray();
        using var scope = torch.NewDisposeScope();
        var tx = torch.tensor(xs, model.Input.Select(d => (long)d).ToArray());
        var script = torch.jit.load<TT, TT>(path + ".pt");
        script.eval();
        var torchEngine = new TorchEngine(script.call, tx);
        torchEngine.SetThreads(1);
        var reference = torchEngine.Output();
        int[] outShape;
        using (var probe = script.call(tx)) outShape = probe.shape.Select(d => (int)d).ToArray();

        Layer? layer = null;
        string? notLoaded = model.ExportError is not null ? "tools/export.py: " + model.ExportError : null;
        double loadMs = double.NaN, readMs = double.NaN;
        long bytes = 0;
        if (notLoaded is null)
        {
            try
            {
                var loads = new List<double>();
                var reads = new List<double>();
                for (int i = 0; i < 3; i++)
                {
                    var sw = Stopwatch.StartNew();
                    bytes = File.ReadAllBytes(path + ".safetensors").LongLength;
                    reads.Add(sw.Elapsed.TotalMilliseconds);
                    GC.Collect();
                    sw.Restart();
                    layer = Model.Load(path + ".safetensors");
                    loads.Add(sw.Elapsed.TotalMilliseconds);
                }
                loadMs = loads.Order().ElementAt(1);
                readMs = reads.Order().ElementAt(1);
            }
            catch (Exception e) when (e is ModuleDescriptionException or ShapeException or SafeTensorsException or ArgumentException)
            {
                notLoaded = $"Model.Load: {e.GetType().Name}: {e.Message.Split('\n')[0]}";
                layer = null;
            }
        }

        var engines = new List<Engine>();
        double worstRel = double.NaN;
        string? notTimed = notLoaded;
        if (layer is not null)
        {
            try
            {
                var fe = new FunctionalEngine(layer, x);
                worstRel = 0;
                foreach (int t in Options.ThreadCounts)
                {
                    fe.SetThreads(t);
                    var y = fe.Output();
                    double rel = RelDiff(y, reference);
                    Console.WriteLine($"  check Functional {t}T vs libtorch: max |diff| ÷ max(1, max|y|) = {rel:0.###e+0}");
                    worstRel = Math.Max(worstRel, rel);
                }
                if (!(worstRel <= 1e-3)) notTimed = $"Functional's output differs from libtorch's: {worstRel:0.###e+0} × max(1, max|y|)";
                else engines.Add(fe);
            }
            catch (Exception e) when (e is ShapeException or ModuleDescriptionException or ArgumentException)
            {
                notTimed = $"Forward: {e.GetType().Name}: {e.Message.Split('\n')[0]}";
            }
        }
        engines.Add(torchEngine);
        var ort = new OrtEngine(path + ".onnx", xs, model.Input, outShape);
        engines.Add(ort);
        try
        {
            foreach (int t in Options.ThreadCounts)
            {
                ort.SetThreads(t);
                double rel = RelDiff(ort.Output(), reference);
                Console.WriteLine($"  check ORT {t}T vs libtorch: max |diff| ÷ max(1, max|y|) = {rel:0.###e+0}");
            }

            var series = new Dictionary<(string, int), Series>();
            foreach (var e in engines) foreach (int t in Options.ThreadCounts) series[(e.Label, t)] = new Series();
            double box = options.Quick ? 0.3 : 0.6;
            for (int round = 0; round < options.Rounds; round++)
                foreach (int t in Options.ThreadCounts)
                    foreach (var e in engines)
                    {
                        e.SetThreads(t);
                        var s = series[(e.Label, t)];
                        GC.Collect();
                        GC.WaitForPendingFinalizers();
                        Thread.Sleep(20);
                        if (!s.Warm) Measure.WarmUp(e.Call, s, minCalls: 12, minSeconds: options.Quick ? 0.3 : 0.8, maxSeconds: options.Quick ? 1 : 2.5);
                        else e.Call();
                        s.Batch = 1;
                        Measure.Run(e.Call, s, box, 3);
                    }
            var rows = series.Select(kv => new Timing(kv.Key.Item1, kv.Key.Item2, kv.Value)).ToList();
            foreach (int t in Options.ThreadCounts)
                Console.WriteLine("  " + string.Join("   ", rows.Where(r => r.Threads == t).Select(r => $"{r.Engine} {t}T {r.Median / 1000:0.00} ms")));
            var result = new ModelResult(model, rows, notTimed) { MaxRelDiff = worstRel, LoadMs = loadMs, ReadMs = readMs, FileBytes = bytes };
            if (cold)
                foreach (var engine in Engines)
                {
                    if (engine == "Functional" && layer is null) continue;
                    var c = ColdInFreshProcess(engine, dir, model.Name, 2);
                    Console.WriteLine(c.Error is null
                        ? $"  cold {engine,-10} 2T: loaded {c.LoadedMs:0} ms, first output {c.FirstMs:0} ms, tenth {c.TenthMs:0} ms, peak RSS {c.PeakRssMb:0} MB"
                        : $"  cold {engine,-10} failed: {c.Error}");
                    result.Cold.Add(c);
                }
            return result;
        }
        finally
        {
            foreach (var e in engines) e.Dispose();
            Parallelism.Threads = Environment.ProcessorCount;
        }
    }

    private static double RelDiff(float[] y, float[] reference)
    {
        if (y.Length != reference.Length) return double.PositiveInfinity;
        double scale = Math.Max(1.0, reference.Max(v => Math.Abs((double)v)));
        double worst = 0;
        for (int i = 0; i < y.Length; i++)
        {
            double d = Math.Abs((double)y[i] - reference[i]);
            if (!(d <= worst)) worst = d; // NaN counts as the worst
        }
        return worst / scale;
    }
}
