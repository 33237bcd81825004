using Functional.Kernels;

namespace Functional;

/// <summary>
/// <c>torch.nn.AdaptiveAvgPoolNd</c> / <c>AdaptiveMaxPoolNd</c>: pools to a fixed output size
/// whatever the input size. Output cell <c>o</c> of a dimension covers input
/// <c>[⌊o·in/out⌋, ⌈(o+1)·in/out⌉)</c> (PyTorch's start/end rule, so windows overlap when the sizes
/// do not divide). A null entry of <see cref="OutputSize"/> keeps that input dimension.
/// </summary>
public abstract record AdaptivePoolNd : Layer
{
    private protected AdaptivePoolNd(int rank, int?[] outputSize)
    {
        SpatialRank = rank;
        OutputSize = outputSize;
    }

    /// <summary>1, 2 or 3.</summary>
    public int SpatialRank { get; }

    /// <summary>Target size per spatial dimension as given (one entry stands for all); null keeps the input's size.</summary>
    public IReadOnlyList<int?> OutputSize
    {
        get;
        init
        {
            if (value.Count != 1 && value.Count != SpatialRank)
                throw new ShapeException($"{TypeName}: output_size must have 1 or {SpatialRank} entries, got {value.Count}");
            if (value.Any(v => v is < 1))
                throw new ShapeException($"{TypeName}: output_size entries must be positive (or None), got {Repr(value)}");
            field = value.ToArray();
        }
    } = [];

    /// <inheritdoc/>
    public override Shape OutputShape(Shape input)
    {
        int lead = PoolChecks.Lead(this, input, SpatialRank);
        var output = input.ToArray();
        for (int i = 0; i < SpatialRank; i++)
        {
            if (input[lead + i] < 1) throw Error($"input {input} has an empty spatial dimension {i}");
            output[lead + i] = (OutputSize.Count == 1 ? OutputSize[0] : OutputSize[i]) ?? input[lead + i];
        }
        return new Shape(output);
    }

    private protected (int Planes, Dim3 In, Dim3 Out) Geometry(Shape input, Shape output)
    {
        int lead = input.Rank - SpatialRank;
        return (checked((int)input.Take(lead).ElementCount), new Dims(input.Skip(lead).ToArray()).To3D(), new Dims(output.Skip(lead).ToArray()).To3D());
    }

    /// <inheritdoc/>
    protected override string ExtraRepr() => $"output_size={Repr(OutputSize)}";

    private static string Repr(IReadOnlyList<int?> v) =>
        v.Count == 1 ? (v[0]?.ToString() ?? "None")
        : "(" + string.Join(", ", v.Select(x => x?.ToString() ?? "None")) + (v.Count == 1 ? ",)" : ")");
}

/// <summary><c>torch.nn.AdaptiveAvgPool1d/2d/3d</c>. See <see cref="AdaptivePoolNd"/>.</summary>
public abstract record AdaptiveAvgPoolNd : AdaptivePoolNd
{
    private protected AdaptiveAvgPoolNd(int rank, int?[] outputSize) : base(rank, outputSize) { }

    /// <inheritdoc/>
    public override string TypeName => $"AdaptiveAvgPool{SpatialRank}d";

    /// <inheritdoc/>
    protected override Tensor Compute(Tensor input, Shape outputShape)
    {
        var (planes, i, o) = Geometry(input.Shape, outputShape);
        var y = TensorPool.Rent(outputShape);
        AdaptivePooling.Avg(planes, i, o, input.Span, y);
        return Tensor.Own(y, outputShape);
    }
}

/// <summary><c>torch.nn.AdaptiveMaxPool1d/2d/3d</c>, with PyTorch's indices on request. See <see cref="AdaptivePoolNd"/>.</summary>
public abstract record AdaptiveMaxPoolNd : AdaptivePoolNd, IReturnsIndices
{
    private protected AdaptiveMaxPoolNd(int rank, int?[] outputSize, bool returnIndices) : base(rank, outputSize) => ReturnIndices = returnIndices;

    /// <summary>Whether the PyTorch module returns indices too (see <see cref="ForwardWithIndices"/>).</summary>
    public bool ReturnIndices { get; init; }

    /// <inheritdoc/>
    public override string TypeName => $"AdaptiveMaxPool{SpatialRank}d";

    /// <inheritdoc/>
    protected override Tensor Compute(Tensor input, Shape outputShape) => Run(input, outputShape, wantIndices: false).Output;

    /// <summary>The pooled values and the flat index of each maximum within its input plane.</summary>
    public (Tensor Output, IndexTensor Indices) ForwardWithIndices(Tensor input)
    {
        var (y, idx) = Run(input, OutputShape(input.Shape), wantIndices: true);
        return (y, idx!);
    }

    private (Tensor Output, IndexTensor? Indices) Run(Tensor input, Shape outputShape, bool wantIndices)
    {
        var (planes, i, o) = Geometry(input.Shape, outputShape);
        var y = TensorPool.Rent(outputShape);
        var idx = wantIndices ? GC.AllocateUninitializedArray<long>(y.Length) : [];
        AdaptivePooling.Max(planes, i, o, input.Span, y, idx);
        return (Tensor.Own(y, outputShape), wantIndices ? IndexTensor.Own(idx, outputShape) : null);
    }
}

/// <summary><c>torch.nn.AdaptiveAvgPool1d</c>. See <see cref="AdaptivePoolNd"/>.</summary>
public sealed record AdaptiveAvgPool1d : AdaptiveAvgPoolNd
{
    /// <summary>Pools to <paramref name="outputSize"/> (one entry for every dimension, or one per dimension; null keeps the input's size).</summary>
    public AdaptiveAvgPool1d(params int?[] outputSize) : base(1, outputSize) { }
}

/// <summary><c>torch.nn.AdaptiveMaxPool1d</c>. See <see cref="AdaptivePoolNd"/>.</summary>
public sealed record AdaptiveMaxPool1d : AdaptiveMaxPoolNd
{
    /// <summary>Pools to <paramref name="outputSize"/> (null entries keep the input's size); PyTorch's return_indices.</summary>
    public AdaptiveMaxPool1d(int?[] outputSize, bool returnIndices = false) : base(1, outputSize, returnIndices) { }

    /// <summary>Pools every spatial dimension to <paramref name="outputSize"/>.</summary>
    public AdaptiveMaxPool1d(int outputSize, bool returnIndices = false) : base(1, [outputSize], returnIndices) { }
}

/// <summary><c>torch.nn.AdaptiveAvgPool2d</c>. See <see cref="AdaptivePoolNd"/>.</summary>
public sealed record AdaptiveAvgPool2d : AdaptiveAvgPoolNd
{
    /// <summary>Pools to <paramref name="outputSize"/> (one entry for every dimension, or one per dimension; null keeps the input's size).</summary>
    public AdaptiveAvgPool2d(params int?[] outputSize) : base(2, outputSize) { }
}

/// <summary><c>torch.nn.AdaptiveMaxPool2d</c>. See <see cref="AdaptivePoolNd"/>.</summary>
public sealed record AdaptiveMaxPool2d : AdaptiveMaxPoolNd
{
    /// <summary>Pools to <paramref name="outputSize"/> (null entries keep the input's size); PyTorch's return_indices.</summary>
    public AdaptiveMaxPool2d(int?[] outputSize, bool returnIndices = false) : base(2, outputSize, returnIndices) { }

    /// <summary>Pools every spatial dimension to <paramref name="outputSize"/>.</summary>
    public AdaptiveMaxPool2d(int outputSize, bool returnIndices = false) : base(2, [outputSize], returnIndices) { }
}

/// <summary><c>torch.nn.AdaptiveAvgPool3d</c>. See <see cref="AdaptivePoolNd"/>.</summary>
public sealed record AdaptiveAvgPool3d : AdaptiveAvgPoolNd
{
    /// <summary>Pools to <paramref name="outputSize"/> (one entry for every dimension, or one per dimension; null keeps the input's size).</summary>
    public AdaptiveAvgPool3d(params int?[] outputSize) : base(3, outputSize) { }
}

/// <summary><c>torch.nn.AdaptiveMaxPool3d</c>. See <see cref="AdaptivePoolNd"/>.</summary>
public sealed record AdaptiveMaxPool3d : AdaptiveMaxPoolNd
{
    /// <summary>Pools to <paramref name="outputSize"/> (null entries keep the input's size); PyTorch's return_indices.</summary>
    public AdaptiveMaxPool3d(int?[] outputSize, bool returnIndices = false) : base(3, outputSize, returnIndices) { }

    /// <summary>Pools every spatial dimension to <paramref name="outputSize"/>.</summary>
    public AdaptiveMaxPool3d(int outputSize, bool returnIndices = false) : base(3, [outputSize], returnIndices) { }
}

/// <summary>
/// <c>torch.nn.MaxUnpoolNd</c>: the partial inverse of a max pool. Each input value goes to the
/// position its index names in a zero output of size <c>(in − 1)·stride − 2·padding + kernel</c>
/// per dimension, or the call-time <c>output_size</c> (within a stride of that default).
/// </summary>
public abstract record MaxUnpoolNd : Layer, IUnpool
{
    private protected MaxUnpoolNd(int rank, Dims kernelSize, Dims? stride, Dims? padding)
    {
        SpatialRank = rank;
        string n = TypeName;
        KernelSize = kernelSize.Expand(rank, "kernel_size", n);
        Stride = (stride ?? kernelSize).Expand(rank, "stride", n);
        Padding = (padding ?? 0).Expand(rank, "padding", n);
        ConvChecks.Positive(n, "kernel_size", KernelSize);
        ConvChecks.Positive(n, "stride", Stride);
    }

    /// <summary>1, 2 or 3.</summary>
    public int SpatialRank { get; }

    /// <summary>The pool's kernel size.</summary>
    public Dims KernelSize { get; init => field = value.Expand(SpatialRank, "kernel_size", TypeName); }

    /// <summary>The pool's stride (defaults to the kernel size).</summary>
    public Dims Stride { get; init => field = value.Expand(SpatialRank, "stride", TypeName); }

    /// <summary>The pool's padding.</summary>
    public Dims Padding { get; init => field = value.Expand(SpatialRank, "padding", TypeName); }

    /// <inheritdoc/>
    public override string TypeName => $"MaxUnpool{SpatialRank}d";

    /// <inheritdoc/>
    public override Shape OutputShape(Shape input) => OutputShape(input, null);

    /// <summary>The output shape, with PyTorch's optional output_size (spatial sizes, or with batch and channel sizes first).</summary>
    public Shape OutputShape(Shape input, IReadOnlyList<int>? outputSize)
    {
        int lead = PoolChecks.Lead(this, input, SpatialRank);
        var defaults = new int[SpatialRank];
        for (int i = 0; i < SpatialRank; i++)
            defaults[i] = (input[lead + i] - 1) * Stride[i] - 2 * Padding[i] + KernelSize[i];
        var sizes = defaults;
        if (outputSize is not null)
        {
            sizes = outputSize.Count == SpatialRank + 2 ? outputSize.Skip(2).ToArray() : outputSize.ToArray();
            if (sizes.Length != SpatialRank)
                throw Error($"output_size should be a sequence containing {SpatialRank} or {SpatialRank + 2} elements, but it has a length of '{outputSize.Count}'");
            for (int i = 0; i < SpatialRank; i++)
            {
                int min = defaults[i] - Stride[i], max = defaults[i] + Stride[i];
                if (!(min < sizes[i] && sizes[i] < max))
                    throw Error($"invalid output_size [{string.Join(", ", sizes)}] (dim {i} must be between {min} and {max}, exclusive)");
            }
        }
        foreach (int s in sizes)
            if (s < 1) throw Error($"output size [{string.Join(", ", sizes)}] below 1 for input {input}");
        return input.Take(lead).Concat(new Shape(sizes));
    }

    /// <inheritdoc/>
    protected override Tensor Compute(Tensor input, Shape outputShape) =>
        throw new InvalidOperationException($"{this} needs the indices of the max pool: call Forward(input, indices)");

    /// <summary>Scatters <paramref name="input"/> to <paramref name="indices"/> in a zero tensor.</summary>
    public Tensor Forward(Tensor input, IndexTensor indices, IReadOnlyList<int>? outputSize = null)
    {
        if (indices.Shape != input.Shape)
            throw Error($"indices of shape {indices.Shape} must have the input's shape {input.Shape}");
        var shape = OutputShape(input.Shape, outputSize);
        int lead = input.Rank - SpatialRank;
        var y = TensorPool.Rent(shape);
        try
        {
            Unpooling.MaxUnpool(checked((int)input.Shape.Take(lead).ElementCount), new Dims(input.Shape.Skip(lead).ToArray()).To3D(),
                new Dims(shape.Skip(lead).ToArray()).To3D(), input.Span, indices.Span, y);
        }
        catch (ArgumentException e) when (e is not ShapeException)
        {
            throw Error($"Found an invalid max index: {e.Message}");
        }
        return Tensor.Own(y, shape);
    }

    /// <inheritdoc/>
    protected override string ExtraRepr() => $"kernel_size={KernelSize}, stride={Stride}, padding={Padding}";
}

/// <summary><c>torch.nn.MaxUnpool1d</c>. See <see cref="MaxUnpoolNd"/>.</summary>
public sealed record MaxUnpool1d : MaxUnpoolNd
{
    /// <summary>PyTorch's arguments and defaults.</summary>
    public MaxUnpool1d(Dims kernelSize, Dims? stride = null, Dims? padding = null) : base(1, kernelSize, stride, padding) { }
}

/// <summary><c>torch.nn.MaxUnpool2d</c>. See <see cref="MaxUnpoolNd"/>.</summary>
public sealed record MaxUnpool2d : MaxUnpoolNd
{
    /// <summary>PyTorch's arguments and defaults.</summary>
    public MaxUnpool2d(Dims kernelSize, Dims? stride = null, Dims? padding = null) : base(2, kernelSize, stride, padding) { }
}

/// <summary><c>torch.nn.MaxUnpool3d</c>. See <see cref="MaxUnpoolNd"/>.</summary>
public sealed record MaxUnpool3d : MaxUnpoolNd
{
    /// <summary>PyTorch's arguments and defaults.</summary>
    public MaxUnpool3d(Dims kernelSize, Dims? stride = null, Dims? padding = null) : base(3, kernelSize, stride, padding) { }
}
