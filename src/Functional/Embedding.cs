namespace Functional;

/// <summary>
/// <c>torch.nn.Embedding(num_embeddings, embedding_dim, padding_idx=None, max_norm=None, norm_type=2.0,
/// scale_grad_by_freq=False, sparse=False)</c> at inference: a lookup of rows of the weight
/// <c>[num_embeddings, embedding_dim]</c>. Indices of any shape give <c>indices.shape + [embedding_dim]</c>.
/// <para>
/// <c>padding_idx</c>, <c>scale_grad_by_freq</c> and <c>sparse</c> only change training (the padding row
/// gets no gradient; the row itself is looked up like any other), so they are kept for the printout.
/// A negative <c>padding_idx</c> is stored as <c>num_embeddings + padding_idx</c>, as PyTorch stores it.
/// <c>max_norm</c> is not supported: PyTorch renormalises the looked-up rows of the weight in place
/// during forward, a mutation a frozen layer cannot reproduce.
/// </para>
/// <para>
/// <see cref="Layer.Forward(Tensor)"/> takes a float tensor holding integer indices (exact below 2²⁴);
/// <see cref="Forward(IndexTensor)"/> takes int64 indices as PyTorch does.
/// </para>
/// </summary>
public sealed record Embedding : Layer
{
    /// <summary>An embedding with the given weight <c>[num_embeddings, embedding_dim]</c>.</summary>
    public Embedding(Tensor weight, int? paddingIdx = null)
    {
        ArgumentNullException.ThrowIfNull(weight);
        if (weight.Rank != 2) throw new ShapeException($"Embedding: weight must have shape [num_embeddings, embedding_dim], got {weight.Shape}");
        Weight = weight;
        NumEmbeddings = weight.Shape[0];
        EmbeddingDim = weight.Shape[1];
        PaddingIdx = NormalizePaddingIdx(paddingIdx, NumEmbeddings);
        Validate();
    }

    /// <summary>Rows of the table.</summary>
    public int NumEmbeddings { get; init; }

    /// <summary>Length of each row.</summary>
    public int EmbeddingDim { get; init; }

    /// <summary>The padding row (non-negative once normalised), or null.</summary>
    public int? PaddingIdx { get; init; }

    /// <summary>PyTorch's <c>norm_type</c>, used only with <c>max_norm</c>; kept for the printout.</summary>
    public PyNumber NormType { get; init; } = 2.0;

    /// <summary>PyTorch's <c>scale_grad_by_freq</c> (training only); kept for the printout.</summary>
    public bool ScaleGradByFreq { get; init; }

    /// <summary>PyTorch's <c>sparse</c> (sparse gradients; training only); kept for the printout.</summary>
    public bool Sparse { get; init; }

    /// <summary>The table <c>[num_embeddings, embedding_dim]</c>.</summary>
    public Tensor Weight { get; init; }

    /// <summary>An Embedding with its weight fetched from <paramref name="weights"/> (<c>weight</c>), PyTorch's arguments and defaults.</summary>
    public static Embedding Load(Weights weights, int numEmbeddings, int embeddingDim, int? paddingIdx = null)
    {
        ArgumentNullException.ThrowIfNull(weights);
        if (numEmbeddings < 0 || embeddingDim < 0)
            throw new ShapeException($"Embedding: num_embeddings and embedding_dim must be non-negative, got {numEmbeddings} and {embeddingDim}");
        NormalizePaddingIdx(paddingIdx, numEmbeddings);
        // PyTorch initialises N(0, 1); a uniform of the same scale is enough for Weights.Random's purpose.
        return new(weights.Get("weight", new Shape(numEmbeddings, embeddingDim), new WeightInit.Uniform(1)), paddingIdx);
    }

    private static int? NormalizePaddingIdx(int? paddingIdx, int numEmbeddings)
    {
        if (paddingIdx is not { } p) return null;
        if (p >= numEmbeddings || p < -numEmbeddings)
            throw new ShapeException($"Embedding: Padding_idx must be within num_embeddings: padding_idx={p}, num_embeddings={numEmbeddings} (allowed {-numEmbeddings}..{numEmbeddings - 1})");
        return p < 0 ? p + numEmbeddings : p;
    }

    private void Validate()
    {
        if (Weight.Shape != new Shape(NumEmbeddings, EmbeddingDim))
            throw new ShapeException($"Embedding: weight has shape {Weight.Shape}, expected [{NumEmbeddings}, {EmbeddingDim}] (num_embeddings, embedding_dim)");
        if (PaddingIdx is { } p && (p < 0 || p >= NumEmbeddings))
            throw new ShapeException($"Embedding: padding_idx={p} must be in 0..{NumEmbeddings - 1} once normalised");
    }

    /// <inheritdoc/>
    public override Shape OutputShape(Shape input)
    {
        Validate();
        return input.Concat(new Shape(EmbeddingDim));
    }

    /// <inheritdoc/>
    protected override Tensor Compute(Tensor input, Shape outputShape)
    {
        var x = input.Span;
        var y = TensorPool.Rent(outputShape);
        for (int i = 0; i < x.Length; i++)
        {
            float v = x[i];
            // Floats hold every integer below 2^24 exactly; anything else is not an index PyTorch could have been given.
            if (!(v == MathF.Floor(v)) || Math.Abs(v) > 1 << 24)
                throw Error($"index {v:R} at position {i} of input {input.Shape} is not an integer (a float input must hold integer indices below 2^24)");
            Copy((long)v, i, input.Shape, y);
        }
        return Tensor.Own(y, outputShape);
    }

    /// <summary>Looks up int64 indices of any shape: output <c>indices.shape + [embedding_dim]</c>.</summary>
    public Tensor Forward(IndexTensor indices)
    {
        ArgumentNullException.ThrowIfNull(indices);
        var outputShape = OutputShape(indices.Shape);
        var x = indices.Span;
        var y = TensorPool.Rent(outputShape);
        for (int i = 0; i < x.Length; i++) Copy(x[i], i, indices.Shape, y);
        return Tensor.Own(y, outputShape);
    }

    private void Copy(long index, int position, Shape inputShape, float[] y)
    {
        if (index < 0 || index >= NumEmbeddings)
            throw Error($"index {index} at position {position} of input {inputShape} is out of range for num_embeddings={NumEmbeddings} (PyTorch: index out of range in self)");
        int d = EmbeddingDim;
        Weight.Span.Slice((int)index * d, d).CopyTo(y.AsSpan(position * d, d));
    }

    /// <inheritdoc/>
    public override IEnumerable<(string Name, Tensor Value)> Parameters() => [("weight", Weight)];

    /// <inheritdoc/>
    protected override string ExtraRepr()
    {
        var s = $"{NumEmbeddings}, {EmbeddingDim}";
        if (PaddingIdx is { } p) s += $", padding_idx={p}";
        if (NormType.Value != 2) s += $", norm_type={NormType}";
        if (ScaleGradByFreq) s += ", scale_grad_by_freq=True";
        if (Sparse) s += ", sparse=True";
        return s;
    }
}
