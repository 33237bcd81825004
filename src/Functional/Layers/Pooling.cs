using System.Numerics.Tensors;
using Functional.Kernels;

namespace Functional;

/// <summary>
/// What every sliding-window pool shares: the window (kernel, stride defaulting to the kernel,
/// symmetric padding, dilation), PyTorch's <c>ceil_mode</c> and its output-size formula
/// (<see cref="WindowFormula.Output"/> with ceil_mode's rule that the last window must start
/// inside the input or the left padding). Input <c>(N, C, ...)</c> or unbatched <c>(C, ...)</c>.
/// <code>
///   in 5, kernel 2, stride 2, padding 1, ceil_mode:   [p x0 | x1 x2 | x3 x4 | p]   3 windows, not 4:
///   a fourth would start in the right padding, so PyTorch drops it.
/// </code>
/// </summary>
public abstract record PoolNd : Layer
{
    private protected PoolNd(int rank, Dims kernelSize, Dims? stride, Dims? padding, Dims? dilation, bool ceilMode)
    {
        SpatialRank = rank;
        KernelSize = kernelSize;
        Stride = stride;
        Padding = padding ?? 0;
        Dilation = dilation ?? 1;
        CeilMode = ceilMode;
        Window();
    }

    /// <summary>1, 2 or 3.</summary>
    public int SpatialRank { get; }

    /// <summary>Window extent, as given (an int stands for every dimension).</summary>
    public Dims KernelSize { get; init; }

    /// <summary>Window step as given; null means the kernel size, PyTorch's default.</summary>
    public Dims? Stride { get; init; }

    /// <summary>Implicit padding on both sides, at most half the kernel.</summary>
    public Dims Padding { get; init; }

    /// <summary>Spacing between window taps.</summary>
    public Dims Dilation { get; init; }

    /// <summary>Round the output size up (partial windows at the end count) instead of down.</summary>
    public bool CeilMode { get; init; }

    /// <summary>The window resolved to this rank: kernel, stride, padding, dilation; validated.</summary>
    public (Dims Kernel, Dims Stride, Dims Padding, Dims Dilation) Window()
    {
        string n = TypeName;
        var k = KernelSize.Expand(SpatialRank, "kernel_size", n);
        var s = (Stride ?? KernelSize).Expand(SpatialRank, "stride", n);
        var p = Padding.Expand(SpatialRank, "padding", n);
        var d = Dilation.Expand(SpatialRank, "dilation", n);
        ConvChecks.Positive(n, "kernel_size", k);
        ConvChecks.Positive(n, "stride", s);
        ConvChecks.Positive(n, "dilation", d);
        for (int i = 0; i < SpatialRank; i++)
            if (p[i] < 0 || p[i] > k[i] / 2)
                throw new ShapeException($"{n}: pad should be at most half of kernel size, but got padding={p} for kernel_size={k}");
        return (k, s, p, d);
    }

    /// <inheritdoc/>
    public override Shape OutputShape(Shape input)
    {
        var (k, s, p, d) = Window();
        var lead = PoolChecks.Lead(this, input, SpatialRank);
        var output = new int[SpatialRank];
        for (int i = 0; i < SpatialRank; i++)
        {
            int n = input[lead + i];
            long size = WindowFormula.Output(n, k[i], s[i], p[i], p[i], d[i], CeilMode);
            if (size < 1 || n < 1)
                throw Error($"given input size {input}, the calculated output size in spatial dimension {i} is {size}: too small " +
                    $"(input {n}, padding {p[i]}, dilation {d[i]}, kernel {k[i]}, stride {s[i]}, ceil_mode={PyRepr.Bool(CeilMode)})");
            output[i] = Extent(size, $"the output size in spatial dimension {i} (input {input})");
        }
        return input.Take(lead).Concat(new Shape(output));
    }

    /// <summary>The kernel plan for an input and the output shape it gives.</summary>
    private protected PoolPlan Plan(Shape input, Shape output)
    {
        var (k, s, p, d) = Window();
        int lead = input.Rank - SpatialRank;
        return new PoolPlan(checked((int)input.Take(lead).ElementCount),
            new Dims(input.Skip(lead).ToArray()).To3D(), new Dims(output.Skip(lead).ToArray()).To3D(),
            k.To3D(), s.To3D(), d.To3D(), p.To3D(0));
    }

    /// <summary>An int as an int, a tuple as a tuple: how PyTorch prints pooling arguments it keeps as given.</summary>
    private protected static string AsGiven(Dims d) => d.Count == 1 ? d[0].ToString() : d.ToString();
}

/// <summary>
/// <c>torch.nn.MaxPoolNd</c>: the maximum over each window; padding never wins (PyTorch pads
/// with −∞) and NaN propagates. With <see cref="ReturnIndices"/>, <see cref="ForwardWithIndices"/>
/// also gives each maximum's flat index within its input plane (PyTorch's convention, ready for
/// <see cref="MaxUnpoolNd"/>); <see cref="Layer.Forward"/> returns the values alone.
/// </summary>
public abstract record MaxPoolNd : PoolNd, IReturnsIndices
{
    private protected MaxPoolNd(int rank, Dims kernelSize, Dims? stride, Dims? padding, Dims? dilation, bool returnIndices, bool ceilMode)
        : base(rank, kernelSize, stride, padding, dilation, ceilMode) => ReturnIndices = returnIndices;

    internal static readonly ByRank<(Dims Kernel, Dims? Stride, Dims Padding, Dims Dilation, bool Indices, bool Ceil), MaxPoolNd> Members = new("max pools have",
        a => new MaxPool1d(a.Kernel, a.Stride, a.Padding, a.Dilation, a.Indices, a.Ceil),
        a => new MaxPool2d(a.Kernel, a.Stride, a.Padding, a.Dilation, a.Indices, a.Ceil),
        a => new MaxPool3d(a.Kernel, a.Stride, a.Padding, a.Dilation, a.Indices, a.Ceil));

    /// <summary>Whether the PyTorch module returns indices too (see <see cref="ForwardWithIndices"/>).</summary>
    public bool ReturnIndices { get; init; }

    /// <inheritdoc/>
    public override string TypeName => $"MaxPool{SpatialRank}d";

    /// <inheritdoc/>
    protected override Tensor Compute(Tensor input, Shape outputShape)
    {
        var y = TensorPool.Rent(outputShape);
        Pooling.Max(Plan(input.Shape, outputShape), input.Span, y, []);
        return Tensor.Own(y, outputShape);
    }

    /// <summary>The pooled values and the flat index of each maximum within its input plane.</summary>
    public (Tensor Output, IndexTensor Indices) ForwardWithIndices(Tensor input)
    {
        var shape = OutputShape(input.Shape);
        var y = TensorPool.Rent(shape);
        var idx = GC.AllocateUninitializedArray<long>(y.Length);
        Pooling.Max(Plan(input.Shape, shape), input.Span, y, idx);
        return (Tensor.Own(y, shape), IndexTensor.Own(idx, shape));
    }

    /// <inheritdoc/>
    protected override string ExtraRepr() =>
        $"kernel_size={AsGiven(KernelSize)}, stride={AsGiven(Stride ?? KernelSize)}, padding={AsGiven(Padding)}, dilation={AsGiven(Dilation)}, ceil_mode={PyRepr.Bool(CeilMode)}";
}

/// <summary><c>torch.nn.MaxPool1d</c>. See <see cref="MaxPoolNd"/>.</summary>
public sealed record MaxPool1d : MaxPoolNd
{
    /// <summary>PyTorch's arguments and defaults (stride defaults to the kernel size).</summary>
    public MaxPool1d(Dims kernelSize, Dims? stride = null, Dims? padding = null, Dims? dilation = null, bool returnIndices = false, bool ceilMode = false)
        : base(1, kernelSize, stride, padding, dilation, returnIndices, ceilMode) { }
}

/// <summary><c>torch.nn.MaxPool2d</c>. See <see cref="MaxPoolNd"/>.</summary>
public sealed record MaxPool2d : MaxPoolNd
{
    /// <summary>PyTorch's arguments and defaults (stride defaults to the kernel size).</summary>
    public MaxPool2d(Dims kernelSize, Dims? stride = null, Dims? padding = null, Dims? dilation = null, bool returnIndices = false, bool ceilMode = false)
        : base(2, kernelSize, stride, padding, dilation, returnIndices, ceilMode) { }
}

/// <summary><c>torch.nn.MaxPool3d</c>. See <see cref="MaxPoolNd"/>.</summary>
public sealed record MaxPool3d : MaxPoolNd
{
    /// <summary>PyTorch's arguments and defaults (stride defaults to the kernel size).</summary>
    public MaxPool3d(Dims kernelSize, Dims? stride = null, Dims? padding = null, Dims? dilation = null, bool returnIndices = false, bool ceilMode = false)
        : base(3, kernelSize, stride, padding, dilation, returnIndices, ceilMode) { }
}

/// <summary>
/// <c>torch.nn.AvgPoolNd</c>: the mean over each window. The divisor is
/// <see cref="DivisorOverride"/> when set; else, with <see cref="CountIncludePad"/>, the window's
/// size clipped to the padded input (so a ceil_mode window hanging past the padding counts only
/// what it covers); else the number of real input elements in the window.
/// </summary>
public abstract record AvgPoolNd : PoolNd
{
    private protected AvgPoolNd(int rank, Dims kernelSize, Dims? stride, Dims? padding, bool ceilMode, bool countIncludePad, int? divisorOverride)
        : base(rank, kernelSize, stride, padding, 1, ceilMode)
    {
        CountIncludePad = countIncludePad;
        DivisorOverride = divisorOverride;
    }

    internal static readonly ByRank<(Dims Kernel, Dims? Stride, Dims Padding, bool Ceil, bool CountIncludePad, int? Divisor), AvgPoolNd> Members = new("average pools have",
        a => new AvgPool1d(a.Kernel, a.Stride, a.Padding, a.Ceil, a.CountIncludePad),
        a => new AvgPool2d(a.Kernel, a.Stride, a.Padding, a.Ceil, a.CountIncludePad, a.Divisor),
        a => new AvgPool3d(a.Kernel, a.Stride, a.Padding, a.Ceil, a.CountIncludePad, a.Divisor));

    /// <summary>Whether padding counts in the divisor.</summary>
    public bool CountIncludePad { get; init; }

    /// <summary>A fixed divisor (2-D and 3-D only, as PyTorch), or null.</summary>
    public int? DivisorOverride
    {
        get;
        init => field = value is null or > 0 ? value
            : throw new ShapeException($"{TypeName}: divisor_override must be a positive integer, got {value}");
    }

    /// <inheritdoc/>
    public override string TypeName => $"AvgPool{SpatialRank}d";

    /// <inheritdoc/>
    protected override Tensor Compute(Tensor input, Shape outputShape)
    {
        var y = TensorPool.Rent(outputShape);
        Pooling.Avg(Plan(input.Shape, outputShape), input.Span, y, CountIncludePad, DivisorOverride ?? 0);
        return Tensor.Own(y, outputShape);
    }

    /// <inheritdoc/>
    protected override string ExtraRepr()
    {
        // AvgPool1d keeps 1-tuples; AvgPool2d/3d keep what they were given.
        Func<Dims, string> show = SpatialRank == 1 ? d => d.Expand(1, "", "").ToString() : AsGiven;
        return $"kernel_size={show(KernelSize)}, stride={show(Stride ?? KernelSize)}, padding={show(Padding)}";
    }
}

/// <summary><c>torch.nn.AvgPool1d</c> (no divisor_override, as PyTorch). See <see cref="AvgPoolNd"/>.</summary>
public sealed record AvgPool1d : AvgPoolNd
{
    /// <summary>PyTorch's arguments and defaults.</summary>
    public AvgPool1d(Dims kernelSize, Dims? stride = null, Dims? padding = null, bool ceilMode = false, bool countIncludePad = true)
        : base(1, kernelSize, stride, padding, ceilMode, countIncludePad, null) { }
}

/// <summary><c>torch.nn.AvgPool2d</c>. See <see cref="AvgPoolNd"/>.</summary>
public sealed record AvgPool2d : AvgPoolNd
{
    /// <summary>PyTorch's arguments and defaults.</summary>
    public AvgPool2d(Dims kernelSize, Dims? stride = null, Dims? padding = null, bool ceilMode = false, bool countIncludePad = true, int? divisorOverride = null)
        : base(2, kernelSize, stride, padding, ceilMode, countIncludePad, divisorOverride) { }
}

/// <summary><c>torch.nn.AvgPool3d</c>. See <see cref="AvgPoolNd"/>.</summary>
public sealed record AvgPool3d : AvgPoolNd
{
    /// <summary>PyTorch's arguments and defaults.</summary>
    public AvgPool3d(Dims kernelSize, Dims? stride = null, Dims? padding = null, bool ceilMode = false, bool countIncludePad = true, int? divisorOverride = null)
        : base(3, kernelSize, stride, padding, ceilMode, countIncludePad, divisorOverride) { }
}

/// <summary>
/// <c>torch.nn.LPPoolNd</c>: <c>(Σ x^p)^(1/p)</c> over each window, computed as PyTorch does:
/// <c>(avg_pool(x^p) · kernel volume)^(1/p)</c> with no padding and ceil_mode's partial windows
/// (so a window cut short is rescaled by kernel volume / its size, p = 1 gives the signed sum, and
/// odd or fractional p of a negative sum gives NaN, all as PyTorch).
/// </summary>
public abstract record LPPoolNd : PoolNd
{
    private protected LPPoolNd(int rank, PyNumber normType, Dims kernelSize, Dims? stride, bool ceilMode)
        : base(rank, kernelSize, stride, 0, 1, ceilMode) => NormType = normType;

    internal static readonly ByRank<(PyNumber NormType, Dims Kernel, Dims? Stride, bool Ceil), LPPoolNd> Members = new("power-average pools have",
        a => new LPPool1d(a.NormType, a.Kernel, a.Stride, a.Ceil), a => new LPPool2d(a.NormType, a.Kernel, a.Stride, a.Ceil));

    /// <summary>The power p (an int or a float, printed as given).</summary>
    public PyNumber NormType { get; init; }

    /// <inheritdoc/>
    public override string TypeName => $"LPPool{SpatialRank}d";

    /// <inheritdoc/>
    protected override Tensor Compute(Tensor input, Shape outputShape)
    {
        float p = (float)NormType.Value;
        var powered = input.Map((s, d) => PoolChecks.Power(s, p, d));
        var y = TensorPool.Rent(outputShape);
        Pooling.Avg(Plan(input.Shape, outputShape), powered.Span, y, countIncludePad: true, divisorOverride: 0);
        TensorPrimitives.Multiply(y, (float)Window().Kernel.Values.ToArray().Aggregate(1L, (a, b) => a * b), y);
        PoolChecks.Power(y, 1f / p, y);
        return Tensor.Own(y, outputShape);
    }

    /// <inheritdoc/>
    protected override string ExtraRepr() =>
        $"norm_type={NormType}, kernel_size={AsGiven(KernelSize)}, stride={(Stride is { } s ? AsGiven(s) : "None")}, ceil_mode={PyRepr.Bool(CeilMode)}";

}

/// <summary><c>torch.nn.LPPool1d</c>. See <see cref="LPPoolNd"/>.</summary>
public sealed record LPPool1d : LPPoolNd
{
    /// <summary>PyTorch's arguments and defaults (stride defaults to the kernel size).</summary>
    public LPPool1d(PyNumber normType, Dims kernelSize, Dims? stride = null, bool ceilMode = false)
        : base(1, normType, kernelSize, stride, ceilMode) { }
}

/// <summary><c>torch.nn.LPPool2d</c>. See <see cref="LPPoolNd"/>.</summary>
public sealed record LPPool2d : LPPoolNd
{
    /// <summary>PyTorch's arguments and defaults (stride defaults to the kernel size).</summary>
    public LPPool2d(PyNumber normType, Dims kernelSize, Dims? stride = null, bool ceilMode = false)
        : base(2, normType, kernelSize, stride, ceilMode) { }
}

/// <summary>Checks and helpers shared by the pools.</summary>
internal static class PoolChecks
{
    /// <summary>Checks the rank (unbatched or batched); returns the number of leading (batch, channel) dimensions.</summary>
    public static int Lead(Layer layer, Shape input, int rank)
    {
        if (input.Rank != rank + 1 && input.Rank != rank + 2)
            throw new ShapeException($"{layer}: expected {rank + 1}D (unbatched) or {rank + 2}D (batched) input, but got input of size: {input}");
        return input.Rank - rank;
    }

    /// <summary>x^p with PyTorch's exact special cases for p = 1, 2, 3 and ½.</summary>
    public static void Power(ReadOnlySpan<float> x, float p, Span<float> d)
    {
        switch (p)
        {
            case 1f: x.CopyTo(d); break;
            case 2f: TensorPrimitives.Multiply(x, x, d); break;
            case 3f:
                TensorPrimitives.Multiply(x, x, d);
                TensorPrimitives.Multiply(d, x, d);
                break;
            case 0.5f: TensorPrimitives.Sqrt(x, d); break;
            default: TensorPrimitives.Pow(x, p, d); break;
        }
    }
}

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

    internal static readonly ByRank<int?[], AdaptiveAvgPoolNd> Members = new("adaptive average pools have",
        o => new AdaptiveAvgPool1d(o), o => new AdaptiveAvgPool2d(o), o => new AdaptiveAvgPool3d(o));

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

    internal static readonly ByRank<(int?[] Size, bool Indices), AdaptiveMaxPoolNd> Members = new("adaptive max pools have",
        a => new AdaptiveMaxPool1d(a.Size, a.Indices), a => new AdaptiveMaxPool2d(a.Size, a.Indices), a => new AdaptiveMaxPool3d(a.Size, a.Indices));

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

    internal static readonly ByRank<(Dims Kernel, Dims? Stride, Dims Padding), MaxUnpoolNd> Members = new("max unpools have",
        a => new MaxUnpool1d(a.Kernel, a.Stride, a.Padding), a => new MaxUnpool2d(a.Kernel, a.Stride, a.Padding), a => new MaxUnpool3d(a.Kernel, a.Stride, a.Padding));

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
            defaults[i] = Extent(((long)input[lead + i] - 1) * Stride[i] - 2L * Padding[i] + KernelSize[i], $"the output size in spatial dimension {i} (input {input})");
        var sizes = defaults;
        if (outputSize is not null)
        {
            sizes = outputSize.Count == SpatialRank + 2 ? outputSize.Skip(2).ToArray() : outputSize.ToArray();
            if (sizes.Length != SpatialRank)
                throw Error($"output_size should be a sequence containing {SpatialRank} or {SpatialRank + 2} elements, but it has a length of '{outputSize.Count}'");
            for (int i = 0; i < SpatialRank; i++)
            {
                long min = (long)defaults[i] - Stride[i], max = (long)defaults[i] + Stride[i];
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
        throw Error("needs the indices of the max pool: call Forward(input, indices)");

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

/// <summary>
/// Pooling as tensor functions, like <c>torch.nn.functional</c> (and candle's
/// <c>max_pool2d_with_stride</c>): <c>x.MaxPool2d(3, 2)</c> is <c>new MaxPool2d(3, 2).Forward(x)</c>.
/// </summary>
public static class PoolFunctions
{
    /// <summary><c>F.max_pool1d</c>.</summary>
    public static Tensor MaxPool1d(this Tensor x, Dims kernelSize, Dims? stride = null, Dims? padding = null, Dims? dilation = null, bool ceilMode = false) =>
        new MaxPool1d(kernelSize, stride, padding, dilation, ceilMode: ceilMode).Forward(x);

    /// <summary><c>F.max_pool2d</c>.</summary>
    public static Tensor MaxPool2d(this Tensor x, Dims kernelSize, Dims? stride = null, Dims? padding = null, Dims? dilation = null, bool ceilMode = false) =>
        new MaxPool2d(kernelSize, stride, padding, dilation, ceilMode: ceilMode).Forward(x);

    /// <summary><c>F.max_pool3d</c>.</summary>
    public static Tensor MaxPool3d(this Tensor x, Dims kernelSize, Dims? stride = null, Dims? padding = null, Dims? dilation = null, bool ceilMode = false) =>
        new MaxPool3d(kernelSize, stride, padding, dilation, ceilMode: ceilMode).Forward(x);

    /// <summary><c>F.avg_pool1d</c>.</summary>
    public static Tensor AvgPool1d(this Tensor x, Dims kernelSize, Dims? stride = null, Dims? padding = null, bool ceilMode = false, bool countIncludePad = true) =>
        new AvgPool1d(kernelSize, stride, padding, ceilMode, countIncludePad).Forward(x);

    /// <summary><c>F.avg_pool2d</c>.</summary>
    public static Tensor AvgPool2d(this Tensor x, Dims kernelSize, Dims? stride = null, Dims? padding = null, bool ceilMode = false, bool countIncludePad = true, int? divisorOverride = null) =>
        new AvgPool2d(kernelSize, stride, padding, ceilMode, countIncludePad, divisorOverride).Forward(x);

    /// <summary><c>F.avg_pool3d</c>.</summary>
    public static Tensor AvgPool3d(this Tensor x, Dims kernelSize, Dims? stride = null, Dims? padding = null, bool ceilMode = false, bool countIncludePad = true, int? divisorOverride = null) =>
        new AvgPool3d(kernelSize, stride, padding, ceilMode, countIncludePad, divisorOverride).Forward(x);

    /// <summary><c>F.adaptive_avg_pool1d</c>.</summary>
    public static Tensor AdaptiveAvgPool1d(this Tensor x, params int?[] outputSize) => new AdaptiveAvgPool1d(outputSize).Forward(x);

    /// <summary><c>F.adaptive_avg_pool2d</c>.</summary>
    public static Tensor AdaptiveAvgPool2d(this Tensor x, params int?[] outputSize) => new AdaptiveAvgPool2d(outputSize).Forward(x);

    /// <summary><c>F.adaptive_avg_pool3d</c>.</summary>
    public static Tensor AdaptiveAvgPool3d(this Tensor x, params int?[] outputSize) => new AdaptiveAvgPool3d(outputSize).Forward(x);

    /// <summary><c>F.adaptive_max_pool1d</c>.</summary>
    public static Tensor AdaptiveMaxPool1d(this Tensor x, params int?[] outputSize) => new AdaptiveMaxPool1d(outputSize).Forward(x);

    /// <summary><c>F.adaptive_max_pool2d</c>.</summary>
    public static Tensor AdaptiveMaxPool2d(this Tensor x, params int?[] outputSize) => new AdaptiveMaxPool2d(outputSize).Forward(x);

    /// <summary><c>F.adaptive_max_pool3d</c>.</summary>
    public static Tensor AdaptiveMaxPool3d(this Tensor x, params int?[] outputSize) => new AdaptiveMaxPool3d(outputSize).Forward(x);

    /// <summary><c>F.lp_pool1d</c>.</summary>
    public static Tensor LPPool1d(this Tensor x, PyNumber normType, Dims kernelSize, Dims? stride = null, bool ceilMode = false) =>
        new LPPool1d(normType, kernelSize, stride, ceilMode).Forward(x);

    /// <summary><c>F.lp_pool2d</c>.</summary>
    public static Tensor LPPool2d(this Tensor x, PyNumber normType, Dims kernelSize, Dims? stride = null, bool ceilMode = false) =>
        new LPPool2d(normType, kernelSize, stride, ceilMode).Forward(x);
}
