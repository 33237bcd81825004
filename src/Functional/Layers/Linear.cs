using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using Functional.Kernels;

namespace Functional;

/// <summary>
/// <c>torch.nn.Linear(in_features, out_features, bias=True)</c>: <c>y = x·Wᵀ + b</c> over the last
/// dimension, with any number of leading dimensions (<c>[..., in] → [..., out]</c>, a 1-D input
/// included). Weight <c>[out_features, in_features]</c>, bias <c>[out_features]</c>, both initialised
/// by PyTorch as uniform(±1/√in_features).
/// <para>
/// The rows of <c>x</c> (all leading dimensions flattened, <c>M</c> of them) go through one of two paths:
/// </para>
/// <code>
///   M small:  y[m, o] = dot(x[m, :], W[o, :]) + b[o]         W streamed once, rows of x stay in cache
///   M large:  Y [M × out] = X [M × in] · Wᵀ [in × out]        the kernel library's packed GEMM, run as a
///                                                            1×1 convolution whose "weight" is X and whose
///                                                            "image" is Wᵀ (transposed once per weight, cached)
/// </code>
/// </summary>
public sealed record Linear : Layer
{
    /// <summary>Rows below this use one dot product per output; from here on the packed GEMM is faster.</summary>
    private const int GemmRows = 8;

    // Wᵀ per weight tensor, made on first use. Keyed by the tensor itself, so a `with` that swaps the
    // weight never sees a stale transpose, and the record's equality does not depend on a cache.
    private static readonly ConditionalWeakTable<Tensor, float[]> Transposed = new();

    /// <summary>A linear layer with the given weight <c>[out, in]</c> and optional bias <c>[out]</c>.</summary>
    public Linear(Tensor weight, Tensor? bias = null)
    {
        ArgumentNullException.ThrowIfNull(weight);
        if (weight.Rank != 2) throw new ShapeException($"Linear: weight must have shape [out_features, in_features], got {weight.Shape}");
        Weight = weight;
        Bias = bias;
        InFeatures = weight.Shape[1];
        OutFeatures = weight.Shape[0];
        Validate();
    }

    /// <summary>Size of each input's last dimension.</summary>
    public int InFeatures { get; init; }

    /// <summary>Size of each output's last dimension.</summary>
    public int OutFeatures { get; init; }

    /// <summary>Weight <c>[out_features, in_features]</c>.</summary>
    public Tensor Weight { get; init; }

    /// <summary>Bias <c>[out_features]</c>, or null.</summary>
    public Tensor? Bias { get; init; }

    /// <summary>
    /// A Linear with weights fetched from <paramref name="weights"/> (<c>weight</c>, and <c>bias</c> unless
    /// <paramref name="bias"/> is false), PyTorch's arguments and defaults.
    /// </summary>
    public static Linear Load(Weights weights, int inFeatures, int outFeatures, bool bias = true)
    {
        ArgumentNullException.ThrowIfNull(weights);
        if (inFeatures < 0 || outFeatures < 0)
            throw new ShapeException($"Linear: in_features and out_features must be non-negative, got {inFeatures} and {outFeatures}");
        // PyTorch's reset_parameters: kaiming_uniform(a=√5) on the weight and the bias bound both come to 1/√in_features.
        var init = WeightInit.FanIn(inFeatures);
        var w = weights.Get("weight", new Shape(outFeatures, inFeatures), init);
        var b = bias ? weights.Get("bias", new Shape(outFeatures), init) : null;
        return new(w, b);
    }

    private void Validate()
    {
        if (InFeatures < 0 || OutFeatures < 0)
            throw new ShapeException($"Linear: in_features and out_features must be non-negative, got {InFeatures} and {OutFeatures}");
        if (Weight.Shape != new Shape(OutFeatures, InFeatures))
            throw new ShapeException($"Linear: weight has shape {Weight.Shape}, expected [{OutFeatures}, {InFeatures}] (out_features, in_features)");
        if (Bias is not null && Bias.Shape != new Shape(OutFeatures))
            throw new ShapeException($"Linear: bias has shape {Bias.Shape}, expected [{OutFeatures}]");
    }

    /// <inheritdoc/>
    public override Shape OutputShape(Shape input)
    {
        Validate();
        if (input.Rank == 0)
            throw Error($"expected an input with at least 1 dimension whose last is in_features={InFeatures}, got a scalar (shape {input})");
        if (input[-1] != InFeatures)
            throw Error($"expected the last dimension of the input to be in_features={InFeatures}, got input of shape {input} (mat1 {input.Take(input.Rank - 1).ElementCount}x{input[-1]} and Wᵀ {InFeatures}x{OutFeatures} cannot be multiplied)");
        return input.With(-1, OutFeatures);
    }

    /// <inheritdoc/>
    protected override Tensor Compute(Tensor input, Shape outputShape)
    {
        int k = InFeatures, n = OutFeatures;
        var y = TensorPool.Rent(outputShape);
        int m = n == 0 ? 0 : y.Length / n;
        if (m == 0) return Tensor.Own(y, outputShape);
        var x = input.Buffer;
        var w = Weight.Buffer;
        var b = Bias?.Buffer;
        if (k == 0)
        {
            // An empty sum: every row is the bias (or zero), as PyTorch's addmm gives.
            for (int r = 0; r < m; r++)
                if (b is null) y.AsSpan(r * n, n).Clear();
                else b.CopyTo(y, r * n);
        }
        else if (m < GemmRows || k == 1)
        {
            // Parallel over output features: each worker streams its rows of W once against all rows of x.
            Parallelism.For(n, (long)m * k, (start, end) =>
            {
                for (int o = start; o < end; o++)
                {
                    var wo = w.AsSpan(o * k, k);
                    float bo = b is null ? 0f : b[o];
                    for (int r = 0; r < m; r++)
                        y[r * n + o] = TensorPrimitives.Dot(x.AsSpan(r * k, k), wo) + bo;
                }
            });
        }
        else
        {
            // Y[M × N] = X[M × K] · Wᵀ[K × N]: a 1×1 convolution with OutChannels = M (weight X),
            // InChannels = K and N positions (image Wᵀ), so the kernel multiplies Wᵀ in place.
            var wt = Transposed.GetValue(Weight, static t => Transpose(t.Buffer, t.Shape[0], t.Shape[1]));
            var one = new Dim3(1, 1, 1);
            var plan = new ConvPlan(1, 1, k, m, new Dim3(1, 1, n), new Dim3(1, 1, n), one, one, one, new Dim3(0, 0, 0));
            Convolution.Forward(plan, wt, x, [], y);
            if (b is not null)
                for (int r = 0; r < m; r++)
                    TensorPrimitives.Add(y.AsSpan(r * n, n), b, y.AsSpan(r * n, n));
        }
        return Tensor.Own(y, outputShape);
    }

    /// <summary>Wᵀ: <c>[rows, cols]</c> → <c>[cols, rows]</c>, in cache-sized tiles.</summary>
    private static float[] Transpose(float[] a, int rows, int cols)
    {
        var t = GC.AllocateUninitializedArray<float>(a.Length);
        const int tile = 32;
        for (int r0 = 0; r0 < rows; r0 += tile)
            for (int c0 = 0; c0 < cols; c0 += tile)
                for (int r = r0; r < Math.Min(r0 + tile, rows); r++)
                    for (int c = c0; c < Math.Min(c0 + tile, cols); c++)
                        t[c * rows + r] = a[r * cols + c];
        return t;
    }

    /// <inheritdoc/>
    public override IEnumerable<(string Name, Tensor Value)> Parameters() =>
        Bias is null ? [("weight", Weight)] : [("weight", Weight), ("bias", Bias)];

    /// <inheritdoc/>
    protected override string ExtraRepr() => $"in_features={InFeatures}, out_features={OutFeatures}, bias={PyRepr.Bool(Bias is not null)}";
}

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
