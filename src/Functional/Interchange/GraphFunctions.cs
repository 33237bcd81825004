using System.Collections.Immutable;

namespace Functional;

/// <summary>
/// One function a traced <see cref="Graph"/> may call: its <c>torch.fx</c> target, PyTorch's
/// signature and what it runs. A <see cref="Layer"/> row builds the library's layer from the
/// arguments (built once at load when they are constants) and runs it on <c>input</c>; other rows
/// call the library's tensor functions in <see cref="Run"/>, for tensors or for shapes as the
/// <see cref="Call"/> says. <see cref="Check"/> rejects unsupported argument values at load.
/// </summary>
internal sealed record GraphFunction(string Target, Signature Signature, ValueKind Result, Func<Call, object?> Run,
    Func<Call, Layer>? Layer = null, Action<Call>? Check = null);

/// <summary>
/// The one table from <c>torch.fx</c> targets to this library's layers and tensor functions:
/// <c>call_function</c> targets by their qualified name as <c>torch.fx</c> gives it on PyTorch 1.13
/// (<c>torch._C._nn.gelu</c> for <c>F.gelu</c>, <c>torch.conv2d</c> for <c>F.conv2d</c>), and
/// <c>call_method</c> targets as <c>Tensor.name</c>. Each row calls what already exists; none is a
/// second implementation.
/// </summary>
internal static class GraphFunctions
{
    /// <summary>The table key of a node: its qualified target, methods prefixed with <c>Tensor.</c>.</summary>
    public static string Key(string op, string target) => op == "call_method" ? "Tensor." + target : target;

    /// <summary>The rows by key.</summary>
    public static readonly ImmutableDictionary<string, GraphFunction> Table = Rows().ToImmutableDictionary(r => r.Target);

    /// <summary>Every supported target, sorted (for error messages and documentation).</summary>
    public static IEnumerable<string> Supported => Table.Keys.Order();

    private const string Unary = "input: Tensor";

    private static IEnumerable<GraphFunction> Rows() =>
        Activations().Concat(Convolutions()).Concat(Pools()).Concat(Normalizations()).Concat(Shapes())
            .Concat(Joins()).Concat(Reductions()).Concat(Arithmetic()).Concat(Values());

    /// <summary>Rows for each of <paramref name="targets"/> (space-separated) that run the layer <paramref name="make"/> builds on <c>input</c>.</summary>
    private static IEnumerable<GraphFunction> Layer(string targets, string signature, Func<Call, Layer> make) =>
        Each(targets, t => new GraphFunction(t, new Signature(signature), ValueKind.Tensor, c => c.Apply(make(c)), make));

    private static IEnumerable<GraphFunction> Fn(string targets, string signature, ValueKind result, Func<Call, object?> run, Action<Call>? check = null) =>
        Each(targets, t => new GraphFunction(t, new Signature(signature), result, run, null, check));

    private static IEnumerable<GraphFunction> Each(string targets, Func<string, GraphFunction> row) => targets.Split(' ').Select(row);

    private static IEnumerable<GraphFunction> Activations() =>
    [
        .. Layer("torch.nn.functional.relu torch.relu torch.relu_ Tensor.relu Tensor.relu_", "input: Tensor, inplace: bool = False", _ => new ReLU()),
        .. Layer("torch.nn.functional.relu6", "input: Tensor, inplace: bool = False", _ => new ReLU6()),
        .. Layer("torch._C._nn.gelu torch.nn.functional.gelu Tensor.gelu", "input: Tensor, approximate: str = 'none'", c => new GELU(ModuleDescription.GeluApproximationNamed(c.String("approximate"))
            ?? throw c.Unsupported("approximate", "expected 'none' or 'tanh'"))),
        .. Layer("torch.nn.functional.silu Tensor.silu", "input: Tensor, inplace: bool = False", _ => new SiLU()),
        .. Layer("torch.sigmoid torch.nn.functional.sigmoid Tensor.sigmoid", Unary, _ => new Sigmoid()),
        .. Layer("torch.tanh torch.nn.functional.tanh Tensor.tanh", Unary, _ => new Tanh()),
        .. Layer("torch.nn.functional.hardswish", "input: Tensor, inplace: bool = False", _ => new Hardswish()),
        .. Layer("torch.nn.functional.hardsigmoid", "input: Tensor, inplace: bool = False", _ => new Hardsigmoid()),
        .. Layer("torch.nn.functional.hardtanh", "input: Tensor, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False",
            c => new Hardtanh(c.Number("min_val"), c.Number("max_val"))),
        .. Layer("torch.nn.functional.leaky_relu", "input: Tensor, negative_slope: float = 0.01, inplace: bool = False", c => new LeakyReLU(c.Double("negative_slope"))),
        .. Layer("torch.nn.functional.elu", "input: Tensor, alpha: float = 1.0, inplace: bool = False", c => new ELU(c.Double("alpha"))),
        .. Layer("torch.nn.functional.mish", "input: Tensor, inplace: bool = False", _ => new Mish()),
        .. Layer("torch._C._nn.softplus torch.nn.functional.softplus", "input: Tensor, beta: float = 1, threshold: float = 20", c => new Softplus(c.Number("beta"), c.Number("threshold"))),
        .. Layer("torch.nn.functional.softmax torch.softmax Tensor.softmax", "input: Tensor, dim: int? = None, _stacklevel: int = 3, dtype: any = None",
            c => new Softmax(SoftmaxDim(c))),
        .. Layer("torch.nn.functional.log_softmax torch.log_softmax Tensor.log_softmax", "input: Tensor, dim: int? = None, _stacklevel: int = 3, dtype: any = None",
            c => new LogSoftmax(SoftmaxDim(c))),
        .. Identity("torch.nn.functional.dropout torch.nn.functional.dropout1d torch.nn.functional.dropout2d torch.nn.functional.dropout3d torch.nn.functional.alpha_dropout torch.nn.functional.feature_alpha_dropout",
            "input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False"),
        .. Identity("torchvision.ops.stochastic_depth.stochastic_depth", "input: Tensor, p: float, mode: str, training: bool = True"),
        .. Layer("torch.pixel_shuffle torch.nn.functional.pixel_shuffle", "input: Tensor, upscale_factor: int", c => new PixelShuffle(c.Int("upscale_factor"))),
        .. Layer("torch.pixel_unshuffle torch.nn.functional.pixel_unshuffle", "input: Tensor, downscale_factor: int", c => new PixelUnshuffle(c.Int("downscale_factor"))),
    ];

    private static int SoftmaxDim(Call c) => c.OptionalInt("dim") ?? throw c.Unsupported("dim", "softmax without dim uses PyTorch's deprecated implicit choice; give dim");

    /// <summary>Dropout and stochastic depth: the identity at inference; in training mode they are random and refused.</summary>
    private static IEnumerable<GraphFunction> Identity(string targets, string signature) =>
        Fn(targets, signature, ValueKind.Tensor, c => c.Shapes ? c.ShapeOf("input") : c.TensorArg("input"),
            c => { if (c.Bool("training")) throw c.Unsupported("training", "random in training mode; export the model in eval mode"); });

    private static IEnumerable<GraphFunction> Convolutions() =>
        new[] { 1, 2, 3 }.SelectMany(rank => (IEnumerable<GraphFunction>)
        [
            .. Layer($"torch.conv{rank}d torch.nn.functional.conv{rank}d", "input: Tensor, weight: Tensor, bias: Tensor? = None, stride: ints = 1, padding: any = 0, dilation: ints = 1, groups: int = 1",
                c =>
                {
                    var w = c.Weight("weight");
                    if (w.Rank != rank + 2) throw new ShapeException($"conv{rank}d: weight must have {rank + 2} dimensions [out, in/groups, k...], got {w.Shape}");
                    int groups = c.Int("groups");
                    var padding = c.Value("padding") switch
                    {
                        "same" => Padding.Same,
                        "valid" => Padding.Valid,
                        string s => throw c.Unsupported("padding", "expected 'same', 'valid', an int or a tuple"),
                        _ => (Padding)c.DimsArg("padding"),
                    };
                    return ConvNd.Load(rank, WeightsOf(w, c.OptionalWeight("bias")), checked(w.Shape[1] * groups), w.Shape[0], new Dims(w.Shape.Skip(2).ToArray()),
                        c.DimsArg("stride"), padding, c.DimsArg("dilation"), groups, !c.IsNone("bias"));
                }),
            .. Layer($"torch.conv_transpose{rank}d torch.nn.functional.conv_transpose{rank}d",
                "input: Tensor, weight: Tensor, bias: Tensor? = None, stride: ints = 1, padding: ints = 0, output_padding: ints = 0, groups: int = 1, dilation: ints = 1",
                c =>
                {
                    var w = c.Weight("weight");
                    if (w.Rank != rank + 2) throw new ShapeException($"conv_transpose{rank}d: weight must have {rank + 2} dimensions [in, out/groups, k...], got {w.Shape}");
                    int groups = c.Int("groups");
                    return ConvTransposeNd.Load(rank, WeightsOf(w, c.OptionalWeight("bias")), w.Shape[0], checked(w.Shape[1] * groups), new Dims(w.Shape.Skip(2).ToArray()),
                        c.DimsArg("stride"), c.DimsArg("padding"), c.DimsArg("output_padding"), groups, !c.IsNone("bias"), c.DimsArg("dilation"));
                }),
        ]).Concat(Layer("torch._C._nn.linear torch.nn.functional.linear", "input: Tensor, weight: Tensor, bias: Tensor? = None",
            c => new Linear(c.Weight("weight"), c.OptionalWeight("bias"))));

    /// <summary>Tensors given to a functional form, under the names the layer's Load fetches.</summary>
    private static Weights WeightsOf(params (string Name, Tensor? Value)[] tensors) =>
        Weights.FromTensors(tensors.Where(t => t.Value is not null).ToDictionary(t => t.Name, t => t.Value!));

    private static Weights WeightsOf(Tensor weight, Tensor? bias) => WeightsOf(("weight", weight), ("bias", bias));

    private static IEnumerable<GraphFunction> Pools() =>
        new[] { 1, 2, 3 }.SelectMany(rank => (IEnumerable<GraphFunction>)
        [
            .. Layer($"torch.nn.functional.max_pool{rank}d torch.max_pool{rank}d",
                "input: Tensor, kernel_size: ints, stride: ints? = None, padding: ints = 0, dilation: ints = 1, ceil_mode: bool = False, return_indices: bool = False",
                c =>
                {
                    if (c.Bool("return_indices")) throw c.Unsupported("return_indices", "a graph node returns one tensor");
                    var (k, s, p, d, ceil) = (c.DimsArg("kernel_size"), c.OptionalDims("stride"), c.DimsArg("padding"), c.DimsArg("dilation"), c.Bool("ceil_mode"));
                    return rank switch { 1 => new MaxPool1d(k, s, p, d, false, ceil), 2 => new MaxPool2d(k, s, p, d, false, ceil), _ => new MaxPool3d(k, s, p, d, false, ceil) };
                }),
            .. Layer(rank == 1 ? "torch.avg_pool1d torch.nn.functional.avg_pool1d" : $"torch._C._nn.avg_pool{rank}d torch.nn.functional.avg_pool{rank}d",
                "input: Tensor, kernel_size: ints, stride: ints? = None, padding: ints = 0, ceil_mode: bool = False, count_include_pad: bool = True"
                    + (rank == 1 ? "" : ", divisor_override: int? = None"),
                c =>
                {
                    var (k, s, p, ceil, include) = (c.DimsArg("kernel_size"), c.OptionalDims("stride"), c.DimsArg("padding"), c.Bool("ceil_mode"), c.Bool("count_include_pad"));
                    return rank switch
                    {
                        1 => new AvgPool1d(k, s, p, ceil, include),
                        2 => new AvgPool2d(k, s, p, ceil, include, c.OptionalInt("divisor_override")),
                        _ => new AvgPool3d(k, s, p, ceil, include, c.OptionalInt("divisor_override")),
                    };
                }),
            .. Layer(rank == 1 ? "torch.adaptive_avg_pool1d torch.nn.functional.adaptive_avg_pool1d" : $"torch.nn.functional.adaptive_avg_pool{rank}d torch._C._nn.adaptive_avg_pool{rank}d",
                "input: Tensor, output_size: any", c =>
                {
                    var size = OutputSize(c);
                    return rank switch { 1 => new AdaptiveAvgPool1d(size), 2 => new AdaptiveAvgPool2d(size), _ => new AdaptiveAvgPool3d(size) };
                }),
            .. Layer($"torch.nn.functional.adaptive_max_pool{rank}d", "input: Tensor, output_size: any, return_indices: bool = False", c =>
            {
                if (c.Bool("return_indices")) throw c.Unsupported("return_indices", "a graph node returns one tensor");
                var size = OutputSize(c);
                return rank switch { 1 => new AdaptiveMaxPool1d(size), 2 => new AdaptiveMaxPool2d(size), _ => new AdaptiveMaxPool3d(size) };
            }),
        ]).Concat(Layer("torch.nn.functional.interpolate torch.nn.functional.upsample",
            "input: Tensor, size: ints? = None, scale_factor: any = None, mode: str = 'nearest', align_corners: bool? = None, recompute_scale_factor: bool? = None, antialias: bool = False",
            c =>
            {
                if (c.Bool("antialias")) throw c.Unsupported("antialias", "not supported");
                ScaleFactor? scale = c.Value("scale_factor") switch
                {
                    null => (ScaleFactor?)null,
                    long or double => c.Double("scale_factor"),
                    IReadOnlyList<object?> l => new ScaleFactor(l.Select(v => v is long or double ? Convert.ToDouble(v) : throw c.Unsupported("scale_factor", "expected numbers")).ToArray(), true),
                    _ => throw c.Unsupported("scale_factor", "expected a number or a list of numbers"),
                };
                return new Upsample(c.OptionalDims("size"), scale, ModeOf(c), c.OptionalBool("align_corners"), c.OptionalBool("recompute_scale_factor"));
            })).Concat(Layer("torch.nn.functional.pad torch._C._nn.pad", "input: Tensor, pad: ints, mode: str = 'constant', value: float? = None", c =>
            {
                var pad = c.DimsArg("pad");
                if (pad.Count is not (2 or 4 or 6)) throw c.Unsupported("pad", "expected 2, 4 or 6 sizes");
                int r = pad.Count / 2;
                return (c.String("mode"), r) switch
                {
                    ("constant", 1) => new ConstantPad1d(pad, c.IsNone("value") ? 0 : c.Number("value")),
                    ("constant", 2) => new ConstantPad2d(pad, c.IsNone("value") ? 0 : c.Number("value")),
                    ("constant", _) => new ConstantPad3d(pad, c.IsNone("value") ? 0 : c.Number("value")),
                    ("reflect", 1) => new ReflectionPad1d(pad),
                    ("reflect", 2) => new ReflectionPad2d(pad),
                    ("reflect", _) => new ReflectionPad3d(pad),
                    ("replicate", 1) => new ReplicationPad1d(pad),
                    ("replicate", 2) => new ReplicationPad2d(pad),
                    ("replicate", _) => new ReplicationPad3d(pad),
                    ("circular", 1) => new CircularPad1d(pad),
                    ("circular", 2) => new CircularPad2d(pad),
                    ("circular", _) => new CircularPad3d(pad),
                    _ => throw c.Unsupported("mode", "expected 'constant', 'reflect', 'replicate' or 'circular'"),
                };
            }));

    private static int?[] OutputSize(Call c) => c.Value("output_size") switch
    {
        long => [c.Int("output_size")],
        IReadOnlyList<object?> l => l.Select(v => v switch
        {
            null => (int?)null,
            long i when i is >= 0 and <= int.MaxValue => (int)i,
            _ => throw c.Unsupported("output_size", "expected ints or None"),
        }).ToArray(),
        _ => throw c.Unsupported("output_size", "expected an int or a list of ints"),
    };

    private static UpsampleMode ModeOf(Call c) =>
        ModuleDescription.UpsampleModeNamed(c.String("mode")) ?? throw c.Unsupported("mode", ModuleDescription.UpsampleModesExpected);

    private static IEnumerable<GraphFunction> Normalizations() =>
    [
        .. Layer("torch.nn.functional.layer_norm torch.layer_norm", "input: Tensor, normalized_shape: ints, weight: Tensor? = None, bias: Tensor? = None, eps: float = 1e-05",
            c =>
            {
                var shape = c.DimsArg("normalized_shape");
                var (w, b) = (c.OptionalWeight("weight"), c.OptionalWeight("bias"));
                if (w is null && b is null) return LayerNorm.Plain(shape, c.Number("eps"));
                // One of the two alone: the other is the identity (ones or zeros), as PyTorch computes it.
                var s = new Shape(shape.Values);
                return LayerNorm.Load(WeightsOf(("weight", w ?? Tensor.Full(s, 1f)), ("bias", b ?? Tensor.Zeros(s))), shape, c.Number("eps"));
            }),
        .. Layer("torch.nn.functional.group_norm torch.group_norm", "input: Tensor, num_groups: int, weight: Tensor? = None, bias: Tensor? = None, eps: float = 1e-05",
            c =>
            {
                var (w, b) = (c.OptionalWeight("weight"), c.OptionalWeight("bias"));
                if (w is null && b is null) throw c.Unsupported("weight", "group_norm without weight and bias needs the channel count of its input; give both");
                int channels = (w ?? b)!.Shape[0];
                return GroupNorm.Load(WeightsOf(("weight", w ?? Tensor.Full([channels], 1f)), ("bias", b ?? Tensor.Zeros([channels]))), c.Int("num_groups"), channels, c.Number("eps"));
            }),
        .. Layer("torch.nn.functional.batch_norm torch.batch_norm",
            "input: Tensor, running_mean: Tensor?, running_var: Tensor?, weight: Tensor? = None, bias: Tensor? = None, training: bool = False, momentum: float = 0.1, eps: float = 1e-05",
            c =>
            {
                if (c.Bool("training")) throw c.Unsupported("training", "batch statistics are not supported; export the model in eval mode");
                var (m, v) = (c.Weight("running_mean"), c.Weight("running_var"));
                var (w, b) = (c.OptionalWeight("weight"), c.OptionalWeight("bias"));
                int n = m.Shape.Rank == 1 ? m.Shape[0] : throw new ShapeException($"batch_norm: running_mean must be 1-D, got {m.Shape}");
                var tensors = WeightsOf(("running_mean", m), ("running_var", v), ("weight", w ?? Tensor.Full([n], 1f)), ("bias", b ?? Tensor.Zeros([n])));
                // BatchNorm1d/2d/3d differ only in the input ranks they accept: the one for this input.
                int rank = c.InputRank switch { 2 or 3 => 1, 4 => 2, 5 => 3, var r => throw new ShapeException($"batch_norm: expected an input of 2 to 5 dimensions, got {r}") };
                return BatchNormNd.Load(rank, tensors, n, c.Number("eps"), c.Number("momentum"));
            }),
    ];

    private static IEnumerable<GraphFunction> Shapes() =>
    [
        .. Layer("torch.flatten Tensor.flatten", "input: Tensor, start_dim: int = 0, end_dim: int = -1", c => new Flatten(c.Int("start_dim"), c.Int("end_dim"))),
        .. Fn("Tensor.view Tensor.reshape", "input: Tensor, *shape: ints", ValueKind.Tensor, Reshape),
        .. Fn("torch.reshape", "input: Tensor, shape: ints", ValueKind.Tensor, Reshape),
        .. Fn("Tensor.permute", "input: Tensor, *dims: ints", ValueKind.Tensor, Permute),
        .. Fn("torch.permute", "input: Tensor, dims: ints", ValueKind.Tensor, Permute),
        .. Fn("Tensor.transpose torch.transpose", "input: Tensor, dim0: int, dim1: int", ValueKind.Tensor,
            c => c.Shapes ? TensorFunctions.TransposeShape(c.ShapeOf("input"), c.Int("dim0"), c.Int("dim1")) : c.TensorArg("input").Transpose(c.Int("dim0"), c.Int("dim1"))),
        .. Fn("Tensor.contiguous Tensor.float Tensor.detach Tensor.clone torch.clone", "input: Tensor", ValueKind.Tensor, c => c.Shapes ? c.ShapeOf("input") : c.TensorArg("input")),
        .. Fn("Tensor.squeeze torch.squeeze", "input: Tensor, dim: int? = None", ValueKind.Tensor, c =>
        {
            var s = c.ShapeOf("input");
            if (c.IsNone("dim")) return c.Shapes ? new Shape(s.Where(d => d != 1).ToArray()) : c.TensorArg("input").Squeeze();
            int axis = s.NormalizeAxis(c.Int("dim"));
            return c.Shapes ? (s[axis] == 1 ? s.RemoveAt(axis) : s) : c.TensorArg("input").Squeeze(c.Int("dim"));
        }),
        .. Fn("Tensor.unsqueeze torch.unsqueeze", "input: Tensor, dim: int", ValueKind.Tensor, c =>
        {
            var s = c.ShapeOf("input");
            int dim = c.Int("dim"), axis = dim < 0 ? dim + s.Rank + 1 : dim;
            if (axis < 0 || axis > s.Rank) throw new ShapeException($"unsqueeze: dimension {dim} out of range for a tensor of shape {s}");
            return c.Shapes ? s.Insert(axis, 1) : c.TensorArg("input").Unsqueeze(dim);
        }),
        .. Fn("Tensor.expand", "input: Tensor, *size: ints", ValueKind.Tensor,
            c => c.Shapes ? TensorFunctions.ExpandShape(c.ShapeOf("input"), c.Ints("size")) : c.TensorArg("input").Expand(c.Ints("size"))),
        .. Fn("Tensor.expand_as", "input: Tensor, other: Tensor", ValueKind.Tensor,
            c => c.Shapes ? TensorFunctions.ExpandShape(c.ShapeOf("input"), c.ShapeOf("other").ToArray()) : c.TensorArg("input").Expand(c.ShapeOf("other").ToArray())),
        .. Fn("Tensor.size", "input: Tensor, dim: int? = None", ValueKind.Value, c =>
        {
            var s = c.ShapeOf("input");
            return c.IsNone("dim") ? SizeList(s) : (object)(long)s[c.Int("dim")];
        }),
        .. Fn("Tensor.dim Tensor.ndimension", "input: Tensor", ValueKind.Value, c => (long)c.ShapeOf("input").Rank),
        .. Fn("Tensor.numel torch.numel", "input: Tensor", ValueKind.Value, c => c.ShapeOf("input").ElementCount),
        .. Fn("getattr", "obj: Tensor, name: str", ValueKind.Value, c => SizeList(c.ShapeOf("obj")),
            c => { if (c.String("name") != "shape") throw c.Unsupported("name", "of a tensor's attributes only 'shape' is supported"); }),
    ];

    private static List<object?> SizeList(Shape s) => s.Select(d => (object?)(long)d).ToList();

    private static object Reshape(Call c)
    {
        var shape = c.Ints("shape");
        return c.Shapes ? TensorFunctions.ReshapeShape(c.ShapeOf("input"), shape) : c.TensorArg("input").Reshape(shape);
    }

    private static object Permute(Call c) =>
        c.Shapes ? TensorFunctions.PermuteShape(c.ShapeOf("input"), c.Ints("dims")) : c.TensorArg("input").Permute(c.Ints("dims"));

    private static IEnumerable<GraphFunction> Joins() =>
    [
        .. Fn("torch.cat torch.concat", "tensors: Tensors, dim: int = 0", ValueKind.Tensor, c => c.Shapes
            ? TensorOps.ConcatShape(c.TensorList("tensors").Select(ShapeOf).ToList(), c.Int("dim"))
            : TensorOps.Concat(c.TensorList("tensors").Select(t => (Tensor)t).ToList(), c.Int("dim"))),
        .. Fn("torch.stack", "tensors: Tensors, dim: int = 0", ValueKind.Tensor, c => c.Shapes
            ? TensorFunctions.StackShape(c.TensorList("tensors").Select(ShapeOf).ToList(), c.Int("dim"))
            : TensorFunctions.Stack(c.TensorList("tensors").Select(t => (Tensor)t).ToList(), c.Int("dim"))),
        .. Fn("torch.chunk Tensor.chunk", "input: Tensor, chunks: int, dim: int = 0", ValueKind.Value, c =>
        {
            var s = c.ShapeOf("input");
            return Parts(c, TensorFunctions.ChunkSizes(s, c.Int("chunks"), s.NormalizeAxis(c.Int("dim"))), c.Int("dim"));
        }),
        .. Fn("torch.functional.split torch.split Tensor.split", "input: Tensor, split_size_or_sections: ints, dim: int = 0", ValueKind.Value, c =>
        {
            var s = c.ShapeOf("input");
            bool equal = c.Value("split_size_or_sections") is long;
            return Parts(c, TensorFunctions.SplitSizes(s, c.Ints("split_size_or_sections"), s.NormalizeAxis(c.Int("dim")), equal), c.Int("dim"));
        }),
    ];

    private static Shape ShapeOf(object t) => t is Tensor x ? x.Shape : (Shape)t;

    private static List<object?> Parts(Call c, int[] sizes, int dim) => c.Shapes
        ? [.. TensorFunctions.SplitShapes(c.ShapeOf("input"), sizes, dim)]
        : [.. c.TensorArg("input").SplitBySizes(sizes, dim)];

    private static IEnumerable<GraphFunction> Reductions() =>
        new[] { ("mean", TensorFunctions.Reduction.Mean), ("sum", TensorFunctions.Reduction.Sum), ("amax", TensorFunctions.Reduction.Max) }
            .SelectMany(r => Fn($"torch.{r.Item1} Tensor.{r.Item1}", "input: Tensor, dim: ints? = None, keepdim: bool = False" + (r.Item2 == TensorFunctions.Reduction.Max ? "" : ", dtype: any = None"),
                ValueKind.Tensor, c =>
                {
                    var dims = c.OptionalInts("dim");
                    return c.Shapes ? TensorFunctions.ReduceShape(c.ShapeOf("input"), dims, c.Bool("keepdim"))
                        : c.TensorArg("input").Reduce(r.Item2, dims, c.Bool("keepdim"));
                },
                r.Item2 == TensorFunctions.Reduction.Max ? null : c => { if (!c.IsNone("dtype")) throw c.Unsupported("dtype", "only float32 is supported"); }));

    private static IEnumerable<GraphFunction> Arithmetic() =>
    [
        .. Fn("_operator.add _operator.iadd Tensor.add Tensor.add_", "input: operand, other: operand", ValueKind.Any, c => Binary(c, Functional.Arithmetic.Add)),
        .. Fn("torch.add", "input: operand, other: operand, alpha: float = 1", ValueKind.Any, c => Binary(c, Functional.Arithmetic.Add),
            c => { if (c.Double("alpha") != 1) throw c.Unsupported("alpha", "only alpha=1 is supported"); }),
        .. Fn("_operator.sub _operator.isub Tensor.sub torch.sub", "input: operand, other: operand", ValueKind.Any, c => Binary(c, Functional.Arithmetic.Subtract)),
        .. Fn("_operator.mul _operator.imul Tensor.mul Tensor.mul_ torch.mul", "input: operand, other: operand", ValueKind.Any, c => Binary(c, Functional.Arithmetic.Multiply)),
        .. Fn("_operator.truediv _operator.itruediv Tensor.div torch.div", "input: operand, other: operand", ValueKind.Any, c => Binary(c, Functional.Arithmetic.Divide)),
        .. Fn("_operator.floordiv", "input: operand, other: operand", ValueKind.Value, c => (c.Value("input"), c.Value("other")) switch
        {
            (long a, long b) when b != 0 => (object)(long)Math.Floor((double)a / b),
            (long, long) => throw new ShapeException("integer division by zero"),
            _ => throw new ModuleDescriptionException($"floor division is supported on ints only, got {Call.Describe(c.Value("input"))} and {Call.Describe(c.Value("other"))}"),
        }),
        .. Fn("_operator.pow Tensor.pow torch.pow", "input: operand, exponent: operand", ValueKind.Any, c => c.Value("input") switch
        {
            long a when c.Value("exponent") is long b && b >= 0 => (object)checked((long)Math.Pow(a, b)),
            _ when !c.IsTensor("input") => Math.Pow(c.Double("input"), c.Double("exponent")),
            _ when c.IsTensor("exponent") => throw new ModuleDescriptionException("pow with a tensor exponent is not supported"),
            _ => Scalar(c, Functional.Arithmetic.Power, (float)c.Double("exponent"), false),
        }),
        .. Fn("_operator.neg torch.neg Tensor.neg", "input: operand", ValueKind.Any, c => c.Value("input") switch
        {
            long a => -a,
            double d => -d,
            _ => c.Map(t => t.Neg()),
        }),
        .. Fn("torch.sqrt Tensor.sqrt", Unary, ValueKind.Tensor, c => c.Map(t => t.Sqrt())),
        .. Fn("torch.rsqrt Tensor.rsqrt", Unary, ValueKind.Tensor, c => c.Map(t => t.Rsqrt())),
        .. Fn("torch.exp Tensor.exp", Unary, ValueKind.Tensor, c => c.Map(t => t.Exp())),
        .. Fn("torch.abs Tensor.abs", Unary, ValueKind.Tensor, c => c.Map(t => t.Abs())),
        .. Fn("torch.clamp Tensor.clamp torch.clip Tensor.clip", "input: Tensor, min: float? = None, max: float? = None", ValueKind.Tensor,
            c => c.Map(t => t.Clamp((float?)c.OptionalDouble("min"), (float?)c.OptionalDouble("max")))),
        .. Fn("_operator.matmul torch.matmul Tensor.matmul torch.bmm Tensor.bmm", "input: Tensor, other: Tensor", ValueKind.Tensor, c => c.Shapes
            ? TensorFunctions.MatMulShape(c.ShapeOf("input"), c.ShapeOf("other"))
            : c.TensorArg("input").MatMul(c.TensorArg("other"))),
        .. Fn("torch.nn.functional.normalize", "input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12, out: any = None", ValueKind.Tensor, c =>
        {
            if (c.Shapes) return c.ShapeOf("input");
            // x / max(‖x‖₂, eps) along dim, as F.normalize: the norm from the library's reduction and power.
            var x = c.TensorArg("input");
            using var squares = x.Arithmetic(Functional.Arithmetic.Power, 2f);
            using var sum = squares.Reduce(TensorFunctions.Reduction.Sum, [c.Int("dim")], keepDim: true);
            using var norm = sum.Sqrt();
            using var clamped = norm.Clamp((float)c.Double("eps"), null);
            return TensorOps.Divide(x, clamped);
        }, c =>
        {
            if (c.Double("p") != 2) throw c.Unsupported("p", "only the 2-norm is supported");
            if (!c.IsNone("out")) throw c.Unsupported("out", "not supported");
        }),
    ];

    /// <summary>
    /// <c>a op b</c> for tensors (broadcasting), a tensor and a number, or two numbers (Python's
    /// int and float arithmetic, for sizes computed from <c>x.shape</c>).
    /// </summary>
    private static object Binary(Call c, Arithmetic op)
    {
        var (a, b) = (c.Value("input"), c.Value("other"));
        switch (a, b)
        {
            case (long x, long y) when op != Functional.Arithmetic.Divide:
                return op switch { Functional.Arithmetic.Add => checked(x + y), Functional.Arithmetic.Subtract => checked(x - y), _ => checked(x * y) };
            case (long or double, long or double):
                double u = c.Double("input"), v = c.Double("other");
                return op switch { Functional.Arithmetic.Add => u + v, Functional.Arithmetic.Subtract => u - v, Functional.Arithmetic.Multiply => u * v, _ => u / v };
            case (_, long or double) when Call.IsTensor(a):
                return Scalar(c, op, (float)c.Double("other"), false);
            case (long or double, _) when Call.IsTensor(b):
                return Scalar(c, op, (float)c.Double("input"), true);
        }
        if (!Call.IsTensor(a) || !Call.IsTensor(b))
            throw new ModuleDescriptionException($"cannot apply {op} to {Call.Describe(a)} and {Call.Describe(b)}");
        if (c.Shapes) return TensorOps.BroadcastShape(c.ShapeOf("input"), c.ShapeOf("other"));
        var (p, q) = (c.TensorArg("input"), c.TensorArg("other"));
        // Residual's rule: a sum may go over an intermediate the graph alone holds.
        if (op == Functional.Arithmetic.Add && p.Shape == q.Shape)
        {
            if (ReferenceEquals(p, c.Consumable) && !ReferenceEquals(p, q)) return p.AddInPlace(q);
            if (ReferenceEquals(q, c.Consumable) && !ReferenceEquals(p, q)) return q.AddInPlace(p);
        }
        return TensorOps.Apply(op, p, q);
    }

    /// <summary>A tensor (the argument <c>input</c>, or <c>other</c> when the scalar comes first) with a scalar.</summary>
    private static object Scalar(Call c, Arithmetic op, float s, bool scalarFirst)
    {
        string name = scalarFirst ? "other" : "input";
        if (c.Shapes) return c.ShapeOf(name);
        var t = c.TensorArg(name);
        return ReferenceEquals(t, c.Consumable) ? t.ArithmeticInPlace(op, s, scalarFirst) : t.Arithmetic(op, s, scalarFirst);
    }

    private static IEnumerable<GraphFunction> Values() =>
        Fn("_operator.getitem", "a: any, b: any", ValueKind.Any, GetItem);

    /// <summary><c>a[b]</c>: an element or a slice of a tuple or list (<c>x.shape[-1]</c>, <c>chunk(...)[0]</c>), or basic indexing of a tensor.</summary>
    private static object? GetItem(Call c)
    {
        var (a, b) = (c.Value("a"), c.Value("b"));
        if (a is IReadOnlyList<object?> list)
            return b switch
            {
                long i when i >= -list.Count && i < list.Count => list[(int)(i < 0 ? i + list.Count : i)],
                long i => throw new ShapeException($"tuple index {i} out of range for a tuple of {list.Count}"),
                IndexItem.Slice s => SliceList(list, s),
                _ => throw new ModuleDescriptionException($"a tuple is indexed by an int or a slice, got {Call.Describe(b)}"),
            };
        if (!Call.IsTensor(a)) throw new ModuleDescriptionException($"cannot index {Call.Describe(a)}");
        var items = (b is IReadOnlyList<object?> l ? l : [b]).Select(e => e switch
        {
            long i => new IndexItem.At(i),
            null => new IndexItem.NewAxis(),
            IndexItem item => item,
            _ => throw new ModuleDescriptionException($"a tensor index may hold ints, slices, None and ..., got {Call.Describe(e)}"),
        }).ToArray();
        return c.Shapes ? TensorFunctions.IndexShape(c.ShapeOf("a"), items) : c.TensorArg("a").Index(items);
    }

    private static List<object?> SliceList(IReadOnlyList<object?> list, IndexItem.Slice s)
    {
        var shape = TensorFunctions.IndexShape([list.Count], [s]);
        long step = s.Step ?? 1, start = s.Start is { } v ? Math.Clamp(v < 0 ? v + list.Count : v, 0, list.Count) : 0;
        return Enumerable.Range(0, shape[0]).Select(i => list[(int)(start + i * step)]).ToList();
    }
}
