using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Functional.Kernels;

namespace Functional;

/// <summary>
/// What batch and instance normalisation share (PyTorch's <c>_NormBase</c>): per-channel
/// <c>y = (x − mean) / √(var + eps) · weight + bias</c> with the biased variance, optional affine
/// <c>weight</c>/<c>bias</c> (<c>[num_features]</c>) and optional running statistics
/// (<c>running_mean</c>, <c>running_var</c>; <c>num_batches_tracked</c> is not needed in eval).
/// <c>momentum</c> only matters in training: it is kept for printing and otherwise ignored.
/// <para>
/// PyTorch's CPU kernel folds each channel into a scale and a shift, in float32:
/// <c>invstd = 1/√(var + eps)</c>, <c>alpha = invstd·weight</c>, <c>beta = bias − mean·alpha</c>,
/// <c>y = x·alpha + beta</c>; this does the same, in the same order. Statistics of the input
/// itself (when no running statistics are used) are summed in double, mean first, then the
/// centred sum of squares, as PyTorch does.
/// </para>
/// </summary>
public abstract record NormNd : Layer
{
    private protected NormNd(int rank, int numFeatures, PyNumber eps, PyNumber? momentum, bool affine, bool trackRunningStats,
        Tensor? weight, Tensor? bias, Tensor? runningMean, Tensor? runningVar)
    {
        SpatialRank = rank;
        NumFeatures = numFeatures;
        Eps = eps;
        Momentum = momentum;
        Affine = affine;
        TrackRunningStats = trackRunningStats;
        Weight = weight;
        Bias = bias;
        RunningMean = runningMean;
        RunningVar = runningVar;
        Validate();
    }

    /// <summary>Constructor arguments shared by every rank of batch and instance norm.</summary>
    internal readonly record struct NormArgs(int Features, PyNumber Eps, PyNumber? Momentum, bool Affine, bool Track,
        Tensor? Weight, Tensor? Bias, Tensor? Mean, Tensor? Var);

    /// <summary>Spatial dimensions after the channel dimension: 1, 2 or 3 (BatchNorm1d also takes none).</summary>
    public int SpatialRank { get; }

    /// <summary>Channels, <c>C</c>.</summary>
    public int NumFeatures { get; init; }

    /// <summary>Added to the variance inside the square root (printed as given, int or float).</summary>
    public PyNumber Eps { get; init; }

    /// <summary>Training-time running-average factor; ignored at inference, kept for printing (null is PyTorch's None).</summary>
    public PyNumber? Momentum { get; init; }

    /// <summary>Whether the layer has <see cref="Weight"/> and <see cref="Bias"/>.</summary>
    public bool Affine { get; init; }

    /// <summary>Whether the layer has running statistics (and, in eval, normalises with them).</summary>
    public bool TrackRunningStats { get; init; }

    /// <summary>Per-channel scale <c>[C]</c> when <see cref="Affine"/>.</summary>
    public Tensor? Weight { get; init; }

    /// <summary>Per-channel shift <c>[C]</c> when <see cref="Affine"/>.</summary>
    public Tensor? Bias { get; init; }

    /// <summary>Running mean <c>[C]</c> when <see cref="TrackRunningStats"/>.</summary>
    public Tensor? RunningMean { get; init; }

    /// <summary>Running (unbiased, as PyTorch keeps it) variance <c>[C]</c> when <see cref="TrackRunningStats"/>.</summary>
    public Tensor? RunningVar { get; init; }

    /// <summary>Whether the input's own statistics are used: PyTorch's eval-mode rule (no running statistics to use).</summary>
    public bool UsesInputStatistics => !TrackRunningStats;

    private void Validate()
    {
        string n = TypeName;
        if (NumFeatures < 1) throw new ShapeException($"{n}: num_features must be positive, got {NumFeatures}");
        var c = new Shape(NumFeatures);
        if (Affine != (Weight is not null) || Affine != (Bias is not null))
            throw new ShapeException($"{n}: affine={PyRepr.Bool(Affine)} needs {(Affine ? "both" : "neither of")} weight and bias");
        if (TrackRunningStats != (RunningMean is not null) || TrackRunningStats != (RunningVar is not null))
            throw new ShapeException($"{n}: track_running_stats={PyRepr.Bool(TrackRunningStats)} needs {(TrackRunningStats ? "both" : "neither of")} running_mean and running_var");
        foreach (var (name, t) in new[] { ("weight", Weight), ("bias", Bias), ("running_mean", RunningMean), ("running_var", RunningVar) })
            if (t is not null && t.Shape != c)
                throw new ShapeException($"{n}: {name} has shape {t.Shape}, expected {c}");
    }

    /// <summary>The accepted input ranks and where the channel dimension is in each.</summary>
    private protected abstract int ChannelAxis(Shape input);

    /// <inheritdoc/>
    public override Shape OutputShape(Shape input)
    {
        Validate();
        int axis = ChannelAxis(input);
        int channels = input[axis];
        // PyTorch checks the channel count only against tensors it has: with neither affine
        // parameters nor running statistics any channel count normalises (instance norm warns).
        if ((Affine || TrackRunningStats) && channels != NumFeatures)
            throw Error($"expected {NumFeatures} channels at dimension {axis}, got input of size {input}");
        if (UsesInputStatistics)
        {
            long values = StatisticsCount(input, axis);
            if (values <= 1 && input.ElementCount > 0)
                throw Error($"expected more than 1 value per channel to normalise with the input's own statistics (track_running_stats=False), got input of size {input}");
        }
        return input;
    }

    /// <summary>How many values each mean and variance is taken over when the input's statistics are used.</summary>
    private protected abstract long StatisticsCount(Shape input, int channelAxis);

    /// <summary>Number of independent (mean, variance) groups: channels for batch norm, (sample, channel) for instance norm.</summary>
    private protected abstract bool PerSample { get; }

    /// <inheritdoc/>
    protected override Tensor Compute(Tensor input, Shape outputShape) => Tensor.Own(Normalize(input, TensorPool.Rent(input.Count)), outputShape);

    // Every path takes a channel's statistics before writing that channel and reads each element
    // once, so the result can go over an input nobody else holds.
    private protected override Tensor ComputeConsuming(Tensor input, Shape outputShape)
    {
        if (!input.HasSoleStorage) return Compute(input, outputShape);
        Normalize(input, input.Buffer);
        return input.Reshape(outputShape);
    }

    /// <summary>Writes the normalised <paramref name="input"/> into <paramref name="y"/> (which may be the input's own buffer).</summary>
    private float[] Normalize(Tensor input, float[] y)
    {
        int axis = ChannelAxis(input.Shape);
        int n = checked((int)input.Shape.Take(axis).ElementCount);
        int c = input.Shape[axis];
        int inner = checked((int)input.Shape.Skip(axis + 1).ElementCount);
        var x = input.Buffer;
        var w = Weight?.Buffer;
        var b = Bias?.Buffer;
        if (!UsesInputStatistics)
        {
            var rm = RunningMean!.Buffer;
            var rv = RunningVar!.Buffer;
            float eps = (float)Eps.Value;
            var alpha = new float[c];
            var beta = new float[c];
            for (int ch = 0; ch < c; ch++)
            {
                float invstd = 1f / MathF.Sqrt(rv[ch] + eps);
                alpha[ch] = invstd * (w?[ch] ?? 1f);
                beta[ch] = (b?[ch] ?? 0f) - rm[ch] * alpha[ch];
            }
            Parallelism.For(n * c, 2L * inner, (start, end) =>
            {
                for (int p = start; p < end; p++)
                    Scale(x.AsSpan(p * inner, inner), alpha[p % c], beta[p % c], y.AsSpan(p * inner, inner));
            });
        }
        else if (PerSample)
        {
            // Instance norm: PyTorch runs batch norm on the input viewed as (1, N·C, ...).
            Parallelism.For(n * c, 4L * inner, (start, end) =>
            {
                for (int p = start; p < end; p++)
                {
                    var (mean, invstd) = BatchStatistics(x, p * inner, 1, inner, 0, Eps.Value);
                    float alpha = invstd * (w?[p % c] ?? 1f);
                    float beta = (b?[p % c] ?? 0f) - mean * alpha;
                    Scale(x.AsSpan(p * inner, inner), alpha, beta, y.AsSpan(p * inner, inner));
                }
            });
        }
        else
        {
            Parallelism.For(c, 4L * n * inner, (start, end) =>
            {
                for (int ch = start; ch < end; ch++)
                {
                    var (mean, invstd) = BatchStatistics(x, ch * inner, n, inner, c * inner, Eps.Value);
                    float alpha = invstd * (w?[ch] ?? 1f);
                    float beta = (b?[ch] ?? 0f) - mean * alpha;
                    for (int s = 0; s < n; s++)
                    {
                        int o = (s * c + ch) * inner;
                        Scale(x.AsSpan(o, inner), alpha, beta, y.AsSpan(o, inner));
                    }
                }
            });
        }
        return y;
    }

    /// <summary><c>y = x·alpha + beta</c> in one pass, multiply then add, unfused, as PyTorch's vectorised loop (y may be x).</summary>
    private static void Scale(ReadOnlySpan<float> x, float alpha, float beta, Span<float> y)
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var a = Vector256.Create(alpha);
            var b = Vector256.Create(beta);
            ref float xs = ref MemoryMarshal.GetReference(x);
            ref float ys = ref MemoryMarshal.GetReference(y);
            for (; i <= x.Length - Vector256<float>.Count; i += Vector256<float>.Count)
                (Vector256.LoadUnsafe(ref xs, (nuint)i) * a + b).StoreUnsafe(ref ys, (nuint)i);
        }
        for (; i < x.Length; i++) y[i] = x[i] * alpha + beta;
    }

    /// <summary>
    /// PyTorch's <c>batch_norm_cpu_collect_stats</c> for one channel: <paramref name="rows"/> runs of
    /// <paramref name="length"/> values <paramref name="stride"/> apart. The sum is taken in double
    /// and the mean rounded to float; the centred squares are float, summed in double, the sum
    /// rounded to float and divided in float; then <c>1/√(var + eps)</c> in double, as PyTorch.
    /// </summary>
    private static (float Mean, float InvStd) BatchStatistics(float[] x, int offset, int rows, int length, int stride, double eps)
    {
        double sum = 0;
        for (int r = 0; r < rows; r++)
        {
            int o = offset + r * stride;
            for (int i = 0; i < length; i++) sum += x[o + i];
        }
        long count = (long)rows * length;
        float mean = (float)(sum / count);
        double squares = 0;
        for (int r = 0; r < rows; r++)
        {
            int o = offset + r * stride;
            for (int i = 0; i < length; i++)
            {
                float d = x[o + i] - mean;
                squares += d * d;
            }
        }
        float variance = (float)squares / count;
        double v = variance;
        float invstd = v == 0 && eps == 0 ? 0f : (float)(1 / Math.Sqrt(v + eps));
        return (mean, invstd);
    }

    /// <inheritdoc/>
    public override IEnumerable<(string Name, Tensor Value)> Parameters() =>
        Affine ? [("weight", Weight!), ("bias", Bias!)] : [];

    /// <inheritdoc/>
    public override IEnumerable<(string Name, Tensor Value)> Buffers() =>
        TrackRunningStats ? [("running_mean", RunningMean!), ("running_var", RunningVar!)] : [];

    /// <inheritdoc/>
    protected override string ExtraRepr() =>
        $"{NumFeatures}, eps={Eps}, momentum={(Momentum is { } m ? m.ToString() : "None")}, affine={PyRepr.Bool(Affine)}, track_running_stats={PyRepr.Bool(TrackRunningStats)}";

    /// <summary>Fetches <c>weight</c>/<c>bias</c> and <c>running_mean</c>/<c>running_var</c> as the flags ask, with PyTorch's initial values.</summary>
    private protected static (Tensor? W, Tensor? B, Tensor? Mean, Tensor? Var) LoadTensors(Weights weights, string name, int numFeatures, bool affine, bool trackRunningStats)
    {
        if (numFeatures < 1) throw new ShapeException($"{name}: num_features must be positive, got {numFeatures}");
        var c = new Shape(numFeatures);
        return (affine ? weights.Get("weight", c, new WeightInit.Constant(1f)) : null,
            affine ? weights.Get("bias", c, new WeightInit.Constant(0f)) : null,
            trackRunningStats ? weights.Get("running_mean", c, new WeightInit.Constant(0f)) : null,
            trackRunningStats ? weights.Get("running_var", c, new WeightInit.Constant(1f)) : null);
    }
}

/// <summary>
/// <c>torch.nn.BatchNormNd</c> in eval mode: normalises each channel over the batch and spatial
/// dimensions with the running statistics, or, with <c>track_running_stats=False</c>, with the
/// statistics of the input batch itself (PyTorch's eval behaviour then). Defaults
/// <c>eps=1e-5</c>, <c>momentum=0.1</c>, <c>affine=True</c>, <c>track_running_stats=True</c>.
/// Input <c>(N, C, ...)</c>; no unbatched form (PyTorch has none). See <see cref="NormNd"/>.
/// </summary>
public abstract record BatchNormNd : NormNd
{
    private protected BatchNormNd(int rank, NormArgs a)
        : base(rank, a.Features, a.Eps, a.Momentum, a.Affine, a.Track, a.Weight, a.Bias, a.Mean, a.Var) { }

    /// <inheritdoc/>
    public override string TypeName => $"BatchNorm{SpatialRank}d";

    private protected override bool PerSample => false;

    private protected override int ChannelAxis(Shape input)
    {
        bool ok = SpatialRank == 1 ? input.Rank is 2 or 3 : input.Rank == SpatialRank + 2;
        if (!ok) throw Error($"expected {(SpatialRank == 1 ? "2D or 3D" : $"{SpatialRank + 2}D")} input (got {input.Rank}D input of size {input})");
        return 1;
    }

    private protected override long StatisticsCount(Shape input, int channelAxis) => input.ElementCount / Math.Max(input[channelAxis], 1);

    /// <summary>A batch norm of rank <paramref name="rank"/> with its tensors fetched from <paramref name="weights"/> (<c>weight</c>, <c>bias</c>, <c>running_mean</c>, <c>running_var</c>).</summary>
    public static BatchNormNd Load(int rank, Weights weights, int numFeatures, PyNumber? eps = null, PyNumber? momentum = null,
        bool affine = true, bool trackRunningStats = true, bool momentumIsNone = false)
    {
        string name = $"BatchNorm{rank}d";
        var (w, b, m, v) = LoadTensors(weights, name, numFeatures, affine, trackRunningStats);
        var e = eps ?? 1e-5;
        var mo = momentumIsNone ? null : momentum ?? (PyNumber?)0.1;
        return Members.Create(rank, new(numFeatures, e, mo, affine, trackRunningStats, w, b, m, v));
    }

    private static readonly ByRank<NormArgs, BatchNormNd> Members = new("batch norm has", a => new BatchNorm1d(a), a => new BatchNorm2d(a), a => new BatchNorm3d(a));
}

/// <summary><c>torch.nn.BatchNorm1d</c>: input <c>(N, C)</c> or <c>(N, C, L)</c>. See <see cref="BatchNormNd"/>.</summary>
public sealed record BatchNorm1d : BatchNormNd
{
    internal BatchNorm1d(NormArgs a) : base(1, a) { }

    /// <summary>A BatchNorm1d with tensors from <paramref name="weights"/>, PyTorch's arguments and defaults (<paramref name="momentumIsNone"/> is <c>momentum=None</c>).</summary>
    public static BatchNorm1d Load(Weights weights, int numFeatures, PyNumber? eps = null, PyNumber? momentum = null, bool affine = true,
        bool trackRunningStats = true, bool momentumIsNone = false) =>
        (BatchNorm1d)Load(1, weights, numFeatures, eps, momentum, affine, trackRunningStats, momentumIsNone);
}

/// <summary><c>torch.nn.BatchNorm2d</c>: input <c>(N, C, H, W)</c>. See <see cref="BatchNormNd"/>.</summary>
public sealed record BatchNorm2d : BatchNormNd
{
    internal BatchNorm2d(NormArgs a) : base(2, a) { }

    /// <summary>A BatchNorm2d with tensors from <paramref name="weights"/>, PyTorch's arguments and defaults (<paramref name="momentumIsNone"/> is <c>momentum=None</c>).</summary>
    public static BatchNorm2d Load(Weights weights, int numFeatures, PyNumber? eps = null, PyNumber? momentum = null, bool affine = true,
        bool trackRunningStats = true, bool momentumIsNone = false) =>
        (BatchNorm2d)Load(2, weights, numFeatures, eps, momentum, affine, trackRunningStats, momentumIsNone);
}

/// <summary><c>torch.nn.BatchNorm3d</c>: input <c>(N, C, D, H, W)</c>. See <see cref="BatchNormNd"/>.</summary>
public sealed record BatchNorm3d : BatchNormNd
{
    internal BatchNorm3d(NormArgs a) : base(3, a) { }

    /// <summary>A BatchNorm3d with tensors from <paramref name="weights"/>, PyTorch's arguments and defaults (<paramref name="momentumIsNone"/> is <c>momentum=None</c>).</summary>
    public static BatchNorm3d Load(Weights weights, int numFeatures, PyNumber? eps = null, PyNumber? momentum = null, bool affine = true,
        bool trackRunningStats = true, bool momentumIsNone = false) =>
        (BatchNorm3d)Load(3, weights, numFeatures, eps, momentum, affine, trackRunningStats, momentumIsNone);
}

/// <summary>
/// <c>torch.nn.InstanceNormNd</c> in eval mode: normalises each (sample, channel) plane over its
/// spatial dimensions with the plane's own statistics, or, with <c>track_running_stats=True</c>,
/// with the running statistics (PyTorch's eval behaviour). Defaults <c>eps=1e-5</c>,
/// <c>momentum=0.1</c>, <c>affine=False</c>, <c>track_running_stats=False</c>. Input
/// <c>(N, C, ...)</c> or unbatched <c>(C, ...)</c>. See <see cref="NormNd"/>.
/// </summary>
public abstract record InstanceNormNd : NormNd
{
    private protected InstanceNormNd(int rank, NormArgs a)
        : base(rank, a.Features, a.Eps, a.Momentum, a.Affine, a.Track, a.Weight, a.Bias, a.Mean, a.Var) { }

    /// <inheritdoc/>
    public override string TypeName => $"InstanceNorm{SpatialRank}d";

    private protected override bool PerSample => true;

    private protected override int ChannelAxis(Shape input)
    {
        if (input.Rank != SpatialRank + 1 && input.Rank != SpatialRank + 2)
            throw Error($"expected {SpatialRank + 1}D (unbatched) or {SpatialRank + 2}D (batched) input (got {input.Rank}D input of size {input})");
        return input.Rank - SpatialRank - 1;
    }

    private protected override long StatisticsCount(Shape input, int channelAxis) => input.Skip(channelAxis + 1).ElementCount;

    /// <summary>An instance norm of rank <paramref name="rank"/> with its tensors fetched from <paramref name="weights"/> as the flags ask.</summary>
    public static InstanceNormNd Load(int rank, Weights weights, int numFeatures, PyNumber? eps = null, PyNumber? momentum = null,
        bool affine = false, bool trackRunningStats = false, bool momentumIsNone = false)
    {
        string name = $"InstanceNorm{rank}d";
        var (w, b, m, v) = LoadTensors(weights, name, numFeatures, affine, trackRunningStats);
        var e = eps ?? 1e-5;
        var mo = momentumIsNone ? null : momentum ?? (PyNumber?)0.1;
        return Members.Create(rank, new(numFeatures, e, mo, affine, trackRunningStats, w, b, m, v));
    }

    private static readonly ByRank<NormArgs, InstanceNormNd> Members = new("instance norm has", a => new InstanceNorm1d(a), a => new InstanceNorm2d(a), a => new InstanceNorm3d(a));
}

/// <summary><c>torch.nn.InstanceNorm1d</c>: input <c>(N, C, L)</c> or <c>(C, L)</c>. See <see cref="InstanceNormNd"/>.</summary>
public sealed record InstanceNorm1d : InstanceNormNd
{
    internal InstanceNorm1d(NormArgs a) : base(1, a) { }

    /// <summary>An InstanceNorm1d with tensors from <paramref name="weights"/> as the flags ask, PyTorch's arguments and defaults.</summary>
    public static InstanceNorm1d Load(Weights weights, int numFeatures, PyNumber? eps = null, PyNumber? momentum = null, bool affine = false,
        bool trackRunningStats = false, bool momentumIsNone = false) =>
        (InstanceNorm1d)Load(1, weights, numFeatures, eps, momentum, affine, trackRunningStats, momentumIsNone);
}

/// <summary><c>torch.nn.InstanceNorm2d</c>: input <c>(N, C, H, W)</c> or <c>(C, H, W)</c>. See <see cref="InstanceNormNd"/>.</summary>
public sealed record InstanceNorm2d : InstanceNormNd
{
    internal InstanceNorm2d(NormArgs a) : base(2, a) { }

    /// <summary>An InstanceNorm2d with tensors from <paramref name="weights"/> as the flags ask, PyTorch's arguments and defaults.</summary>
    public static InstanceNorm2d Load(Weights weights, int numFeatures, PyNumber? eps = null, PyNumber? momentum = null, bool affine = false,
        bool trackRunningStats = false, bool momentumIsNone = false) =>
        (InstanceNorm2d)Load(2, weights, numFeatures, eps, momentum, affine, trackRunningStats, momentumIsNone);
}

/// <summary><c>torch.nn.InstanceNorm3d</c>: input <c>(N, C, D, H, W)</c> or <c>(C, D, H, W)</c>. See <see cref="InstanceNormNd"/>.</summary>
public sealed record InstanceNorm3d : InstanceNormNd
{
    internal InstanceNorm3d(NormArgs a) : base(3, a) { }

    /// <summary>An InstanceNorm3d with tensors from <paramref name="weights"/> as the flags ask, PyTorch's arguments and defaults.</summary>
    public static InstanceNorm3d Load(Weights weights, int numFeatures, PyNumber? eps = null, PyNumber? momentum = null, bool affine = false,
        bool trackRunningStats = false, bool momentumIsNone = false) =>
        (InstanceNorm3d)Load(3, weights, numFeatures, eps, momentum, affine, trackRunningStats, momentumIsNone);
}

/// <summary>
/// <c>torch.nn.LayerNorm</c>: normalises over the trailing dimensions given by
/// <c>normalized_shape</c> (an int or a tuple), <c>y = (x − mean)/√(var + eps) · weight + bias</c>
/// with the biased variance and, when <c>elementwise_affine</c>, <c>weight</c> and <c>bias</c> of
/// shape <c>normalized_shape</c>. Defaults <c>eps=1e-5</c>, <c>elementwise_affine=True</c>. As
/// PyTorch's CPU kernel: <c>rstd = 1/√(var + eps)</c> in float, then
/// <c>y = (x·rstd + (−mean·rstd))·weight + bias</c>. The statistics are taken in double, two-pass.
/// </summary>
public sealed record LayerNorm : Layer
{
    private LayerNorm(Dims normalizedShape, PyNumber eps, bool elementwiseAffine, Tensor? weight, Tensor? bias)
    {
        NormalizedShape = normalizedShape;
        Eps = eps;
        ElementwiseAffine = elementwiseAffine;
        Weight = weight;
        Bias = bias;
        Validate();
    }

    /// <summary>The trailing dimensions normalised over.</summary>
    public Dims NormalizedShape { get; init; }

    /// <summary>Added to the variance inside the square root.</summary>
    public PyNumber Eps { get; init; }

    /// <summary>Whether the layer has <see cref="Weight"/> and <see cref="Bias"/>.</summary>
    public bool ElementwiseAffine { get; init; }

    /// <summary>Element-wise scale of shape <see cref="NormalizedShape"/>, or null.</summary>
    public Tensor? Weight { get; init; }

    /// <summary>Element-wise shift of shape <see cref="NormalizedShape"/>, or null.</summary>
    public Tensor? Bias { get; init; }

    private void Validate()
    {
        if (NormalizedShape.Count == 0) throw new ShapeException("LayerNorm: normalized_shape must have at least one dimension");
        foreach (int d in NormalizedShape.Values)
            if (d < 1) throw new ShapeException($"LayerNorm: normalized_shape must be positive, got {NormalizedShape}");
        var s = new Shape(NormalizedShape.Values);
        if (ElementwiseAffine != (Weight is not null) || ElementwiseAffine != (Bias is not null))
            throw new ShapeException($"LayerNorm: elementwise_affine={PyRepr.Bool(ElementwiseAffine)} needs {(ElementwiseAffine ? "both" : "neither of")} weight and bias");
        if (Weight is not null && Weight.Shape != s) throw new ShapeException($"LayerNorm: weight has shape {Weight.Shape}, expected {s}");
        if (Bias is not null && Bias.Shape != s) throw new ShapeException($"LayerNorm: bias has shape {Bias.Shape}, expected {s}");
    }

    /// <summary>A LayerNorm with <c>weight</c>/<c>bias</c> fetched from <paramref name="weights"/> when <paramref name="elementwiseAffine"/>.</summary>
    public static LayerNorm Load(Weights weights, Dims normalizedShape, PyNumber? eps = null, bool elementwiseAffine = true)
    {
        var s = new Shape(normalizedShape.Values);
        if (normalizedShape.Count == 0 || s.Any(d => d < 1)) throw new ShapeException($"LayerNorm: normalized_shape must be positive, got {normalizedShape}");
        return new LayerNorm(normalizedShape, eps ?? 1e-5, elementwiseAffine,
            elementwiseAffine ? weights.Get("weight", s, new WeightInit.Constant(1f)) : null,
            elementwiseAffine ? weights.Get("bias", s, new WeightInit.Constant(0f)) : null);
    }

    /// <summary>A LayerNorm without parameters (<c>elementwise_affine=False</c>).</summary>
    public static LayerNorm Plain(Dims normalizedShape, PyNumber? eps = null) => new(normalizedShape, eps ?? 1e-5, false, null, null);

    /// <inheritdoc/>
    public override Shape OutputShape(Shape input)
    {
        Validate();
        int k = NormalizedShape.Count;
        var want = new Shape(NormalizedShape.Values);
        if (input.Rank < k || input.Skip(input.Rank - k) != want)
            throw Error($"given normalized_shape={want}, expected input with shape [*, {string.Join(", ", want)}], but got input of size {input}");
        return input;
    }

    /// <inheritdoc/>
    protected override Tensor Compute(Tensor input, Shape outputShape)
    {
        int m = checked((int)new Shape(NormalizedShape.Values).ElementCount);
        int rows = input.Count / m;
        var x = input.Buffer;
        var y = TensorPool.Rent(input.Count);
        float eps = (float)Eps.Value;
        var w = Weight?.Buffer;
        var b = Bias?.Buffer;
        Parallelism.For(rows, 6L * m, (start, end) =>
        {
            for (int r = start; r < end; r++)
            {
                var xs = x.AsSpan(r * m, m);
                var ys = y.AsSpan(r * m, m);
                var (mean, variance) = RowMoments.Of(xs);
                float rstd = 1f / MathF.Sqrt(variance + eps);
                float shift = -mean * rstd;
                TensorPrimitives.Multiply(xs, rstd, ys);
                TensorPrimitives.Add(ys, shift, ys);
                if (w is not null)
                {
                    TensorPrimitives.Multiply(ys, w, ys);
                    TensorPrimitives.Add(ys, b!, ys);
                }
            }
        });
        return Tensor.Own(y, outputShape);
    }

    /// <inheritdoc/>
    public override IEnumerable<(string Name, Tensor Value)> Parameters() =>
        ElementwiseAffine ? [("weight", Weight!), ("bias", Bias!)] : [];

    /// <inheritdoc/>
    protected override string ExtraRepr() =>
        $"{PyRepr.Tuple(NormalizedShape.Values)}, eps={Eps}, elementwise_affine={PyRepr.Bool(ElementwiseAffine)}";
}

/// <summary>
/// <c>torch.nn.GroupNorm</c>: splits the channels of an <c>(N, C, ...)</c> input into
/// <c>num_groups</c> groups and normalises each (sample, group) over its channels and spatial
/// positions, biased variance, then applies the per-channel <c>weight</c>/<c>bias</c>
/// (<c>[num_channels]</c>) when <c>affine</c>. Defaults <c>eps=1e-5</c>, <c>affine=True</c>. As
/// PyTorch's CPU kernel: <c>rstd = 1/√(max(var, 0) + eps)</c> in float; with affine
/// <c>scale = rstd·weight</c>, <c>shift = −scale·mean + bias</c>, <c>y = scale·x + shift</c>; without,
/// <c>y = (x − mean)·rstd</c>. No unbatched form: PyTorch reads dimension 0 as the batch.
/// </summary>
public sealed record GroupNorm : Layer
{
    private GroupNorm(int numGroups, int numChannels, PyNumber eps, bool affine, Tensor? weight, Tensor? bias)
    {
        NumGroups = numGroups;
        NumChannels = numChannels;
        Eps = eps;
        Affine = affine;
        Weight = weight;
        Bias = bias;
        Validate();
    }

    /// <summary>Groups the channels are split into.</summary>
    public int NumGroups { get; init; }

    /// <summary>Channels, <c>C</c>.</summary>
    public int NumChannels { get; init; }

    /// <summary>Added to the variance inside the square root.</summary>
    public PyNumber Eps { get; init; }

    /// <summary>Whether the layer has <see cref="Weight"/> and <see cref="Bias"/>.</summary>
    public bool Affine { get; init; }

    /// <summary>Per-channel scale <c>[C]</c>, or null.</summary>
    public Tensor? Weight { get; init; }

    /// <summary>Per-channel shift <c>[C]</c>, or null.</summary>
    public Tensor? Bias { get; init; }

    private void Validate()
    {
        Check(NumGroups, NumChannels);
        var c = new Shape(NumChannels);
        if (Affine != (Weight is not null) || Affine != (Bias is not null))
            throw new ShapeException($"GroupNorm: affine={PyRepr.Bool(Affine)} needs {(Affine ? "both" : "neither of")} weight and bias");
        if (Weight is not null && Weight.Shape != c) throw new ShapeException($"GroupNorm: weight has shape {Weight.Shape}, expected {c}");
        if (Bias is not null && Bias.Shape != c) throw new ShapeException($"GroupNorm: bias has shape {Bias.Shape}, expected {c}");
    }

    private static void Check(int groups, int channels)
    {
        if (groups < 1 || channels < 1) throw new ShapeException($"GroupNorm: num_groups and num_channels must be positive, got {groups} and {channels}");
        if (channels % groups != 0) throw new ShapeException($"GroupNorm: num_channels must be divisible by num_groups, got num_channels={channels} and num_groups={groups}");
    }

    /// <summary>A GroupNorm with <c>weight</c>/<c>bias</c> fetched from <paramref name="weights"/> when <paramref name="affine"/>.</summary>
    public static GroupNorm Load(Weights weights, int numGroups, int numChannels, PyNumber? eps = null, bool affine = true)
    {
        Check(numGroups, numChannels);
        var c = new Shape(numChannels);
        return new GroupNorm(numGroups, numChannels, eps ?? 1e-5, affine,
            affine ? weights.Get("weight", c, new WeightInit.Constant(1f)) : null,
            affine ? weights.Get("bias", c, new WeightInit.Constant(0f)) : null);
    }

    /// <summary>A GroupNorm without parameters (<c>affine=False</c>).</summary>
    public static GroupNorm Plain(int numGroups, int numChannels, PyNumber? eps = null) => new(numGroups, numChannels, eps ?? 1e-5, false, null, null);

    /// <inheritdoc/>
    public override Shape OutputShape(Shape input)
    {
        Validate();
        if (input.Rank < 2) throw Error($"expected an input of at least 2 dimensions (N, C, *), got input of size {input}");
        int c = input[1];
        // As PyTorch: without affine parameters only divisibility is checked, not num_channels.
        if (Affine && c != NumChannels)
            throw Error($"expected {NumChannels} channels at dimension 1, got input of size {input}");
        if (c % NumGroups != 0)
            throw Error($"expected number of channels in input to be divisible by num_groups, but got input of size {input} and num_groups={NumGroups}");
        return input;
    }

    /// <inheritdoc/>
    protected override Tensor Compute(Tensor input, Shape outputShape)
    {
        int n = input.Shape[0], c = input.Shape[1], g = NumGroups, d = c / g;
        int hw = checked((int)input.Shape.Skip(2).ElementCount);
        int groupSize = d * hw;
        var x = input.Buffer;
        var y = TensorPool.Rent(input.Count);
        float eps = (float)Eps.Value;
        var w = Weight?.Buffer;
        var b = Bias?.Buffer;
        Parallelism.For(n * g, 6L * groupSize, (start, end) =>
        {
            for (int i = start; i < end; i++)
            {
                var xs = x.AsSpan(i * groupSize, groupSize);
                var (mean, variance) = RowMoments.Of(xs);
                float rstd = 1f / MathF.Sqrt(MathF.Max(variance, 0f) + eps);
                if (w is null)
                {
                    var ys = y.AsSpan(i * groupSize, groupSize);
                    TensorPrimitives.Subtract(xs, mean, ys);
                    TensorPrimitives.Multiply(ys, rstd, ys);
                    continue;
                }
                for (int j = 0; j < d; j++)
                {
                    int ch = (i % g) * d + j;
                    float scale = rstd * w[ch];
                    float shift = -scale * mean + b![ch];
                    var ys = y.AsSpan((i * d + j) * hw, hw);
                    TensorPrimitives.Multiply(x.AsSpan((i * d + j) * hw, hw), scale, ys);
                    TensorPrimitives.Add(ys, shift, ys);
                }
            }
        });
        return Tensor.Own(y, outputShape);
    }

    /// <inheritdoc/>
    public override IEnumerable<(string Name, Tensor Value)> Parameters() =>
        Affine ? [("weight", Weight!), ("bias", Bias!)] : [];

    /// <inheritdoc/>
    protected override string ExtraRepr() => $"{NumGroups}, {NumChannels}, eps={Eps}, affine={PyRepr.Bool(Affine)}";
}

/// <summary>Mean and biased variance of a row, two-pass in double, rounded to float at the end.</summary>
internal static class RowMoments
{
    public static (float Mean, float Variance) Of(ReadOnlySpan<float> x)
    {
        if (x.Length == 0) return (float.NaN, float.NaN);
        double sum = 0;
        foreach (float v in x) sum += v;
        double mean = sum / x.Length;
        double squares = 0;
        foreach (float v in x)
        {
            double dv = v - mean;
            squares += dv * dv;
        }
        return ((float)mean, (float)(squares / x.Length));
    }
}
