using Functional;
using Functional.Parity;
using TorchSharp;
using static TorchSharp.torch.nn.functional;
using TT = TorchSharp.torch.Tensor;

namespace Functional.Bench;

/// <summary>What a workload's throughput is counted in.</summary>
public enum Kind
{
    /// <summary>A convolution: GF/s = 2·MACs / time.</summary>
    Conv,

    /// <summary>Memory-bound (pooling, activations): GB/s = (bytes read + written) / time.</summary>
    Memory,
}

/// <summary>
/// One benchmark workload: the same module for all three engines. Its weights come from
/// <c>bench/models/{Id}.safetensors</c> (written with the ONNX model by export_onnx.py), or are
/// generated (<see cref="LoadWeights"/>), so Functional, libtorch and ONNX Runtime all run the
/// same numbers.
/// </summary>
/// <param name="Id">Short name used by --filter and in the tables.</param>
/// <param name="Title">The module in PyTorch notation, with the input shape.</param>
/// <param name="Input">Input shape (NC…).</param>
/// <param name="Kind">How throughput is counted.</param>
/// <param name="Macs">Multiply-accumulates per call (convolutions).</param>
/// <param name="GemmBound">Whether the % of FMA peak is reported (large-channel convolutions).</param>
/// <param name="Build">The Functional layer from the workload's weights.</param>
/// <param name="Torch">The libtorch call, from the layer's own parameter and buffer tensors by state_dict name.</param>
public sealed record Workload(
    string Id,
    string Title,
    int[] Input,
    Kind Kind,
    long Macs,
    bool GemmBound,
    Func<Weights, Layer> Build,
    Func<IReadOnlyDictionary<string, TT>, Func<TT, TT>> Torch)
{
    /// <summary>
    /// The weights, given the repository root; null: <c>bench/models/{Id}.safetensors</c>.
    /// </summary>
    public Func<string, Weights>? LoadWeights { get; init; }

    /// <summary>
    /// The ONNX model, relative to the repository root; null: <c>bench/models/{Id}.onnx</c>.
    /// </summary>
    public string? Onnx { get; init; }

    /// <summary>How to make a missing <see cref="Onnx"/> (named when the workload is skipped for lack of it).</summary>
    public string? OnnxRecipe { get; init; }

    /// <summary>Elements of the input.</summary>
    public long InputCount => Input.Aggregate(1L, (a, b) => a * b);

    /// <summary>Bytes a memory-bound call reads and writes (float32 input and output).</summary>
    public long Bytes(long outputCount) => 4 * (InputCount + outputCount);

    private static long Prod(params long[] xs) => xs.Aggregate(1L, (a, b) => a * b);

    /// <summary>
    /// MACs of a convolution: every output element sums (in/groups)·prod(kernel) products.
    /// </summary>
    private static long ConvMacs(long n, long cout, long[] outSpatial, long cinPerGroup, long[] kernel) =>
        n * cout * Prod(outSpatial) * cinPerGroup * Prod(kernel);

    /// <summary>
    /// MACs of a transposed convolution: every input element scatters into (out/groups)·prod(kernel) outputs.
    /// </summary>
    private static long ConvTransposeMacs(long n, long cin, long[] inSpatial, long coutPerGroup, long[] kernel) =>
        n * cin * Prod(inSpatial) * coutPerGroup * Prod(kernel);

    private static long[] L(params long[] x) => x;

    /// <summary>The parity case whose <c>generated_weights</c> recipe gives ResNet-18's weights (46 MB, not committed).</summary>
    public const string ResNet18Case = "tests/Parity/cases/models/resnet18_torchvision.safetensors";

    /// <summary>
    /// torchvision ResNet-18's weights, by state_dict name, generated from the parity case's recipe:
    /// the values bench/models/export_resnet18.py puts into the ONNX model (generate.py's
    /// <c>apply_generated_weights</c>), bit for bit.
    /// </summary>
    public static Weights ResNet18Weights(string root)
    {
        using var file = SafeTensors.Open(Path.Combine(root, ResNet18Case));
        return Weights.FromTensors(GeneratedWeights.Create(file.Metadata["generated_weights"]));
    }

    /// <summary>
    /// MACs of torchvision's ResNet-18 on n×3×224²: the 7×7 stem, four stages of two BasicBlocks
    /// (3×3 convolutions; the first block of stages 2–4 strides 2 and has a 1×1 strided
    /// downsample), and the 512→1000 classifier. 1,814,073,344 for n = 1.
    /// </summary>
    private static long ResNet18Macs(long n)
    {
        long macs = ConvMacs(n, 64, L(112, 112), 3, L(7, 7));
        long size = 56, planes = 64, inPlanes = 64;
        for (int stage = 0; stage < 4; stage++, inPlanes = planes, planes *= 2, size /= 2)
        {
            macs += ConvMacs(n, planes, L(size, size), inPlanes, L(3, 3))       // block 0 conv1 (strided from stage 2)
                  + 3 * ConvMacs(n, planes, L(size, size), planes, L(3, 3));    // block 0 conv2, block 1 conv1 and conv2
            if (stage > 0) macs += ConvMacs(n, planes, L(size, size), inPlanes, L(1, 1)); // downsample
        }
        return macs + n * 512 * 1000;
    }

    /// <summary>
    /// torchvision's ResNet-18 forward in torch.nn.functional calls, from the state_dict, as
    /// torchvision runs it: BatchNorm in eval mode on the running statistics, in-place ReLU and
    /// residual add, and each intermediate freed as soon as it is dead (as Python's refcounts
    /// free them), not at the end of the call.
    /// </summary>
    private static Func<TT, TT> ResNet18Torch(IReadOnlyDictionary<string, TT> p)
    {
        // x, then dispose the tensors that are dead now.
        static TT Free(TT x, params TT[] dead)
        {
            foreach (var t in dead) t.Dispose();
            return x;
        }
        // An in-place op's result is x itself; dispose the extra handle if TorchSharp made one.
        static TT Same(TT x, TT result) => ReferenceEquals(x, result) ? x : Free(x, result);
        TT Bn(TT x, string n) => batch_norm(x, p[n + ".running_mean"], p[n + ".running_var"], p[n + ".weight"], p[n + ".bias"],
            training: false, momentum: 0.1, eps: 1e-5);
        // conv (no bias) → batch norm, the convolution's output freed.
        TT ConvBn(TT x, string conv, string bn, long stride, long padding)
        {
            var c = conv2d(x, p[conv + ".weight"], null, strides: [stride, stride], padding: [padding, padding]);
            return Free(Bn(c, bn), c);
        }
        TT Relu(TT x) => Same(x, x.relu_());
        TT Block(TT x, string n, long stride)
        {
            var h = Relu(ConvBn(x, n + ".conv1", n + ".bn1", stride, 1));
            var y = Free(ConvBn(h, n + ".conv2", n + ".bn2", 1, 1), h);
            if (p.ContainsKey(n + ".downsample.0.weight"))
            {
                var identity = ConvBn(x, n + ".downsample.0", n + ".downsample.1", stride, 0);
                y = Free(Same(y, y.add_(identity)), identity);
            }
            else y = Same(y, y.add_(x));
            return Relu(y);
        }
        return x =>
        {
            var stem = Relu(ConvBn(x, "conv1", "bn1", 2, 3));
            var y = Free(max_pool2d(stem, [3, 3], [2, 2], [1, 1]), stem);
            for (int stage = 1; stage <= 4; stage++)
                for (int block = 0; block < 2; block++)
                    y = Free(Block(y, $"layer{stage}.{block}", stage > 1 && block == 0 ? 2 : 1), y);
            var pooled = Free(adaptive_avg_pool2d(y, [1, 1]), y);
            var flat = Free(pooled.flatten(1), pooled);
            return Free(linear(flat, p["fc.weight"], p["fc.bias"]), flat);
        };
    }

    /// <summary>
    /// The workloads of the benchmark, in table order. Keep in step with bench/models/export_onnx.py
    /// (resnet18: bench/models/export_resnet18.py).
    /// </summary>
    public static IReadOnlyList<Workload> All { get; } =
    [
        new("a", "Conv1d(3,16,3,s=2) 1×3×224", [1, 3, 224], Kind.Conv,
            ConvMacs(1, 16, L(111), 3, L(3)), false,
            w => Conv1d.Load(w, 3, 16, 3, stride: 2, bias: false),
            p => x => conv1d(x, p["weight"], null, stride: 2)),
        new("b", "Conv2d(3,16,3,s=2) 1×3×224²", [1, 3, 224, 224], Kind.Conv,
            ConvMacs(1, 16, L(111, 111), 3, L(3, 3)), false,
            w => Conv2d.Load(w, 3, 16, 3, stride: 2, bias: false),
            p => x => conv2d(x, p["weight"], null, strides: [2, 2])),
        new("c", "ConvTranspose1d(3,16,3,s=2) 1×3×224", [1, 3, 224], Kind.Conv,
            ConvTransposeMacs(1, 3, L(224), 16, L(3)), false,
            w => ConvTranspose1d.Load(w, 3, 16, 3, stride: 2, bias: false),
            p => x => conv_transpose1d(x, p["weight"], null, stride: 2)),
        new("d", "ConvTranspose2d(3,16,3,s=2) 1×3×224²", [1, 3, 224, 224], Kind.Conv,
            ConvTransposeMacs(1, 3, L(224, 224), 16, L(3, 3)), false,
            w => ConvTranspose2d.Load(w, 3, 16, 3, stride: 2, bias: false),
            p => x => conv_transpose2d(x, p["weight"], null, strides: [2, 2])),
        new("e1", "MaxPool2d(3,2) 1×3×224²", [1, 3, 224, 224], Kind.Memory, 0, false,
            _ => new MaxPool2d(3, stride: 2),
            _ => x => max_pool2d(x, [3, 3], [2, 2])),
        new("e2", "AvgPool2d(3,2) 1×3×224²", [1, 3, 224, 224], Kind.Memory, 0, false,
            _ => new AvgPool2d(3, stride: 2),
            _ => x => avg_pool2d(x, [3, 3], [2, 2])),
        new("f1", "Conv2d(64,64,3,p=1) 1×64×56²", [1, 64, 56, 56], Kind.Conv,
            ConvMacs(1, 64, L(56, 56), 64, L(3, 3)), true,
            w => Conv2d.Load(w, 64, 64, 3, padding: 1),
            p => x => conv2d(x, p["weight"], p["bias"], padding: [1, 1])),
        new("f8", "Conv2d(64,64,3,p=1) 8×64×56²", [8, 64, 56, 56], Kind.Conv,
            ConvMacs(8, 64, L(56, 56), 64, L(3, 3)), true,
            w => Conv2d.Load(w, 64, 64, 3, padding: 1),
            p => x => conv2d(x, p["weight"], p["bias"], padding: [1, 1])),
        new("g", "Conv2d(3,64,7,s=2,p=3) 1×3×224²", [1, 3, 224, 224], Kind.Conv,
            ConvMacs(1, 64, L(112, 112), 3, L(7, 7)), true,
            w => Conv2d.Load(w, 3, 64, 7, stride: 2, padding: 3),
            p => x => conv2d(x, p["weight"], p["bias"], strides: [2, 2], padding: [3, 3])),
        new("h", "Conv3d(3,64,3,p=1) 1×3×16×112²", [1, 3, 16, 112, 112], Kind.Conv,
            ConvMacs(1, 64, L(16, 112, 112), 3, L(3, 3, 3)), true,
            w => Conv3d.Load(w, 3, 64, 3, padding: 1),
            p => x => conv3d(x, p["weight"], p["bias"], padding: [1, 1, 1])),
        new("i", "ConvTranspose2d(128,64,4,s=2,p=1) 1×128×32²", [1, 128, 32, 32], Kind.Conv,
            ConvTransposeMacs(1, 128, L(32, 32), 64, L(4, 4)), true,
            w => ConvTranspose2d.Load(w, 128, 64, 4, stride: 2, padding: 1),
            p => x => conv_transpose2d(x, p["weight"], p["bias"], strides: [2, 2], padding: [1, 1])),
        new("j", "MaxPool2d(3,2,p=1) 1×64×112²", [1, 64, 112, 112], Kind.Memory, 0, false,
            _ => new MaxPool2d(3, stride: 2, padding: 1),
            _ => x => max_pool2d(x, [3, 3], [2, 2], [1, 1])),
        new("k1", "ReLU 1×64×112²", [1, 64, 112, 112], Kind.Memory, 0, false,
            _ => new ReLU(),
            _ => x => relu(x)),
        new("k2", "GELU (erf) 1×64×112²", [1, 64, 112, 112], Kind.Memory, 0, false,
            _ => new GELU(),
            _ => x => gelu(x)),
        new("k3", "SiLU 1×64×112²", [1, 64, 112, 112], Kind.Memory, 0, false,
            _ => new SiLU(),
            _ => x => silu(x)),
        new("l", "depthwise Conv2d(64,64,3,p=1,g=64) 1×64×56²", [1, 64, 56, 56], Kind.Conv,
            ConvMacs(1, 64, L(56, 56), 1, L(3, 3)), false,
            w => Conv2d.Load(w, 64, 64, 3, padding: 1, groups: 64),
            p => x => conv2d(x, p["weight"], p["bias"], padding: [1, 1], groups: 64)),
        new("net", "Conv2d(3,64,3,1,1)→ReLU→Conv2d(64,64,3,1,1)→MaxPool2d(2) 1×3×224²", [1, 3, 224, 224], Kind.Conv,
            ConvMacs(1, 64, L(224, 224), 3, L(3, 3)) + ConvMacs(1, 64, L(224, 224), 64, L(3, 3)), true,
            w => Conv2d.Load(w.At("0"), 3, 64, 3, stride: 1, padding: 1)
                 >> new ReLU()
                 >> Conv2d.Load(w.At("2"), 64, 64, 3, stride: 1, padding: 1)
                 >> new MaxPool2d(2),
            p => x => max_pool2d(conv2d(relu(conv2d(x, p["0.weight"], p["0.bias"], padding: [1, 1])),
                                        p["2.weight"], p["2.bias"], padding: [1, 1]), [2, 2], [2, 2])),
        new("resnet18", "ResNet-18 (torchvision) 1×3×224²", [1, 3, 224, 224], Kind.Conv,
            ResNet18Macs(1), true,
            w => Functional.Models.ResNet.ResNet18(w),
            ResNet18Torch)
        {
            LoadWeights = ResNet18Weights,
            Onnx = "bench/.artifacts/resnet18.onnx",
            OnnxRecipe = "/usr/bin/python3 bench/models/export_resnet18.py, which bench/run.sh runs when Debian's python3-torch, python3-torchvision and python3-numpy are installed",
        },
    ];
}
