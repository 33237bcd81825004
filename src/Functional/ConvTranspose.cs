using Functional.Kernels;

namespace Functional;

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
    private protected ConvTransposeNd(int rank, int inChannels, int outChannels, Dims kernelSize, Dims? stride, Dims? padding,
        Dims? outputPadding, int groups, Dims? dilation, Tensor weight, Tensor? bias)
        : base(rank, inChannels, outChannels, kernelSize, stride, dilation, groups, weight, bias)
    {
        Padding = padding ?? 0;
        OutputPadding = outputPadding ?? 0;
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
            output[i] = WindowFormula.TransposedOutput(n, KernelSize[i], Stride[i], Padding[i], Padding[i], Dilation[i], outputPadding[i]);
            if (output[i] < 1)
                throw Error($"output size {output[i]} < 1 in spatial dimension {i}: (in {n} − 1)·stride {Stride[i]} − 2·padding {Padding[i]} + dilation {Dilation[i]}·(kernel {KernelSize[i]} − 1) + output_padding {outputPadding[i]} + 1 (input {input})");
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
            int min = WindowFormula.TransposedOutput(n, KernelSize[i], Stride[i], Padding[i], Padding[i], Dilation[i], 0);
            int max = min + Stride[i] - 1;
            if (sizes[i] < min || sizes[i] > max)
                throw Error($"requested an output size of [{string.Join(", ", sizes)}], but valid sizes range from {min} to {max} in spatial dimension {i} (for an input of {input})");
            padding[i] = sizes[i] - min;
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
        return rank switch
        {
            1 => new ConvTranspose1d(inChannels, outChannels, k, stride, padding, outputPadding, groups, dilation, w, b),
            2 => new ConvTranspose2d(inChannels, outChannels, k, stride, padding, outputPadding, groups, dilation, w, b),
            3 => new ConvTranspose3d(inChannels, outChannels, k, stride, padding, outputPadding, groups, dilation, w, b),
            _ => throw new ShapeException($"transposed convolutions have 1, 2 or 3 spatial dimensions, not {rank}"),
        };
    }
}

/// <summary><c>torch.nn.ConvTranspose1d</c>. See <see cref="ConvTransposeNd"/>.</summary>
public sealed record ConvTranspose1d : ConvTransposeNd
{
    internal ConvTranspose1d(int i, int o, Dims k, Dims? s, Dims? p, Dims? op, int g, Dims? d, Tensor w, Tensor? b) : base(1, i, o, k, s, p, op, g, d, w, b) { }

    /// <summary>A ConvTranspose1d with weights from <paramref name="weights"/>, PyTorch's arguments and defaults.</summary>
    public static ConvTranspose1d Load(Weights weights, int inChannels, int outChannels, Dims kernelSize, Dims? stride = null, Dims? padding = null,
        Dims? outputPadding = null, int groups = 1, bool bias = true, Dims? dilation = null) =>
        (ConvTranspose1d)Load(1, weights, inChannels, outChannels, kernelSize, stride, padding, outputPadding, groups, bias, dilation);
}

/// <summary><c>torch.nn.ConvTranspose2d</c>. See <see cref="ConvTransposeNd"/>.</summary>
public sealed record ConvTranspose2d : ConvTransposeNd
{
    internal ConvTranspose2d(int i, int o, Dims k, Dims? s, Dims? p, Dims? op, int g, Dims? d, Tensor w, Tensor? b) : base(2, i, o, k, s, p, op, g, d, w, b) { }

    /// <summary>A ConvTranspose2d with weights from <paramref name="weights"/>, PyTorch's arguments and defaults.</summary>
    public static ConvTranspose2d Load(Weights weights, int inChannels, int outChannels, Dims kernelSize, Dims? stride = null, Dims? padding = null,
        Dims? outputPadding = null, int groups = 1, bool bias = true, Dims? dilation = null) =>
        (ConvTranspose2d)Load(2, weights, inChannels, outChannels, kernelSize, stride, padding, outputPadding, groups, bias, dilation);
}

/// <summary><c>torch.nn.ConvTranspose3d</c>. See <see cref="ConvTransposeNd"/>.</summary>
public sealed record ConvTranspose3d : ConvTransposeNd
{
    internal ConvTranspose3d(int i, int o, Dims k, Dims? s, Dims? p, Dims? op, int g, Dims? d, Tensor w, Tensor? b) : base(3, i, o, k, s, p, op, g, d, w, b) { }

    /// <summary>A ConvTranspose3d with weights from <paramref name="weights"/>, PyTorch's arguments and defaults.</summary>
    public static ConvTranspose3d Load(Weights weights, int inChannels, int outChannels, Dims kernelSize, Dims? stride = null, Dims? padding = null,
        Dims? outputPadding = null, int groups = 1, bool bias = true, Dims? dilation = null) =>
        (ConvTranspose3d)Load(3, weights, inChannels, outChannels, kernelSize, stride, padding, outputPadding, groups, bias, dilation);
}
