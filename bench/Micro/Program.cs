// BenchmarkDotNet micro-benchmarks of Functional's layers on some of the speed benchmark's
// workloads (same weights: bench/models/*.safetensors), with [MemoryDiagnoser] so the bytes
// allocated per call show. In-process toolchain, short job: a look at allocations and
// per-call cost, not a replacement for bench/Bench.
//
//   bash bench/run.sh --micro                       # f1, b, e1, k1, k2 at 1 and 2 threads
//   bash bench/run.sh --micro --filter f1,k2        # some of them
//
// Writes bench/results/micro.md (the summary table).
using System.Globalization;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Exporters;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Functional;
using Functional.Kernels;
using Functional.Micro;

string root = Layers.FindRoot();
var filter = args.SkipWhile(a => a != "--filter").Skip(1).FirstOrDefault()?.Split(',');
if (filter is not null) LayerBenchmarks.Ids = filter;

var config = ManualConfig.CreateEmpty()
    .AddJob(Job.ShortRun.WithToolchain(InProcessEmitToolchain.Instance))
    .AddDiagnoser(BenchmarkDotNet.Diagnosers.MemoryDiagnoser.Default)
    .AddColumnProvider(DefaultColumnProviders.Instance)
    .AddLogger(BenchmarkDotNet.Loggers.ConsoleLogger.Default)
    .AddExporter(MarkdownExporter.GitHub)
    .WithArtifactsPath(Path.Combine(root, "bench", ".artifacts", "BenchmarkDotNet"))
    .WithOption(ConfigOptions.JoinSummary, true);

Summary summary = BenchmarkRunner.Run<LayerBenchmarks>(config);

var md = new StringWriter();
MarkdownExporter.GitHub.ExportToLog(summary, new BenchmarkDotNet.Loggers.TextLogger(md));
string text = string.Join(Environment.NewLine,
    "# Micro-benchmarks: Functional's layers under BenchmarkDotNet",
    "",
    $"Written by `bash bench/run.sh --micro` (bench/Micro) on {DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)} UTC. " +
    "Each row is one `Layer.Forward` call on the speed benchmark's workload of that id (same weights, seeded input), " +
    "at `Parallelism.Threads` = Threads. In-process toolchain, BenchmarkDotNet's ShortRun job (3 warm-ups, 3 iterations): " +
    "the point is **Allocated** (bytes per call, from [MemoryDiagnoser]) and the GC columns; bench/Bench's timings are the reference for speed.",
    "",
    "The output tensor alone is 4 × elements bytes: f1 802,816 (+ ~50 B tensor and shape objects); b 788,544; e1 148,836; k1, k2 3,211,264. " +
    "ForwardDisposed disposes each output, so its storage is recycled and Allocated shows the rest: tensor, shape and delegate objects.",
    "",
    md.ToString().Trim().Replace("**", ""));
File.WriteAllText(Path.Combine(root, "bench", "results", "micro.md"), text + Environment.NewLine);
Console.WriteLine("wrote bench/results/micro.md");

namespace Functional.Micro
{
    /// <summary>The layers of some bench workloads, built as bench/Bench builds them.</summary>
    public static class Layers
    {
        public static readonly Dictionary<string, (int[] Input, Func<Weights, Layer> Build)> ById = new()
        {
            ["f1"] = ([1, 64, 56, 56], w => Conv2d.Load(w, 64, 64, 3, padding: 1)),
            ["b"] = ([1, 3, 224, 224], w => Conv2d.Load(w, 3, 16, 3, stride: 2, bias: false)),
            ["e1"] = ([1, 3, 224, 224], _ => new MaxPool2d(3, stride: 2)),
            ["k1"] = ([1, 64, 112, 112], _ => new ReLU()),
            ["k2"] = ([1, 64, 112, 112], _ => new GELU()),
            ["i"] = ([1, 128, 32, 32], w => ConvTranspose2d.Load(w, 128, 64, 4, stride: 2, padding: 1)),
            ["l"] = ([1, 64, 56, 56], w => Conv2d.Load(w, 64, 64, 3, padding: 1, groups: 64)),
        };

        public static string FindRoot()
        {
            foreach (var start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
                for (var d = new DirectoryInfo(start); d is not null; d = d.Parent)
                    if (File.Exists(Path.Combine(d.FullName, "Functional.sln"))) return d.FullName;
            throw new DirectoryNotFoundException("no Functional.sln above the benchmark or the current folder");
        }
    }

    /// <summary>One layer's Forward per invocation.</summary>
    [MemoryDiagnoser]
    public class LayerBenchmarks
    {
        /// <summary>Which workloads run (set from --filter before the run; in-process, so the static is seen).</summary>
        public static string[] Ids { get; set; } = ["f1", "b", "e1", "k1", "k2"];

        public static IEnumerable<string> WorkloadIds => Ids;

        [ParamsSource(nameof(WorkloadIds))]
        public string Workload { get; set; } = "f1";

        [Params(1, 2)]
        public int Threads { get; set; }

        private Layer layer = null!;
        private Tensor input = null!;
        private Weights? weights;

        [GlobalSetup]
        public void Setup()
        {
            var (shape, build) = Layers.ById[Workload];
            string path = Path.Combine(Layers.FindRoot(), "bench", "models", Workload + ".safetensors");
            weights = Weights.Load(path);
            layer = build(weights);
            input = Tensor.RandomNormal(new Shape(shape), seed: 42);
            Parallelism.Threads = Threads;
        }

        [GlobalCleanup]
        public void Cleanup()
        {
            weights?.Dispose();
            Parallelism.Threads = Environment.ProcessorCount;
        }

        /// <summary>The output kept: its storage is a new array every call.</summary>
        [Benchmark]
        public Tensor Forward() => layer.Forward(input);

        /// <summary>The output disposed at once (as the speed benchmark does): its storage comes back from the pool, so what is left is the per-call bookkeeping.</summary>
        [Benchmark]
        public void ForwardDisposed()
        {
            var output = layer.Forward(input);
            if (!ReferenceEquals(output, input)) output.Dispose();
        }
    }
}
