using System.Runtime.CompilerServices;
using Functional.Kernels;

namespace Functional;

/// <summary>
/// What convolutions and transposed convolutions share: channels, kernel, stride, dilation,
/// groups, weight and bias, their validation, and the plan handed to the kernels.
/// </summary>
public abstract record ConvLayer : Layer
{
    private protected ConvLayer(int rank, int inChannels, int outChannels, Dims kernelSize, Dims? stride, Dims? dilation,
        int groups, Tensor weight, Tensor? bias)
    {
        SpatialRank = rank;
        InChannels = inChannels;
        OutChannels = outChannels;
        KernelSize = kernelSize;
        Stride = stride ?? 1;
        Dilation = dilation ?? 1;
        Groups = groups;
        Weight = weight;
        Bias = bias;
    }

    /// <summary>1, 2 or 3.</summary>
    public int SpatialRank { get; }

    /// <summary>Input channels.</summary>
    public int InChannels { get; init; }

    /// <summary>Output channels.</summary>
    public int OutChannels { get; init; }

    /// <summary>Kernel extent per spatial dimension.</summary>
    public Dims KernelSize { get; init => field = value.Expand(SpatialRank, "kernel_size", TypeName); }

    /// <summary>Stride per spatial dimension.</summary>
    public Dims Stride { get; init => field = value.Expand(SpatialRank, "stride", TypeName); }

    /// <summary>Spacing between kernel taps per spatial dimension.</summary>
    public Dims Dilation { get; init => field = value.Expand(SpatialRank, "dilation", TypeName); }

    /// <summary>Channel groups (in and out channels are split into this many independent convolutions).</summary>
    public int Groups { get; init; }

    /// <summary>The weight, in PyTorch's layout for the layer.</summary>
    public Tensor Weight { get; init; }

    /// <summary>Bias <c>[out_channels]</c>, or null.</summary>
    public Tensor? Bias { get; init; }

    /// <summary>The weight shape PyTorch uses for this layer's arguments.</summary>
    private protected abstract Shape ExpectedWeightShape { get; }

    /// <summary>Checks what every convolution shares (run at construction and again when used, for <c>with</c> variants).</summary>
    private protected void ValidateCommon()
    {
        ConvChecks.Channels(TypeName, InChannels, OutChannels, Groups);
        ConvChecks.Positive(TypeName, "kernel_size", KernelSize);
        ConvChecks.Positive(TypeName, "stride", Stride);
        ConvChecks.Positive(TypeName, "dilation", Dilation);
        ConvChecks.Weights(TypeName, Weight, ExpectedWeightShape, Bias, OutChannels);
    }

    /// <summary>The kernel plan for a batched input and the output shape.</summary>
    private protected ConvPlan Plan(Tensor batched, Shape outputShape, Dim3 padLo) =>
        new(batched.Shape[0], Groups, InChannels, OutChannels, new Dims(batched.Shape.Skip(2).ToArray()).To3D(),
            new Dims(outputShape.Skip(outputShape.Rank - SpatialRank).ToArray()).To3D(), KernelSize.To3D(), Stride.To3D(), Dilation.To3D(), padLo);

    /// <inheritdoc/>
    public override IEnumerable<(string Name, Tensor Value)> Parameters() =>
        Bias is null ? [("weight", Weight)] : [("weight", Weight), ("bias", Bias)];
}

/// <summary>
/// The N-dimensional convolution behind <see cref="Conv1d"/>, <see cref="Conv2d"/> and
/// <see cref="Conv3d"/>: PyTorch's <c>torch.nn.ConvNd</c> in eval mode.
/// <para>
/// Arguments, defaults and formulas are PyTorch's: <c>stride=1</c>, <c>padding=0</c> (an int, a
/// tuple, <see cref="Padding.Same"/> or <see cref="Padding.Valid"/>), <c>dilation=1</c>,
/// <c>groups=1</c>, <c>bias=True</c>, <c>padding_mode='zeros'</c>. Weight
/// <c>[out_channels, in_channels/groups, k...]</c>, bias <c>[out_channels]</c>. For each spatial
/// dimension, <c>out = ⌊(in + before + after − dilation·(kernel − 1) − 1) / stride⌋ + 1</c>
/// (<see cref="WindowFormula.Output"/>). <c>"same"</c> pads <c>dilation·(kernel − 1)</c> split
/// <c>total/2</c> before and the rest after, as PyTorch:
/// </para>
/// <code>
///   kernel 4, "same":   [p | x0 x1 x2 x3 x4 | p p]     one before, two after
/// </code>
/// Input <c>(N, C, ...)</c> or unbatched <c>(C, ...)</c>.
/// </summary>
public abstract record ConvNd : ConvLayer
{
    private protected ConvNd(int rank, Args a) : base(rank, a.In, a.Out, a.Kernel, a.Stride, a.Dilation, a.Groups, a.Weight, a.Bias)
    {
        Padding = a.Padding ?? 0;
        PaddingMode = a.Mode;
        Validate();
    }

    /// <summary>Padding as given (sizes, same or valid).</summary>
    public Padding Padding { get; init; }

    /// <summary>How padding is filled.</summary>
    public PaddingMode PaddingMode { get; init; }

    /// <inheritdoc/>
    public override string TypeName => $"Conv{SpatialRank}d";

    /// <summary>The weight shape PyTorch uses for these arguments: <c>[out_channels, in_channels/groups, k...]</c>.</summary>
    public static Shape WeightShape(int inChannels, int outChannels, Dims kernelSize, int groups) =>
        new Shape(outChannels, inChannels / Math.Max(groups, 1)).Concat(new Shape(kernelSize.Values));

    private protected override Shape ExpectedWeightShape => WeightShape(InChannels, OutChannels, KernelSize, Groups);

    /// <summary>Padding (before, after) per spatial dimension, with "same" resolved.</summary>
    public (Dims Before, Dims After) ResolvedPadding => Padding.Resolve(KernelSize, Dilation, TypeName);

    /// <summary>Checks the arguments against each other and the weights (also run on <c>with</c> variants, when used).</summary>
    private void Validate()
    {
        ValidateCommon();
        if (Padding.Kind == PaddingKind.Same && !Stride.All(1))
            throw new ShapeException($"{TypeName}: padding='same' is not supported for strided convolutions (stride={Stride})");
        Padding.Resolve(KernelSize, Dilation, TypeName);
    }

    /// <inheritdoc/>
    public override Shape OutputShape(Shape input)
    {
        Validate();
        bool batched = ConvChecks.Input(this, input, SpatialRank, InChannels, Groups);
        var (before, after) = ResolvedPadding;
        var spatial = input.Skip(input.Rank - SpatialRank);
        var output = new int[SpatialRank];
        for (int i = 0; i < SpatialRank; i++)
        {
            int n = spatial[i];
            if (PaddingMode == PaddingMode.Reflect && (before[i] >= n || after[i] >= n))
                throw Error($"padding ({before[i]}, {after[i]}) must be smaller than the input size {n} of spatial dimension {i} for padding_mode='reflect' (input {input})");
            if (PaddingMode == PaddingMode.Circular && (before[i] > n || after[i] > n))
                throw Error($"padding ({before[i]}, {after[i]}) must be at most the input size {n} of spatial dimension {i} for padding_mode='circular' (input {input})");
            long size = WindowFormula.Output(n, KernelSize[i], Stride[i], before[i], after[i], Dilation[i]);
            if (size < 1)
                throw Error($"output size {size} < 1 in spatial dimension {i}: ⌊(in {n} + padding {before[i]}+{after[i]} − dilation {Dilation[i]}·(kernel {KernelSize[i]} − 1) − 1) / stride {Stride[i]}⌋ + 1; the dilated kernel is larger than the padded input {input}");
            output[i] = Extent(size, $"the output size in spatial dimension {i} (input {input})");
        }
        var lead = batched ? new Shape(input[0], OutChannels) : new Shape(OutChannels);
        return lead.Concat(new Shape(output));
    }

    /// <summary>Each weight tensor's repacked forms, kept as long as the (immutable) tensor lives.</summary>
    private static readonly ConditionalWeakTable<Tensor, ConvWeights> Prepared = [];

    /// <inheritdoc/>
    protected override Tensor Compute(Tensor input, Shape outputShape) => Compute(input, outputShape, PostOp.None);

    /// <summary><see cref="Compute(Tensor, Shape)"/> with <paramref name="post"/> applied in the kernel's epilogue (fusion).</summary>
    internal Tensor Compute(Tensor input, Shape outputShape, PostOp post)
    {
        bool batched = input.Rank == SpatialRank + 2;
        var x = batched ? input : input.Unsqueeze(0);
        var (before, after) = ResolvedPadding;
        var padLo = before.To3D(0);
        if (PaddingMode != PaddingMode.Zeros && !(before.All(0) && after.All(0)))
        {
            // Reflect, replicate and circular padding are materialised; the kernel then pads nothing.
            x = Pad.Apply(x, before, after, PaddingMode);
            padLo = new Dim3(0, 0, 0);
        }
        var y = TensorPool.Rent(outputShape);
        // Weight.Span first: a disposed weight fails here instead of its cached repacking living on.
        _ = Weight.Span;
        var weights = Prepared.GetValue(Weight, static w => new ConvWeights(w.Buffer));
        Convolution.Forward(Plan(x, outputShape, padLo), x.Span, weights, Bias is null ? [] : Bias.Span, y, post);
        if (!ReferenceEquals(x, input)) x.Dispose(); // the batched view or the padded copy
        return Tensor.Own(y, outputShape);
    }

    /// <inheritdoc/>
    protected override string ExtraRepr() =>
        ConvChecks.Repr(InChannels, OutChannels, KernelSize, Stride, Padding, Dilation, null, Groups, Bias is not null, PaddingMode);

    /// <summary>
    /// Builds a convolution of rank <paramref name="rank"/> with weights fetched from
    /// <paramref name="weights"/> (<c>weight</c>, <c>bias</c>) and PyTorch's constructor arguments.
    /// </summary>
    public static ConvNd Load(int rank, Weights weights, int inChannels, int outChannels, Dims kernelSize, Dims? stride = null,
        Padding? padding = null, Dims? dilation = null, int groups = 1, bool bias = true, PaddingMode paddingMode = PaddingMode.Zeros)
    {
        string name = $"Conv{rank}d";
        ConvChecks.Channels(name, inChannels, outChannels, groups);
        var k = kernelSize.Expand(rank, "kernel_size", name);
        var (w, b) = ConvChecks.LoadWeights(weights, WeightShape(inChannels, outChannels, k, groups), bias, outChannels);
        return Members.Create(rank, new(inChannels, outChannels, k, stride, padding, dilation, groups, paddingMode, w, b));
    }

    /// <summary>Constructor arguments shared by every rank.</summary>
    internal readonly record struct Args(int In, int Out, Dims Kernel, Dims? Stride, Padding? Padding, Dims? Dilation, int Groups,
        PaddingMode Mode, Tensor Weight, Tensor? Bias);

    private static readonly ByRank<Args, ConvNd> Members = new("convolutions have", a => new Conv1d(a), a => new Conv2d(a), a => new Conv3d(a));
}

/// <summary><c>torch.nn.Conv1d</c>: input <c>(N, C, L)</c> or <c>(C, L)</c>. See <see cref="ConvNd"/>.</summary>
public sealed record Conv1d : ConvNd
{
    internal Conv1d(Args a) : base(1, a) { }

    /// <summary>A Conv1d with weights from <paramref name="weights"/> (<c>weight</c>, <c>bias</c>), PyTorch's arguments and defaults.</summary>
    public static Conv1d Load(Weights weights, int inChannels, int outChannels, Dims kernelSize, Dims? stride = null, Padding? padding = null,
        Dims? dilation = null, int groups = 1, bool bias = true, PaddingMode paddingMode = PaddingMode.Zeros) =>
        (Conv1d)Load(1, weights, inChannels, outChannels, kernelSize, stride, padding, dilation, groups, bias, paddingMode);
}

/// <summary><c>torch.nn.Conv2d</c>: input <c>(N, C, H, W)</c> or <c>(C, H, W)</c>. See <see cref="ConvNd"/>.</summary>
public sealed record Conv2d : ConvNd
{
    internal Conv2d(Args a) : base(2, a) { }

    /// <summary>A Conv2d with weights from <paramref name="weights"/> (<c>weight</c>, <c>bias</c>), PyTorch's arguments and defaults.</summary>
    public static Conv2d Load(Weights weights, int inChannels, int outChannels, Dims kernelSize, Dims? stride = null, Padding? padding = null,
        Dims? dilation = null, int groups = 1, bool bias = true, PaddingMode paddingMode = PaddingMode.Zeros) =>
        (Conv2d)Load(2, weights, inChannels, outChannels, kernelSize, stride, padding, dilation, groups, bias, paddingMode);
}

/// <summary><c>torch.nn.Conv3d</c>: input <c>(N, C, D, H, W)</c> or <c>(C, D, H, W)</c>. See <see cref="ConvNd"/>.</summary>
public sealed record Conv3d : ConvNd
{
    internal Conv3d(Args a) : base(3, a) { }

    /// <summary>A Conv3d with weights from <paramref name="weights"/> (<c>weight</c>, <c>bias</c>), PyTorch's arguments and defaults.</summary>
    public static Conv3d Load(Weights weights, int inChannels, int outChannels, Dims kernelSize, Dims? stride = null, Padding? padding = null,
        Dims? dilation = null, int groups = 1, bool bias = true, PaddingMode paddingMode = PaddingMode.Zeros) =>
        (Conv3d)Load(3, weights, inChannels, outChannels, kernelSize, stride, padding, dilation, groups, bias, paddingMode);
}

/// <summary>Checks and printing shared by convolutions and transposed convolutions.</summary>
internal static class ConvChecks
{
    public static void Channels(string name, int inChannels, int outChannels, int groups)
    {
        if (groups < 1) throw new ShapeException($"{name}: groups must be a positive integer, got {groups}");
        if (inChannels < 1 || outChannels < 1)
            throw new ShapeException($"{name}: in_channels and out_channels must be positive, got {inChannels} and {outChannels}");
        if (inChannels % groups != 0) throw new ShapeException($"{name}: in_channels ({inChannels}) must be divisible by groups ({groups})");
        if (outChannels % groups != 0) throw new ShapeException($"{name}: out_channels ({outChannels}) must be divisible by groups ({groups})");
    }

    public static void Positive(string name, string argument, Dims values)
    {
        foreach (int v in values.Values)
            if (v < 1) throw new ShapeException($"{name}: {argument} must be at least 1 in every dimension, got {argument}={values}");
    }

    public static void Weights(string name, Tensor weight, Shape expected, Tensor? bias, int outChannels)
    {
        if (weight.Shape != expected) throw new ShapeException($"{name}: weight has shape {weight.Shape}, expected {expected}");
        if (bias is not null && bias.Shape != new Shape(outChannels))
            throw new ShapeException($"{name}: bias has shape {bias.Shape}, expected [{outChannels}]");
    }

    public static (Tensor Weight, Tensor? Bias) LoadWeights(Functional.Weights weights, Shape weightShape, bool bias, int biasLength)
    {
        // PyTorch's reset_parameters: kaiming_uniform(a=√5) gives bound 1/√fan_in for weight and bias alike,
        // with fan_in taken from dimension 1 of the weight (also for transposed weights).
        long fanIn = weightShape.Skip(1).ElementCount;
        var w = weights.Get("weight", weightShape, WeightInit.FanIn(fanIn));
        var b = bias ? weights.Get("bias", new Shape(biasLength), WeightInit.FanIn(fanIn)) : null;
        return (w, b);
    }

    /// <summary>Checks rank and channels; returns whether the input is batched.</summary>
    public static bool Input(Layer layer, Shape input, int rank, int inChannels, int groups)
    {
        if (input.Rank != rank + 1 && input.Rank != rank + 2)
            throw new ShapeException($"{layer}: expected {rank + 1}D (unbatched) or {rank + 2}D (batched) input to {layer.TypeName.ToLowerInvariant()}, but got input of size: {input}");
        bool batched = input.Rank == rank + 2;
        int c = input[batched ? 1 : 0];
        if (c != inChannels)
            throw new ShapeException($"{layer}: given groups={groups}, expected input{input} to have {inChannels} channels, but got {c} channels instead");
        return batched;
    }

    /// <summary>PyTorch's <c>_ConvNd.extra_repr</c>.</summary>
    public static string Repr(int inChannels, int outChannels, Dims kernel, Dims stride, Padding padding, Dims dilation,
        Dims? outputPadding, int groups, bool bias, PaddingMode mode)
    {
        var s = $"{inChannels}, {outChannels}, kernel_size={kernel}, stride={stride}";
        if (padding.Kind != PaddingKind.Explicit || !padding.Sizes.Expand(kernel.Count, "padding", "").All(0)) s += $", padding={Expanded(padding, kernel.Count)}";
        if (!dilation.All(1)) s += $", dilation={dilation}";
        if (outputPadding is { } op && !op.All(0)) s += $", output_padding={op}";
        if (groups != 1) s += $", groups={groups}";
        if (!bias) s += ", bias=False";
        if (mode != PaddingMode.Zeros) s += $", padding_mode={mode.ToString().ToLowerInvariant()}";
        return s;
    }

    private static string Expanded(Padding p, int rank) => p.Kind == PaddingKind.Explicit ? p.Sizes.Expand(rank, "padding", "").ToString() : p.ToString();
}

/// <summary>
/// The N-dimensional transposed convolution behind <see cref="ConvTranspose1d"/>,
/// <see cref="ConvTranspose2d"/> and <see cref="ConvTranspose3d"/>: PyTorch's
/// <c>torch.nn.ConvTransposeNd</c>, the adjoint (gradient) of the convolution with the same
/// arguments. Weight <c>[in_channels, out_channels/groups, k...]</c>, bias <c>[out_channels]</c>;
/// <c>out = (in − 1)·stride − 2·padding + dilation·(kernel − 1) + output_padding + 1</c>
/// (<see cref="WindowFormula.TransposedOutput"/>). <c>output_padding</c> (smaller than stride or
/// dilation) picks among the input sizes a strided convolution maps to the same output; the
/// call-time <c>output_size</c> (<see cref="Forward(Tensor, IReadOnlyList{int})"/>) picks it for you.
/// Computed as GEMM + col2im in the kernel library, never by inserting zeros.
/// </summary>
public abstract record ConvTransposeNd : ConvLayer, IAcceptsOutputSize
{
    private protected ConvTransposeNd(int rank, Args a) : base(rank, a.In, a.Out, a.Kernel, a.Stride, a.Dilation, a.Groups, a.Weight, a.Bias)
    {
        Padding = a.Padding ?? 0;
        OutputPadding = a.OutputPadding ?? 0;
        Validate();
    }

    /// <summary>Padding per spatial dimension (removed from both ends of the full output).</summary>
    public Dims Padding { get; init => field = value.Expand(SpatialRank, "padding", TypeName); }

    /// <summary>Extra size added to one side of the output per spatial dimension.</summary>
    public Dims OutputPadding { get; init => field = value.Expand(SpatialRank, "output_padding", TypeName); }

    /// <inheritdoc/>
    public override string TypeName => $"ConvTranspose{SpatialRank}d";

    /// <summary>The weight shape PyTorch uses for these arguments: <c>[in_channels, out_channels/groups, k...]</c>.</summary>
    public static Shape WeightShape(int inChannels, int outChannels, Dims kernelSize, int groups) =>
        new Shape(inChannels, outChannels / Math.Max(groups, 1)).Concat(new Shape(kernelSize.Values));

    private protected override Shape ExpectedWeightShape => WeightShape(InChannels, OutChannels, KernelSize, Groups);

    private void Validate()
    {
        ValidateCommon();
        for (int i = 0; i < SpatialRank; i++)
        {
            if (Padding[i] < 0) throw new ShapeException($"{TypeName}: padding must be non-negative, got {Padding}");
            int op = OutputPadding[i];
            if (op < 0 || (op >= Stride[i] && op >= Dilation[i]))
                throw new ShapeException($"{TypeName}: output padding must be smaller than either stride or dilation, but got output_padding={OutputPadding}, stride={Stride}, dilation={Dilation}");
        }
    }

    /// <inheritdoc/>
    public override Shape OutputShape(Shape input) => OutputShape(input, OutputPadding);

    private Shape OutputShape(Shape input, Dims outputPadding)
    {
        Validate();
        bool batched = ConvChecks.Input(this, input, SpatialRank, InChannels, Groups);
        var output = new int[SpatialRank];
        for (int i = 0; i < SpatialRank; i++)
        {
            int n = input[input.Rank - SpatialRank + i];
            long size = WindowFormula.TransposedOutput(n, KernelSize[i], Stride[i], Padding[i], Padding[i], Dilation[i], outputPadding[i]);
            if (size < 1)
                throw Error($"output size {size} < 1 in spatial dimension {i}: (in {n} − 1)·stride {Stride[i]} − 2·padding {Padding[i]} + dilation {Dilation[i]}·(kernel {KernelSize[i]} − 1) + output_padding {outputPadding[i]} + 1 (input {input})");
            output[i] = Extent(size, $"the output size in spatial dimension {i} (input {input})");
        }
        var lead = batched ? new Shape(input[0], OutChannels) : new Shape(OutChannels);
        return lead.Concat(new Shape(output));
    }

    /// <summary>
    /// The output padding PyTorch derives from a call-time <c>output_size</c>: spatial sizes,
    /// optionally preceded by the batch and channel sizes (or the channel size, unbatched). Each
    /// size must lie between the formula's value without output padding and that plus stride − 1.
    /// </summary>
    public Dims OutputPaddingFor(Shape input, IReadOnlyList<int> outputSize)
    {
        bool batched = ConvChecks.Input(this, input, SpatialRank, InChannels, Groups);
        int nonSpatial = batched ? 2 : 1;
        var sizes = outputSize.Count == nonSpatial + SpatialRank ? outputSize.Skip(nonSpatial).ToArray() : outputSize.ToArray();
        if (sizes.Length != SpatialRank)
            throw Error($"for {input.Rank}D input, output_size must have {SpatialRank} or {SpatialRank + nonSpatial} elements (got {outputSize.Count})");
        var padding = new int[SpatialRank];
        for (int i = 0; i < SpatialRank; i++)
        {
            int n = input[input.Rank - SpatialRank + i];
            long min = WindowFormula.TransposedOutput(n, KernelSize[i], Stride[i], Padding[i], Padding[i], Dilation[i], 0);
            long max = min + Stride[i] - 1;
            if (sizes[i] < min || sizes[i] > max)
                throw Error($"requested an output size of [{string.Join(", ", sizes)}], but valid sizes range from {min} to {max} in spatial dimension {i} (for an input of {input})");
            padding[i] = (int)(sizes[i] - min); // below stride: in range
        }
        return padding;
    }

    /// <summary>Runs with PyTorch's call-time <c>output_size</c>, which picks the output padding.</summary>
    public Tensor Forward(Tensor input, IReadOnlyList<int> outputSize)
    {
        var outputPadding = OutputPaddingFor(input.Shape, outputSize);
        return Run(input, OutputShape(input.Shape, outputPadding));
    }

    /// <inheritdoc/>
    protected override Tensor Compute(Tensor input, Shape outputShape) => Run(input, outputShape);

    private Tensor Run(Tensor input, Shape outputShape)
    {
        var x = input.Rank == SpatialRank + 2 ? input : input.Unsqueeze(0);
        var y = TensorPool.Rent(outputShape);
        Convolution.Transposed(Plan(x, outputShape, Padding.To3D(0)), x.Span, Weight.Span, Bias is null ? [] : Bias.Span, y);
        if (!ReferenceEquals(x, input)) x.Dispose(); // the batched view
        return Tensor.Own(y, outputShape);
    }

    /// <inheritdoc/>
    protected override string ExtraRepr() =>
        ConvChecks.Repr(InChannels, OutChannels, KernelSize, Stride, Padding, Dilation, OutputPadding, Groups, Bias is not null, PaddingMode.Zeros);

    /// <summary>
    /// Builds a transposed convolution of rank <paramref name="rank"/> with weights fetched from
    /// <paramref name="weights"/> (<c>weight</c>, <c>bias</c>) and PyTorch's constructor arguments.
    /// </summary>
    public static ConvTransposeNd Load(int rank, Weights weights, int inChannels, int outChannels, Dims kernelSize, Dims? stride = null,
        Dims? padding = null, Dims? outputPadding = null, int groups = 1, bool bias = true, Dims? dilation = null)
    {
        string name = $"ConvTranspose{rank}d";
        ConvChecks.Channels(name, inChannels, outChannels, groups);
        var k = kernelSize.Expand(rank, "kernel_size", name);
        var (w, b) = ConvChecks.LoadWeights(weights, WeightShape(inChannels, outChannels, k, groups), bias, outChannels);
        return Members.Create(rank, new(inChannels, outChannels, k, stride, padding, outputPadding, groups, dilation, w, b));
    }

    /// <summary>Constructor arguments shared by every rank.</summary>
    internal readonly record struct Args(int In, int Out, Dims Kernel, Dims? Stride, Dims? Padding, Dims? OutputPadding, int Groups,
        Dims? Dilation, Tensor Weight, Tensor? Bias);

    private static readonly ByRank<Args, ConvTransposeNd> Members =
        new("transposed convolutions have", a => new ConvTranspose1d(a), a => new ConvTranspose2d(a), a => new ConvTranspose3d(a));
}

/// <summary><c>torch.nn.ConvTranspose1d</c>. See <see cref="ConvTransposeNd"/>.</summary>
public sealed record ConvTranspose1d : ConvTransposeNd
{
    internal ConvTranspose1d(Args a) : base(1, a) { }

    /// <summary>A ConvTranspose1d with weights from <paramref name="weights"/>, PyTorch's arguments and defaults.</summary>
    public static ConvTranspose1d Load(Weights weights, int inChannels, int outChannels, Dims kernelSize, Dims? stride = null, Dims? padding = null,
        Dims? outputPadding = null, int groups = 1, bool bias = true, Dims? dilation = null) =>
        (ConvTranspose1d)Load(1, weights, inChannels, outChannels, kernelSize, stride, padding, outputPadding, groups, bias, dilation);
}

/// <summary><c>torch.nn.ConvTranspose2d</c>. See <see cref="ConvTransposeNd"/>.</summary>
public sealed record ConvTranspose2d : ConvTransposeNd
{
    internal ConvTranspose2d(Args a) : base(2, a) { }

    /// <summary>A ConvTranspose2d with weights from <paramref name="weights"/>, PyTorch's arguments and defaults.</summary>
    public static ConvTranspose2d Load(Weights weights, int inChannels, int outChannels, Dims kernelSize, Dims? stride = null, Dims? padding = null,
        Dims? outputPadding = null, int groups = 1, bool bias = true, Dims? dilation = null) =>
        (ConvTranspose2d)Load(2, weights, inChannels, outChannels, kernelSize, stride, padding, outputPadding, groups, bias, dilation);
}

/// <summary><c>torch.nn.ConvTranspose3d</c>. See <see cref="ConvTransposeNd"/>.</summary>
public sealed record ConvTranspose3d : ConvTransposeNd
{
    internal ConvTranspose3d(Args a) : base(3, a) { }

    /// <summary>A ConvTranspose3d with weights from <paramref name="weights"/>, PyTorch's arguments and defaults.</summary>
    public static ConvTranspose3d Load(Weights weights, int inChannels, int outChannels, Dims kernelSize, Dims? stride = null, Dims? padding = null,
        Dims? outputPadding = null, int groups = 1, bool bias = true, Dims? dilation = null) =>
        (ConvTranspose3d)Load(3, weights, inChannels, outChannels, kernelSize, stride, padding, outputPadding, groups, bias, dilation);
}
