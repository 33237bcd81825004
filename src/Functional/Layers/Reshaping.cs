namespace Functional;

/// <summary>
/// <c>torch.nn.Flatten(start_dim=1, end_dim=-1)</c>: merges dimensions <c>start_dim..end_dim</c> (inclusive,
/// negative counted from the end) into one, as <c>torch.flatten</c>. A rank-0 input becomes <c>[1]</c>
/// (its dims must then be −1 or 0). The output is a view: no copy.
/// <code>
///   Flatten()        [N, C, H, W] → [N, C·H·W]
///   Flatten(0, 1)    [N, C, H, W] → [N·C, H, W]
/// </code>
/// </summary>
public sealed record Flatten : Layer
{
    /// <summary>A Flatten with PyTorch's defaults (from dimension 1 to the last).</summary>
    public Flatten(int startDim = 1, int endDim = -1)
    {
        StartDim = startDim;
        EndDim = endDim;
    }

    /// <summary>First dimension merged.</summary>
    public int StartDim { get; init; }

    /// <summary>Last dimension merged (inclusive).</summary>
    public int EndDim { get; init; }

    /// <inheritdoc/>
    public override Shape OutputShape(Shape input)
    {
        int r = Math.Max(input.Rank, 1);
        foreach (var (name, d) in new[] { ("start_dim", StartDim), ("end_dim", EndDim) })
            if (d < -r || d >= r)
                throw Error($"{name} {d} is out of range (expected to be in range of [{-r}, {r - 1}]) for input {input}");
        int s = StartDim < 0 ? StartDim + r : StartDim, e = EndDim < 0 ? EndDim + r : EndDim;
        if (s > e) throw Error($"start_dim cannot come after end_dim: start_dim={StartDim} is dimension {s}, end_dim={EndDim} is dimension {e} of input {input}");
        if (input.Rank == 0) return new Shape(1);
        long merged = input.Take(e + 1).Skip(s).ElementCount;
        if (merged > int.MaxValue) throw Error($"the merged dimension would have {merged} elements (input {input})");
        return input.Take(s).Concat(new Shape((int)merged)).Concat(input.Skip(e + 1));
    }

    /// <inheritdoc/>
    protected override Tensor Compute(Tensor input, Shape outputShape) => input.Reshape(outputShape.ToArray());

    /// <inheritdoc/>
    protected override string ExtraRepr() => $"start_dim={StartDim}, end_dim={EndDim}";
}

/// <summary>
/// <c>torch.nn.Unflatten(dim, unflattened_size)</c>: splits dimension <c>dim</c> into <c>unflattened_size</c>,
/// whose product must equal that dimension's size; one entry may be −1 and is inferred. The output is a
/// view: no copy. (PyTorch's named-tensor form, a string <c>dim</c>, is not supported.)
/// <code>
///   Unflatten(1, (2, 3))    [N, 6, L] → [N, 2, 3, L]
///   Unflatten(-1, (4, -1))  [N, 12]   → [N, 4, 3]
/// </code>
/// </summary>
public sealed record Unflatten : Layer
{
    /// <summary>An Unflatten of dimension <paramref name="dim"/> into <paramref name="unflattenedSize"/>.</summary>
    public Unflatten(int dim, Dims unflattenedSize)
    {
        Dim = dim;
        UnflattenedSize = unflattenedSize;
        ValidateSizes();
    }

    /// <summary>The dimension split (negative counts from the end).</summary>
    public int Dim { get; init; }

    /// <summary>The sizes it is split into, as given (−1 for one inferred size).</summary>
    public Dims UnflattenedSize { get; init; }

    private void ValidateSizes()
    {
        var sizes = UnflattenedSize.Values;
        if (sizes.Length == 0) throw new ShapeException("Unflatten: unflattened_size must be non-empty");
        int inferred = 0;
        foreach (int v in sizes)
        {
            if (v == -1) inferred++;
            else if (v < 0) throw new ShapeException($"Unflatten: invalid size {v} in unflattened_size={UnflattenedSize} (sizes are non-negative, or −1 for one inferred size)");
        }
        if (inferred > 1) throw new ShapeException($"Unflatten: only one size in unflattened_size={UnflattenedSize} can be inferred (−1)");
    }

    /// <inheritdoc/>
    public override Shape OutputShape(Shape input)
    {
        ValidateSizes();
        int r = Math.Max(input.Rank, 1);
        if (input.Rank == 0 || Dim < -r || Dim >= r)
            throw Error($"Dimension out of range (expected to be in range of [{-r}, {r - 1}], but got {Dim}) for input {input}");
        int axis = input.NormalizeAxis(Dim);
        int size = input[axis];
        var sizes = UnflattenedSize.Values.ToArray();
        int infer = Array.IndexOf(sizes, -1);
        long known = 1;
        for (int i = 0; i < sizes.Length; i++) if (i != infer) known *= sizes[i];
        if (infer >= 0)
        {
            if (known == 0)
                throw Error($"cannot infer the −1 in unflattened_size={UnflattenedSize}: the other sizes multiply to 0, so any value fits (dimension {axis} of input {input} has size {size})");
            if (size % known != 0)
                throw Error($"Provided sizes {UnflattenedSize} don't multiply up to the size of dim {axis} ({size}) in the input {input}");
            sizes[infer] = (int)(size / known);
        }
        else if (known != size)
            throw Error($"Provided sizes {UnflattenedSize} don't multiply up to the size of dim {axis} ({size}) in the input {input}");
        return input.Take(axis).Concat(new Shape(sizes)).Concat(input.Skip(axis + 1));
    }

    /// <inheritdoc/>
    protected override Tensor Compute(Tensor input, Shape outputShape) => input.Reshape(outputShape.ToArray());

    /// <inheritdoc/>
    protected override string ExtraRepr() => $"dim={Dim}, unflattened_size={UnflattenedSize}";
}

/// <summary><c>torch.nn.Identity</c>: returns its input (the same immutable tensor). Like PyTorch's, it takes and ignores any arguments.</summary>
public sealed record Identity : Layer
{
    /// <summary>An identity; <paramref name="ignored"/> is accepted and dropped, as PyTorch's <c>Identity(*args, **kwargs)</c> does.</summary>
    public Identity(params object?[] ignored) { }

    /// <inheritdoc/>
    public override Shape OutputShape(Shape input) => input;

    /// <inheritdoc/>
    protected override Tensor Compute(Tensor input, Shape outputShape) => input;

    internal override ForwardResult Returns => ForwardResult.Input;
}

/// <summary>
/// The dropouts of <c>torch.nn</c> in eval mode, where every one of them is the identity (no mask,
/// no scaling: PyTorch scales by <c>1/(1−p)</c> while training, so inference needs nothing).
/// <c>p</c> must lie in [0, 1], as PyTorch checks at construction; it is kept as given (an int
/// prints as an int) so the printout matches <c>Dropout(p=0.5, inplace=False)</c>.
/// </summary>
public abstract record DropoutLayer : Layer
{
    private protected DropoutLayer(PyNumber p, bool inplace)
    {
        P = p;
        Inplace = inplace;
        Validate();
    }

    /// <summary>The training-time drop probability.</summary>
    public PyNumber P { get; init; }

    /// <summary>PyTorch's <c>inplace</c> flag, printed always (tensors here are never mutated).</summary>
    public bool Inplace { get; init; }

    private void Validate()
    {
        if (!(P.Value >= 0 && P.Value <= 1))
            throw new ShapeException($"{TypeName}: dropout probability has to be between 0 and 1, but got {P}");
    }

    /// <inheritdoc/>
    public override Shape OutputShape(Shape input)
    {
        Validate();
        CheckRank(input);
        return input;
    }

    /// <summary>Rank checks some dropouts make even in eval mode.</summary>
    private protected virtual void CheckRank(Shape input) { }

    /// <inheritdoc/>
    protected override Tensor Compute(Tensor input, Shape outputShape) => input;

    internal override ForwardResult Returns => ForwardResult.Input;

    /// <inheritdoc/>
    protected override string ExtraRepr() => $"p={P}, inplace={PyRepr.Bool(Inplace)}";
}

/// <summary><c>torch.nn.Dropout(p=0.5, inplace=False)</c>: the identity at inference. See <see cref="DropoutLayer"/>.</summary>
public sealed record Dropout : DropoutLayer
{
    /// <summary>A dropout with PyTorch's defaults.</summary>
    public Dropout(PyNumber? p = null, bool inplace = false) : base(p ?? 0.5, inplace) { }
}

/// <summary>
/// <c>torch.nn.Dropout1d(p=0.5, inplace=False)</c>: the identity at inference, but like PyTorch it still
/// requires a 2-D <c>(C, L)</c> or 3-D <c>(N, C, L)</c> input. See <see cref="DropoutLayer"/>.
/// </summary>
public sealed record Dropout1d : DropoutLayer
{
    /// <summary>A channel dropout with PyTorch's defaults.</summary>
    public Dropout1d(PyNumber? p = null, bool inplace = false) : base(p ?? 0.5, inplace) { }

    private protected override void CheckRank(Shape input)
    {
        if (input.Rank is not (2 or 3))
            throw Error($"Expected 2D or 3D input, but received a {input.Rank}D input {input}. Dropout1d exists to provide channel-wise dropout on inputs with 1 spatial dimension, a channel dimension, and an optional batch dimension (i.e. 2D or 3D inputs).");
    }
}

/// <summary><c>torch.nn.Dropout2d(p=0.5, inplace=False)</c>: the identity at inference (any rank, as PyTorch, which only warns). See <see cref="DropoutLayer"/>.</summary>
public sealed record Dropout2d : DropoutLayer
{
    /// <summary>A channel dropout with PyTorch's defaults.</summary>
    public Dropout2d(PyNumber? p = null, bool inplace = false) : base(p ?? 0.5, inplace) { }
}

/// <summary><c>torch.nn.Dropout3d(p=0.5, inplace=False)</c>: the identity at inference (any rank, as PyTorch, which only warns). See <see cref="DropoutLayer"/>.</summary>
public sealed record Dropout3d : DropoutLayer
{
    /// <summary>A channel dropout with PyTorch's defaults.</summary>
    public Dropout3d(PyNumber? p = null, bool inplace = false) : base(p ?? 0.5, inplace) { }
}

/// <summary><c>torch.nn.AlphaDropout(p=0.5, inplace=False)</c>: the identity at inference. See <see cref="DropoutLayer"/>.</summary>
public sealed record AlphaDropout : DropoutLayer
{
    /// <summary>An alpha dropout with PyTorch's defaults.</summary>
    public AlphaDropout(PyNumber? p = null, bool inplace = false) : base(p ?? 0.5, inplace) { }
}

/// <summary><c>torch.nn.FeatureAlphaDropout(p=0.5, inplace=False)</c>: the identity at inference. See <see cref="DropoutLayer"/>.</summary>
public sealed record FeatureAlphaDropout : DropoutLayer
{
    /// <summary>A channel alpha dropout with PyTorch's defaults.</summary>
    public FeatureAlphaDropout(PyNumber? p = null, bool inplace = false) : base(p ?? 0.5, inplace) { }
}
