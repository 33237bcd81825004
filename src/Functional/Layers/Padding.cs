namespace Functional;

/// <summary>
/// The padding layers (<c>torch.nn.ZeroPadNd</c>, <c>ConstantPadNd</c>, <c>ReflectionPadNd</c>,
/// <c>ReplicationPadNd</c>, <c>CircularPadNd</c>) for 1, 2 or 3 trailing dimensions, through
/// <see cref="Pad.Apply"/>. <c>padding</c> is an int (every side) or a tuple in PyTorch's order,
/// last dimension first:
/// <code>
///   (left, right)                              1-d
///   (left, right, top, bottom)                 2-d
///   (left, right, top, bottom, front, back)    3-d
/// </code>
/// A negative size crops. Constant and zero padding accept any input with at least as many
/// dimensions as they pad; the other modes take <c>(N, C, ...)</c> or unbatched <c>(C, ...)</c>.
/// Reflection needs every padding smaller than its dimension, circular at most its dimension.
/// </summary>
public abstract record PadNd : Layer
{
    private protected PadNd(int rank, Dims padding, PaddingMode mode, PyNumber value)
    {
        SpatialRank = rank;
        Mode = mode;
        Value = value;
        Padding = padding;
    }

    /// <summary>Padded trailing dimensions: 1, 2 or 3.</summary>
    public int SpatialRank { get; }

    /// <summary>How the padding is filled.</summary>
    public PaddingMode Mode { get; }

    /// <summary>The fill value of constant padding (0 for the others); printed as given.</summary>
    public PyNumber Value { get; init; }

    /// <summary>The padding sizes in PyTorch's order (last dimension first), <c>2·rank</c> of them (an int is expanded, as PyTorch stores it).</summary>
    public Dims Padding
    {
        get;
        init => field = value.Count == 1 ? value.Expand(2 * SpatialRank, "padding", TypeName)
            : value.Count == 2 * SpatialRank ? value
            : throw new ShapeException($"{TypeName}: padding must be an int or a tuple of {2 * SpatialRank} ints, got {value}");
    }

    /// <summary>The sizes (before, after) per padded dimension, outermost first, as <see cref="Pad.Apply"/> takes them.</summary>
    public (Dims Before, Dims After) Sides()
    {
        var before = new int[SpatialRank];
        var after = new int[SpatialRank];
        for (int k = 0; k < SpatialRank; k++)
        {
            before[SpatialRank - 1 - k] = Padding[2 * k];
            after[SpatialRank - 1 - k] = Padding[2 * k + 1];
        }
        return (before, after);
    }

    /// <inheritdoc/>
    public override Shape OutputShape(Shape input)
    {
        bool constant = Mode == PaddingMode.Zeros;
        if (constant ? input.Rank < SpatialRank : input.Rank != SpatialRank + 1 && input.Rank != SpatialRank + 2)
            throw Error(constant
                ? $"expected an input of at least {SpatialRank} dimensions to pad, got input of size {input}"
                : $"expected {SpatialRank + 1}D (unbatched) or {SpatialRank + 2}D (batched) input, but got input of size: {input}");
        var (before, after) = Sides();
        var output = input.ToArray();
        int lead = input.Rank - SpatialRank;
        for (int i = 0; i < SpatialRank; i++)
        {
            int n = input[lead + i], lo = before[i], hi = after[i];
            string what = $"padding ({lo}, {hi}) at dimension {lead + i} of input {input}";
            if (Mode == PaddingMode.Reflect && (lo >= n || hi >= n))
                throw Error($"padding size should be less than the corresponding input dimension, but got: {what}");
            if (Mode == PaddingMode.Circular && (lo > n || hi > n))
                throw Error($"padding value causes wrapping around more than once (padding at most the input size), but got: {what}");
            long size = (long)n + lo + hi;
            if (size < (constant ? 0 : 1))
                throw Error($"the padded size of dimension {lead + i} would be {n} + {lo} + {hi} = {size}: {what}");
            output[lead + i] = Extent(size, $"the padded size of dimension {lead + i}, {n} + {lo} + {hi},");
        }
        return new Shape(output);
    }

    /// <inheritdoc/>
    protected override Tensor Compute(Tensor input, Shape outputShape)
    {
        var (before, after) = Sides();
        return Pad.Apply(input, before, after, Mode, (float)Value.Value);
    }

    /// <inheritdoc/>
    protected override string ExtraRepr() => Padding.ToString();

    internal static readonly ByRank<Dims, PadNd> Zero = new("zero pads have", p => new ZeroPad1d(p), p => new ZeroPad2d(p), p => new ZeroPad3d(p));

    internal static readonly ByRank<Dims, PadNd> Reflection =
        new("reflection pads have", p => new ReflectionPad1d(p), p => new ReflectionPad2d(p), p => new ReflectionPad3d(p));

    internal static readonly ByRank<Dims, PadNd> Replication =
        new("replication pads have", p => new ReplicationPad1d(p), p => new ReplicationPad2d(p), p => new ReplicationPad3d(p));

    internal static readonly ByRank<Dims, PadNd> Circular = new("circular pads have", p => new CircularPad1d(p), p => new CircularPad2d(p), p => new CircularPad3d(p));
}

/// <summary>
/// <c>torch.nn.ConstantPadNd</c>: pads with <see cref="PadNd.Value"/>; prints
/// <c>ConstantPad1d(padding=(2, 2), value=3.5)</c>. See <see cref="PadNd"/>.
/// </summary>
public abstract record ConstantPadNd : PadNd
{
    private protected ConstantPadNd(int rank, Dims padding, PyNumber value) : base(rank, padding, PaddingMode.Zeros, value) { }

    internal static readonly ByRank<(Dims Padding, PyNumber Value), ConstantPadNd> Members = new("constant pads have",
        a => new ConstantPad1d(a.Padding, a.Value), a => new ConstantPad2d(a.Padding, a.Value), a => new ConstantPad3d(a.Padding, a.Value));

    /// <inheritdoc/>
    public override string TypeName => $"ConstantPad{SpatialRank}d";

    /// <inheritdoc/>
    protected override string ExtraRepr() => $"padding={Padding}, value={Value}";
}

/// <summary><c>torch.nn.ConstantPad1d(padding, value)</c>: (left, right).</summary>
public sealed record ConstantPad1d : ConstantPadNd
{
    /// <summary>PyTorch's arguments (both required).</summary>
    public ConstantPad1d(Dims padding, PyNumber value) : base(1, padding, value) { }
}

/// <summary><c>torch.nn.ConstantPad2d(padding, value)</c>: (left, right, top, bottom).</summary>
public sealed record ConstantPad2d : ConstantPadNd
{
    /// <summary>PyTorch's arguments (both required).</summary>
    public ConstantPad2d(Dims padding, PyNumber value) : base(2, padding, value) { }
}

/// <summary><c>torch.nn.ConstantPad3d(padding, value)</c>: (left, right, top, bottom, front, back).</summary>
public sealed record ConstantPad3d : ConstantPadNd
{
    /// <summary>PyTorch's arguments (both required).</summary>
    public ConstantPad3d(Dims padding, PyNumber value) : base(3, padding, value) { }
}

/// <summary><c>torch.nn.ZeroPad1d</c> (newer PyTorch): constant padding with 0; prints <c>ZeroPad1d((1, 2))</c>.</summary>
public sealed record ZeroPad1d : PadNd
{
    /// <summary>PyTorch's argument: (left, right) or an int.</summary>
    public ZeroPad1d(Dims padding) : base(1, padding, PaddingMode.Zeros, 0) { }
}

/// <summary><c>torch.nn.ZeroPad2d</c>: constant padding with 0; prints <c>ZeroPad2d((1, 1, 2, 0))</c>.</summary>
public sealed record ZeroPad2d : PadNd
{
    /// <summary>PyTorch's argument: (left, right, top, bottom) or an int.</summary>
    public ZeroPad2d(Dims padding) : base(2, padding, PaddingMode.Zeros, 0) { }
}

/// <summary><c>torch.nn.ZeroPad3d</c> (newer PyTorch): constant padding with 0.</summary>
public sealed record ZeroPad3d : PadNd
{
    /// <summary>PyTorch's argument: (left, right, top, bottom, front, back) or an int.</summary>
    public ZeroPad3d(Dims padding) : base(3, padding, PaddingMode.Zeros, 0) { }
}

/// <summary><c>torch.nn.ReflectionPad1d</c>: mirror without repeating the edge (padding &lt; size).</summary>
public sealed record ReflectionPad1d : PadNd
{
    /// <summary>PyTorch's argument: (left, right) or an int.</summary>
    public ReflectionPad1d(Dims padding) : base(1, padding, PaddingMode.Reflect, 0) { }
}

/// <summary><c>torch.nn.ReflectionPad2d</c>: mirror without repeating the edge (padding &lt; size).</summary>
public sealed record ReflectionPad2d : PadNd
{
    /// <summary>PyTorch's argument: (left, right, top, bottom) or an int.</summary>
    public ReflectionPad2d(Dims padding) : base(2, padding, PaddingMode.Reflect, 0) { }
}

/// <summary><c>torch.nn.ReflectionPad3d</c>: mirror without repeating the edge (padding &lt; size).</summary>
public sealed record ReflectionPad3d : PadNd
{
    /// <summary>PyTorch's argument: (left, right, top, bottom, front, back) or an int.</summary>
    public ReflectionPad3d(Dims padding) : base(3, padding, PaddingMode.Reflect, 0) { }
}

/// <summary><c>torch.nn.ReplicationPad1d</c>: repeat the edge value.</summary>
public sealed record ReplicationPad1d : PadNd
{
    /// <summary>PyTorch's argument: (left, right) or an int.</summary>
    public ReplicationPad1d(Dims padding) : base(1, padding, PaddingMode.Replicate, 0) { }
}

/// <summary><c>torch.nn.ReplicationPad2d</c>: repeat the edge value.</summary>
public sealed record ReplicationPad2d : PadNd
{
    /// <summary>PyTorch's argument: (left, right, top, bottom) or an int.</summary>
    public ReplicationPad2d(Dims padding) : base(2, padding, PaddingMode.Replicate, 0) { }
}

/// <summary><c>torch.nn.ReplicationPad3d</c>: repeat the edge value.</summary>
public sealed record ReplicationPad3d : PadNd
{
    /// <summary>PyTorch's argument: (left, right, top, bottom, front, back) or an int.</summary>
    public ReplicationPad3d(Dims padding) : base(3, padding, PaddingMode.Replicate, 0) { }
}

/// <summary><c>torch.nn.CircularPad1d</c> (newer PyTorch): wrap around (padding ≤ size).</summary>
public sealed record CircularPad1d : PadNd
{
    /// <summary>PyTorch's argument: (left, right) or an int.</summary>
    public CircularPad1d(Dims padding) : base(1, padding, PaddingMode.Circular, 0) { }
}

/// <summary><c>torch.nn.CircularPad2d</c> (newer PyTorch): wrap around (padding ≤ size).</summary>
public sealed record CircularPad2d : PadNd
{
    /// <summary>PyTorch's argument: (left, right, top, bottom) or an int.</summary>
    public CircularPad2d(Dims padding) : base(2, padding, PaddingMode.Circular, 0) { }
}

/// <summary><c>torch.nn.CircularPad3d</c> (newer PyTorch): wrap around (padding ≤ size).</summary>
public sealed record CircularPad3d : PadNd
{
    /// <summary>PyTorch's argument: (left, right, top, bottom, front, back) or an int.</summary>
    public CircularPad3d(Dims padding) : base(3, padding, PaddingMode.Circular, 0) { }
}

/// <summary>Padding of a tensor's trailing dimensions, as <c>torch.nn.functional.pad</c>.</summary>
public static class Pad
{
    /// <summary>
    /// Pads the last <c>before.Count</c> dimensions of <paramref name="x"/> by
    /// <paramref name="before"/>/<paramref name="after"/> elements (a negative size crops). The
    /// dimensions are given outermost first (unlike <c>F.pad</c>'s last-dimension-first list).
    /// <paramref name="value"/> fills <see cref="PaddingMode.Zeros"/> padding.
    /// </summary>
    public static Tensor Apply(Tensor x, Dims before, Dims after, PaddingMode mode, float value = 0f)
    {
        int rank = before.Count;
        if (after.Count != rank || rank == 0 || rank > 3)
            throw new ShapeException($"pad: before {before} and after {after} must give the same 1 to 3 dimensions");
        if (x.Rank < rank)
            throw new ShapeException($"pad: {rank}-d padding needs an input of at least rank {rank}, got {x.Shape}");
        int lead = x.Rank - rank;
        var outDims = x.Shape.ToArray();
        for (int i = 0; i < rank; i++)
        {
            int n = x.Shape[lead + i], lo = before[i], hi = after[i];
            string what = $"padding ({lo}, {hi}) at dimension {lead + i} of input {x.Shape}";
            if (mode == PaddingMode.Reflect && (lo >= n || hi >= n))
                throw new ShapeException($"pad: reflect padding size should be less than the corresponding input dimension, but got: {what}");
            if (mode == PaddingMode.Circular && (lo > n || hi > n))
                throw new ShapeException($"pad: circular padding size should be at most the corresponding input dimension, but got: {what}");
            if (mode == PaddingMode.Replicate && n == 0 && lo + hi > 0)
                throw new ShapeException($"pad: replicate padding needs a non-empty dimension, but got: {what}");
            long size = (long)n + lo + hi;
            if (size < 0)
                throw new ShapeException($"pad: the padded size of dimension {lead + i} would be {size}: {what}");
            outDims[lead + i] = Shape.Extent(size, $"pad: the padded size of dimension {lead + i}, {n} + {lo} + {hi},");
        }
        var outShape = new Shape(outDims);
        var inner = x.Shape.Skip(lead).ToArray();
        var outInner = outShape.Skip(lead).ToArray();
        // Work in 3-D (D, H, W) with leading 1s so one loop serves every rank.
        int id = rank >= 3 ? inner[^3] : 1, ih = rank >= 2 ? inner[^2] : 1, iw = inner[^1];
        int od = rank >= 3 ? outInner[^3] : 1, oh = rank >= 2 ? outInner[^2] : 1, ow = outInner[^1];
        int ld = rank >= 3 ? before[^3] : 0, lh = rank >= 2 ? before[^2] : 0, lw = before[^1];
        long planes = x.Shape.Take(lead).ElementCount;

        var result = TensorPool.Rent(outShape);
        var src = x.Span;
        var wMap = Map(ow, iw, lw, mode);
        var hMap = Map(oh, ih, lh, mode);
        var dMap = Map(od, id, ld, mode);
        for (long p = 0; p < planes; p++)
            for (int d = 0; d < od; d++)
                for (int h = 0; h < oh; h++)
                {
                    var row = result.AsSpan((int)(((p * od + d) * oh + h) * ow), ow);
                    int sd = dMap[d], sh = hMap[h];
                    if (sd < 0 || sh < 0) { row.Fill(value); continue; }
                    var srcRow = src.Slice((int)(((p * id + sd) * ih + sh) * iw), iw);
                    for (int w = 0; w < ow; w++)
                    {
                        int sw = wMap[w];
                        row[w] = sw < 0 ? value : srcRow[sw];
                    }
                }
        return Tensor.Own(result, outShape);
    }

    /// <summary>For each output index, the source index along one dimension, or −1 for a constant.</summary>
    private static int[] Map(int outSize, int inSize, int before, PaddingMode mode)
    {
        var map = new int[outSize];
        for (int o = 0; o < outSize; o++)
        {
            long i = (long)o - before; // a crop of nearly 2^31 must not wrap
            map[o] = (int)((i >= 0 && i < inSize) ? i : mode switch
            {
                PaddingMode.Zeros => -1,
                PaddingMode.Reflect => i < 0 ? -i : 2L * (inSize - 1) - i,
                PaddingMode.Replicate => Math.Clamp(i, 0, inSize - 1),
                _ => ((i % inSize) + inSize) % inSize,
            });
        }
        return map;
    }
}
