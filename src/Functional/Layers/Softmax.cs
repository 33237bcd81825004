using System.Numerics.Tensors;

namespace Functional;

/// <summary>
/// Softmax, log-softmax and softmin along one dimension as tensor functions, computed as PyTorch
/// computes them: subtract the maximum first, so ±100 (or ±1e30) inputs neither overflow nor give NaN.
/// <code>
///   softmax(x)ᵢ     = exp(xᵢ − m) / Σⱼ exp(xⱼ − m)          m = maxⱼ xⱼ
///   log_softmax(x)ᵢ = (xᵢ − m) − log Σⱼ exp(xⱼ − m)
///   softmin(x)      = softmax(−x)
/// </code>
/// <c>dim</c> may be negative (counted from the end); a rank-0 input is one element (dim −1 or 0).
/// </summary>
public static class SoftmaxFunctions
{
    /// <summary><c>torch.softmax(x, dim)</c>.</summary>
    public static Tensor Softmax(this Tensor x, int dim) => Run(x, Resolve(x.Shape, dim, "softmax"), SoftmaxKind.Softmax);

    /// <summary><c>torch.log_softmax(x, dim)</c>.</summary>
    public static Tensor LogSoftmax(this Tensor x, int dim) => Run(x, Resolve(x.Shape, dim, "log_softmax"), SoftmaxKind.LogSoftmax);

    /// <summary><c>torch.nn.functional.softmin(x, dim)</c> = <c>softmax(−x, dim)</c>.</summary>
    public static Tensor Softmin(this Tensor x, int dim) => Run(x, Resolve(x.Shape, dim, "softmin"), SoftmaxKind.Softmin);

    /// <summary>
    /// PyTorch's <c>_get_softmax_dim</c>, the deprecated rule for <c>dim=None</c>: dimension 0 for
    /// inputs of rank 0, 1 or 3, else dimension 1.
    /// </summary>
    public static int LegacyDim(int rank) => rank is 0 or 1 or 3 ? 0 : 1;

    /// <summary>The axis in 0..rank−1 (0 for a rank-0 input), or a <see cref="ShapeException"/> in PyTorch's words.</summary>
    internal static int Resolve(Shape shape, int dim, string who)
    {
        int r = Math.Max(shape.Rank, 1);
        if (dim < -r || dim >= r)
            throw new ShapeException($"{who}: Dimension out of range (expected to be in range of [{-r}, {r - 1}], but got {dim}) for input {shape}");
        return dim < 0 ? dim + r : dim;
    }

    internal static Tensor Run(Tensor x, int axis, SoftmaxKind kind)
    {
        var y = TensorPool.Rent(x.Count);
        if (y.Length == 0) return Tensor.Own(y, x.Shape);
        int n = x.Rank == 0 ? 1 : x.Shape[axis];
        int inner = x.Rank == 0 ? 1 : checked((int)x.Shape.Skip(axis + 1).ElementCount);
        int outer = y.Length / (n * inner);
        ReadOnlySpan<float> src = x.Span;
        if (kind == SoftmaxKind.Softmin)
        {
            // softmin(x) = softmax(−x): negate into the output, then work in place there.
            TensorPrimitives.Negate(src, y);
            src = y;
        }
        bool log = kind == SoftmaxKind.LogSoftmax;
        if (inner == 1) LastDim(src, y, outer, n, log);
        else InnerDim(src, y, outer, n, inner, log);
        return Tensor.Own(y, x.Shape);
    }

    /// <summary>Each row of <paramref name="n"/> contiguous elements is one softmax (<paramref name="src"/> may be <paramref name="dst"/>).</summary>
    private static void LastDim(ReadOnlySpan<float> src, Span<float> dst, int outer, int n, bool log)
    {
        var scratch = log ? GC.AllocateUninitializedArray<float>(n) : null;
        for (int o = 0; o < outer; o++)
        {
            var x = src.Slice(o * n, n);
            var y = dst.Slice(o * n, n);
            float max = TensorPrimitives.Max(x);
            if (log)
            {
                TensorPrimitives.Subtract(x, max, scratch);
                TensorPrimitives.Exp(scratch, scratch);
                float logSum = MathF.Log(TensorPrimitives.Sum(scratch));
                TensorPrimitives.Subtract(x, max, y);
                TensorPrimitives.Subtract(y, logSum, y);
            }
            else
            {
                TensorPrimitives.Subtract(x, max, y);
                TensorPrimitives.Exp(y, y);
                TensorPrimitives.Multiply(y, 1f / TensorPrimitives.Sum(y), y);
            }
        }
    }

    /// <summary>
    /// The reduced dimension has stride <paramref name="inner"/>: per outer index, <paramref name="n"/>
    /// contiguous rows of <paramref name="inner"/> elements, reduced element-wise across rows (vectorised along the row).
    /// </summary>
    private static void InnerDim(ReadOnlySpan<float> src, Span<float> dst, int outer, int n, int inner, bool log)
    {
        var max = GC.AllocateUninitializedArray<float>(inner);
        var sum = GC.AllocateUninitializedArray<float>(inner);
        var scratch = log ? GC.AllocateUninitializedArray<float>(inner) : null;
        int block = n * inner;
        for (int o = 0; o < outer; o++)
        {
            var x = src.Slice(o * block, block);
            var y = dst.Slice(o * block, block);
            x[..inner].CopyTo(max);
            for (int j = 1; j < n; j++) TensorPrimitives.Max(max, x.Slice(j * inner, inner), max);
            Array.Clear(sum);
            for (int j = 0; j < n; j++)
            {
                // Log-softmax keeps the input rows for the last pass (they may be the output rows), so it exponentiates into scratch.
                var e = log ? scratch.AsSpan() : y.Slice(j * inner, inner);
                TensorPrimitives.Subtract(x.Slice(j * inner, inner), max, e);
                TensorPrimitives.Exp(e, e);
                TensorPrimitives.Add(sum, e, sum);
            }
            if (log)
            {
                TensorPrimitives.Log(sum, sum);
                for (int j = 0; j < n; j++)
                {
                    var row = y.Slice(j * inner, inner);
                    TensorPrimitives.Subtract(x.Slice(j * inner, inner), max, row);
                    TensorPrimitives.Subtract(row, sum, row);
                }
            }
            else
            {
                TensorPrimitives.Reciprocal(sum, sum);
                for (int j = 0; j < n; j++)
                {
                    var row = y.Slice(j * inner, inner);
                    TensorPrimitives.Multiply(row, sum, row);
                }
            }
        }
    }
}

/// <summary>Which of the three softmax-family functions a layer computes.</summary>
internal enum SoftmaxKind
{
    Softmax,
    LogSoftmax,
    Softmin,
}

/// <summary>
/// The common shape of <see cref="Softmax"/>, <see cref="LogSoftmax"/> and <see cref="Softmin"/>:
/// one optional <c>dim</c>. <c>dim=None</c> follows PyTorch's deprecated implicit choice
/// (<see cref="SoftmaxFunctions.LegacyDim"/>: 0 for inputs of rank 0, 1 or 3, else 1).
/// </summary>
public abstract record SoftmaxLayer : Layer
{
    private protected SoftmaxLayer(int? dim) => Dim = dim;

    /// <summary>The dimension normalised over, or null for PyTorch's implicit choice.</summary>
    public int? Dim { get; init; }

    private protected abstract SoftmaxKind Kind { get; }

    /// <summary>The axis this layer normalises over for an input of shape <paramref name="input"/> (0 for a rank-0 input).</summary>
    public int AxisFor(Shape input)
    {
        int dim = Dim ?? SoftmaxFunctions.LegacyDim(input.Rank);
        int r = Math.Max(input.Rank, 1);
        if (dim < -r || dim >= r)
            throw Error($"Dimension out of range (expected to be in range of [{-r}, {r - 1}], but got {dim}) for input {input}");
        return dim < 0 ? dim + r : dim;
    }

    /// <inheritdoc/>
    public override Shape OutputShape(Shape input)
    {
        AxisFor(input);
        return input;
    }

    /// <inheritdoc/>
    protected override Tensor Compute(Tensor input, Shape outputShape) => SoftmaxFunctions.Run(input, AxisFor(input.Shape), Kind);

    /// <inheritdoc/>
    protected override string ExtraRepr() => $"dim={(Dim is { } d ? d.ToString(System.Globalization.CultureInfo.InvariantCulture) : "None")}";
}

/// <summary><c>torch.nn.Softmax(dim=None)</c>: <c>exp(xᵢ − m) / Σ exp(xⱼ − m)</c> along <c>dim</c>. See <see cref="SoftmaxLayer"/>.</summary>
public sealed record Softmax : SoftmaxLayer
{
    /// <summary>A softmax over <paramref name="dim"/> (null: PyTorch's implicit, deprecated choice).</summary>
    public Softmax(int? dim = null) : base(dim) { }

    private protected override SoftmaxKind Kind => SoftmaxKind.Softmax;
}

/// <summary><c>torch.nn.LogSoftmax(dim=None)</c>: <c>(xᵢ − m) − log Σ exp(xⱼ − m)</c> along <c>dim</c>. See <see cref="SoftmaxLayer"/>.</summary>
public sealed record LogSoftmax : SoftmaxLayer
{
    /// <summary>A log-softmax over <paramref name="dim"/> (null: PyTorch's implicit, deprecated choice).</summary>
    public LogSoftmax(int? dim = null) : base(dim) { }

    private protected override SoftmaxKind Kind => SoftmaxKind.LogSoftmax;
}

/// <summary><c>torch.nn.Softmin(dim=None)</c>: <c>softmax(−x)</c> along <c>dim</c>. See <see cref="SoftmaxLayer"/>.</summary>
public sealed record Softmin : SoftmaxLayer
{
    /// <summary>A softmin over <paramref name="dim"/> (null: PyTorch's implicit, deprecated choice).</summary>
    public Softmin(int? dim = null) : base(dim) { }

    private protected override SoftmaxKind Kind => SoftmaxKind.Softmin;
}

/// <summary><c>torch.nn.Softmax2d</c>: softmax over the channels (dimension −3) of a <c>(N, C, H, W)</c> or <c>(C, H, W)</c> input.</summary>
public sealed record Softmax2d : Layer
{
    /// <inheritdoc/>
    public override Shape OutputShape(Shape input) =>
        input.Rank is 3 or 4 ? input : throw Error($"expected input to be 3D or 4D, got {input.Rank}D instead (input {input})");

    /// <inheritdoc/>
    protected override Tensor Compute(Tensor input, Shape outputShape) => SoftmaxFunctions.Run(input, input.Rank - 3, SoftmaxKind.Softmax);
}
