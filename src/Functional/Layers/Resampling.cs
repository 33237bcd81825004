using System.Collections.Immutable;
using Functional.Kernels;

namespace Functional;

/// <summary>PyTorch's interpolation <c>mode</c> for <see cref="Upsample"/>.</summary>
public enum UpsampleMode
{
    /// <summary><c>'nearest'</c>: source index <c>⌊dst·scale⌋</c> (any of 1-3 spatial dimensions).</summary>
    Nearest,
    /// <summary><c>'nearest-exact'</c>: source index <c>⌊(dst + ½)·scale⌋</c>, the pixel-centre rule.</summary>
    NearestExact,
    /// <summary><c>'linear'</c>: 1 spatial dimension (3-D input).</summary>
    Linear,
    /// <summary><c>'bilinear'</c>: 2 spatial dimensions (4-D input).</summary>
    Bilinear,
    /// <summary><c>'bicubic'</c>: 2 spatial dimensions, Keys' cubic with A = −0.75, border indices clamped.</summary>
    Bicubic,
    /// <summary><c>'trilinear'</c>: 3 spatial dimensions (5-D input).</summary>
    Trilinear,
    /// <summary><c>'area'</c>: adaptive average pooling to the output size.</summary>
    Area,
}

/// <summary>
/// PyTorch's <c>scale_factor</c>: a float for every spatial dimension or a tuple of floats, kept
/// as given so it prints as PyTorch does (<c>2.0</c>, <c>(1.5, 2.0)</c>). Converts implicitly from
/// <c>double</c>, <c>(double, double)</c>, <c>(double, double, double)</c> and <c>double[]</c>.
/// </summary>
public readonly struct ScaleFactor : IEquatable<ScaleFactor>
{
    private readonly ImmutableArray<double> values;

    /// <summary>A scale factor; <paramref name="isTuple"/> says whether it prints as a tuple.</summary>
    public ScaleFactor(double[] values, bool isTuple)
    {
        this.values = [.. values];
        IsTuple = isTuple;
    }

    /// <summary>The factors (one for all dimensions unless <see cref="IsTuple"/>).</summary>
    public ReadOnlySpan<double> Values => values.IsDefault ? [] : values.AsSpan();

    /// <summary>Whether it was given as a tuple.</summary>
    public bool IsTuple { get; }

    /// <summary>One factor for every spatial dimension.</summary>
    public static implicit operator ScaleFactor(double v) => new([v], false);

    /// <summary>Two spatial dimensions.</summary>
    public static implicit operator ScaleFactor((double, double) v) => new([v.Item1, v.Item2], true);

    /// <summary>Three spatial dimensions.</summary>
    public static implicit operator ScaleFactor((double, double, double) v) => new([v.Item1, v.Item2, v.Item3], true);

    /// <summary>A tuple of any length.</summary>
    public static implicit operator ScaleFactor(double[] v) => new(v, true);

    /// <summary>The factors for <paramref name="rank"/> spatial dimensions, or null when a tuple has the wrong length.</summary>
    internal double[]? Expand(int rank) =>
        !IsTuple ? Enumerable.Repeat(values[0], rank).ToArray() : values.Length == rank ? values.ToArray() : null;

    /// <inheritdoc/>
    public bool Equals(ScaleFactor other) => IsTuple == other.IsTuple && Values.SequenceEqual(other.Values);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is ScaleFactor s && Equals(s);

    /// <inheritdoc/>
    public override int GetHashCode()
    {
        var h = new HashCode();
        h.Add(IsTuple);
        foreach (double v in Values) h.Add(v);
        return h.ToHashCode();
    }

    /// <summary>Value equality.</summary>
    public static bool operator ==(ScaleFactor a, ScaleFactor b) => a.Equals(b);

    /// <summary>Value inequality.</summary>
    public static bool operator !=(ScaleFactor a, ScaleFactor b) => !a.Equals(b);

    /// <summary>As Python prints a float or a tuple of floats.</summary>
    public override string ToString()
    {
        var parts = values.Select(v => PyRepr.Float(v)).ToArray();
        return !IsTuple ? parts[0] : parts.Length == 1 ? $"({parts[0]},)" : $"({string.Join(", ", parts)})";
    }
}

/// <summary>
/// <c>torch.nn.Upsample</c> (<c>F.interpolate</c>) for inputs <c>(N, C, d1[, d2[, d3]])</c>: exactly
/// one of <c>size</c> (int or tuple) and <c>scale_factor</c> (float or tuple); <c>mode</c> one of
/// nearest, nearest-exact, linear (3-D input), bilinear and bicubic (4-D), trilinear (5-D), area;
/// <c>align_corners</c> only for the interpolating modes (None means False).
/// <para>
/// With a scale factor the output size is <c>⌊in·scale⌋</c>, and, unless
/// <c>recompute_scale_factor=True</c>, the source coordinate uses <c>1/scale</c>, not <c>in/out</c>
/// (they differ for non-integer factors). PyTorch's coordinate rules (<c>UpSample.h</c>), in float:
/// </para>
/// <code>
///   align_corners=True:   src = dst·(in − 1)/(out − 1)               (0 when out = 1)
///   otherwise:            src = (dst + ½)·r − ½, r = 1/scale or in/out; clamped at 0 except bicubic
///   nearest:              src = min(⌊dst·r⌋, in − 1)     nearest-exact: min(⌊(dst + ½)·r⌋, in − 1)
///   bicubic:              4 taps at ⌊src⌋−1 … ⌊src⌋+2, each index clamped into [0, in − 1]
/// </code>
/// Shortcuts PyTorch 1.13 takes and this keeps: linear modes copy a dimension whose output size
/// equals its input size (whatever the scale factor); 2-D and 3-D nearest copy such a dimension
/// and use <c>dst/2</c> when the output is exactly twice the input; 1-D nearest, nearest-exact and
/// bicubic have no shortcut.
/// </summary>
public record Upsample : Layer
{
    /// <summary>PyTorch's arguments and defaults; give exactly one of <paramref name="size"/> and <paramref name="scaleFactor"/>.</summary>
    public Upsample(Dims? size = null, ScaleFactor? scaleFactor = null, UpsampleMode mode = UpsampleMode.Nearest, bool? alignCorners = null,
        bool? recomputeScaleFactor = null)
    {
        Size = size;
        ScaleFactor = scaleFactor;
        Mode = mode;
        AlignCorners = alignCorners;
        RecomputeScaleFactor = recomputeScaleFactor;
        Validate();
    }

    /// <summary>Output spatial size as given (an int stands for every dimension), or null.</summary>
    public Dims? Size { get; init; }

    /// <summary>
    /// Whether <see cref="Size"/> was given as a tuple: a 1-tuple prints as <c>(13,)</c>, an int as
    /// <c>13</c>. Set from a module description; only printing depends on it.
    /// </summary>
    public bool SizeIsTuple { get; init; }

    /// <summary>Multiplier of the spatial size as given, or null.</summary>
    public ScaleFactor? ScaleFactor { get; init; }

    /// <summary>Interpolation mode.</summary>
    public UpsampleMode Mode { get; init; }

    /// <summary>Whether the corner pixels' centres line up (interpolating modes only); null means False.</summary>
    public bool? AlignCorners { get; init; }

    /// <summary>With True, the scale factor only sets the output size and the source coordinate uses in/out.</summary>
    public bool? RecomputeScaleFactor { get; init; }

    /// <summary>PyTorch's spelling of <see cref="Mode"/>.</summary>
    public string ModeName => Mode switch
    {
        UpsampleMode.Nearest => "nearest",
        UpsampleMode.NearestExact => "nearest-exact",
        UpsampleMode.Linear => "linear",
        UpsampleMode.Bilinear => "bilinear",
        UpsampleMode.Bicubic => "bicubic",
        UpsampleMode.Trilinear => "trilinear",
        _ => "area",
    };

    /// <summary>Source positions each output position reads, per dimension.</summary>
    private int Taps => Mode switch { UpsampleMode.Bicubic => 4, UpsampleMode.Nearest or UpsampleMode.NearestExact => 1, _ => 2 };

    private bool Interpolating => Mode is UpsampleMode.Linear or UpsampleMode.Bilinear or UpsampleMode.Bicubic or UpsampleMode.Trilinear;

    private void Validate()
    {
        string n = TypeName;
        if (Size is null == ScaleFactor is null)
            throw new ShapeException(Size is null ? $"{n}: either size or scale_factor should be defined" : $"{n}: only one of size or scale_factor should be defined");
        if (AlignCorners is not null && !Interpolating)
            throw new ShapeException($"{n}: align_corners option can only be set with the interpolating modes: linear | bilinear | bicubic | trilinear (got mode={ModeName})");
        if (RecomputeScaleFactor == true && Size is not null)
            throw new ShapeException($"{n}: recompute_scale_factor is not meaningful with an explicit size");
        if (Size is { } s)
            foreach (int v in s.Values)
                if (v < 1) throw new ShapeException($"{n}: size must be positive, got size={AsGiven(s)}");
        if (ScaleFactor is { } f)
            foreach (double v in f.Values)
                if (!(v > 0) || double.IsInfinity(v)) throw new ShapeException($"{n}: scale_factor must be positive and finite, got scale_factor={f}");
    }

    /// <summary>The spatial rank an input gives, checked against the mode.</summary>
    private int SpatialRank(Shape input)
    {
        if (input.Rank is < 3 or > 5)
            throw Error($"expected 3D, 4D or 5D input (N, C, spatial...), got input of size {input}");
        int rank = input.Rank - 2;
        int? need = Mode switch { UpsampleMode.Linear => 1, UpsampleMode.Bilinear or UpsampleMode.Bicubic => 2, UpsampleMode.Trilinear => 3, _ => null };
        if (need is { } r && r != rank)
            throw Error($"got {input.Rank}D input of size {input}, but {ModeName} mode needs {r + 2}D input");
        return rank;
    }

    /// <summary>Output sizes and the scale factors handed to the kernel (null entries: use in/out).</summary>
    private (int[] Output, double?[] Scales) Resolve(Shape input)
    {
        int rank = SpatialRank(input);
        var output = new int[rank];
        var scales = new double?[rank];
        if (Size is { } s)
        {
            if (s.Count != 1 && s.Count != rank)
                throw Error($"input and output must have the same number of spatial dimensions, but got input of size {input} and output size {AsGiven(s)}");
            var e = s.Expand(rank, "size", TypeName);
            for (int i = 0; i < rank; i++) output[i] = e[i];
        }
        else
        {
            var f = ScaleFactor!.Value.Expand(rank)
                ?? throw Error($"input and scale_factor must have the same number of spatial dimensions, but got input of size {input} and scale_factor={ScaleFactor}");
            // 'area' always goes through the recompute path (PyTorch's F.interpolate).
            bool recompute = RecomputeScaleFactor == true || Mode == UpsampleMode.Area;
            for (int i = 0; i < rank; i++)
            {
                double size = Math.Floor(input[2 + i] * f[i]);
                if (size > Shape.MaxElements)
                    throw Error($"the output size of spatial dimension {i}, ⌊{input[2 + i]}·{f[i]}⌋ = {size}, is larger than the {Shape.MaxElements} elements a tensor can hold");
                output[i] = (int)size;
                scales[i] = recompute ? null : f[i];
            }
        }
        // Each dimension's index table holds output size × taps entries: bounded like a tensor.
        for (int i = 0; i < rank; i++)
            Extent((long)output[i] * Taps, $"the index table of spatial dimension {i} ({output[i]} outputs × {Taps} taps)");
        for (int i = 0; i < rank; i++)
            if (output[i] < 1 || input[2 + i] < 1)
                throw Error($"input and output sizes should be greater than 0, but got input {input} and output spatial size {PyRepr.Tuple(output)}" +
                    (Size is null ? $" (⌊in·scale_factor⌋ with scale_factor={ScaleFactor})" : ""));
        return (output, scales);
    }

    /// <inheritdoc/>
    public override Shape OutputShape(Shape input)
    {
        Validate();
        var (output, _) = Resolve(input);
        return input.Take(2).Concat(new Shape(output));
    }

    /// <inheritdoc/>
    protected override Tensor Compute(Tensor input, Shape outputShape)
    {
        var (output, scales) = Resolve(input.Shape);
        int rank = output.Length;
        if (Mode == UpsampleMode.Area)
        {
            var sizes = output.Select(o => (int?)o).ToArray();
            return AdaptiveAvgPoolNd.Members.Create(rank, sizes).Forward(input);
        }
        int taps = Taps;
        // Index and weight tables per dimension, extended to (D, H, W) with size-1 dimensions in front.
        // PyTorch 1.13 sends nearest modes of 2-D and 3-D inputs that are also channels-last
        // contiguous (one channel, or a single spatial position) to a kernel whose index rule
        // has shortcuts (copy when out = in, dst/2 when out = 2·in); every other input goes to
        // the generic kernel, which has none. The shortcuts change results for scale factors
        // like 1.1 or 2.1, so both are kept.
        bool channelsLast = rank > 1 && (input.Shape[1] == 1 || input.Shape.Skip(2).ElementCount == 1);
        var tables = new Resample.Axis[3];
        for (int k = 0; k < 3; k++)
        {
            int i = k - (3 - rank);
            tables[k] = i < 0 ? new Resample.Axis([0], [1f], 1) : Table(input.Shape[2 + i], output[i], scales[i], channelsLast, taps);
        }
        var inner = input.Shape.Skip(2).ToArray();
        var dims = new Resample.Plan(
            checked((int)input.Shape.Take(2).ElementCount),
            rank >= 3 ? inner[^3] : 1, rank >= 2 ? inner[^2] : 1, inner[^1],
            rank >= 3 ? output[^3] : 1, rank >= 2 ? output[^2] : 1, output[^1]);
        var y = TensorPool.Rent(outputShape);
        Resample.Run(dims, input.Buffer, y, tables[0], tables[1], tables[2]);
        return Tensor.Own(y, outputShape);
    }

    /// <summary>For one dimension: per output index, <paramref name="taps"/> source indices and weights.</summary>
    private Resample.Axis Table(int inSize, int outSize, double? scale, bool channelsLast, int taps)
    {
        var index = new int[outSize * taps];
        var weight = new float[outSize * taps];
        bool align = AlignCorners == true;
        switch (Mode)
        {
            case UpsampleMode.Nearest:
                float rn = ComputeScale(inSize, outSize, scale);
                for (int o = 0; o < outSize; o++)
                {
                    index[o] = channelsLast && outSize == inSize ? o
                        : channelsLast && outSize == 2 * inSize ? o >> 1
                        : Math.Min((int)MathF.Floor(o * rn), inSize - 1);
                    weight[o] = 1f;
                }
                break;
            case UpsampleMode.NearestExact:
                float re = ComputeScale(inSize, outSize, scale);
                for (int o = 0; o < outSize; o++)
                {
                    // (dst + 0.5) is a double in PyTorch, and floorf rounds its argument to float first.
                    int i = channelsLast
                        ? (int)MathF.Floor((float)((o + 0.5) * re))
                        : (int)MathF.Floor((float)(SourceIndex(re, o, alignCorners: false, cubic: false) + 0.5));
                    index[o] = Math.Min(i, inSize - 1);
                    weight[o] = 1f;
                }
                break;
            case UpsampleMode.Bicubic:
                float rc = AreaScale(inSize, outSize, align, scale);
                for (int o = 0; o < outSize; o++)
                {
                    float real = SourceIndex(rc, o, align, cubic: true);
                    int i0 = (int)MathF.Floor(real);
                    float t = real - i0;
                    const float A = -0.75f;
                    weight[4 * o] = Cubic2(t + 1f, A);
                    weight[4 * o + 1] = Cubic1(t, A);
                    float t2 = 1f - t;
                    weight[4 * o + 2] = Cubic1(t2, A);
                    weight[4 * o + 3] = Cubic2(t2 + 1f, A);
                    for (int j = 0; j < 4; j++) index[4 * o + j] = Math.Clamp(i0 - 1 + j, 0, inSize - 1);
                }
                break;
            default:
                float rl = AreaScale(inSize, outSize, align, scale);
                for (int o = 0; o < outSize; o++)
                {
                    if (outSize == inSize)
                    {
                        index[2 * o] = index[2 * o + 1] = o;
                        weight[2 * o] = 1f;
                        weight[2 * o + 1] = 0f;
                        continue;
                    }
                    float real = SourceIndex(rl, o, align, cubic: false);
                    int i0 = Math.Min((int)real, inSize - 1);
                    float l1 = Math.Clamp(real - i0, 0f, 1f);
                    index[2 * o] = i0;
                    index[2 * o + 1] = i0 + (i0 < inSize - 1 ? 1 : 0);
                    weight[2 * o] = 1f - l1;
                    weight[2 * o + 1] = l1;
                }
                break;
        }
        return new Resample.Axis(index, weight, taps);
    }

    /// <summary>PyTorch's <c>compute_scales_value</c>: <c>1/scale</c> when a scale is given, else <c>in/out</c>, as float.</summary>
    private static float ComputeScale(int inSize, int outSize, double? scale) =>
        scale is > 0 ? (float)(1.0 / scale.Value) : (float)inSize / outSize;

    /// <summary>PyTorch's <c>area_pixel_compute_scale</c>.</summary>
    private static float AreaScale(int inSize, int outSize, bool alignCorners, double? scale) =>
        alignCorners ? (outSize > 1 ? (float)(inSize - 1) / (outSize - 1) : 0f) : ComputeScale(inSize, outSize, scale);

    /// <summary>PyTorch's <c>area_pixel_compute_source_index</c>: the half-pixel form is evaluated in double, then rounded to float.</summary>
    private static float SourceIndex(float scale, int dst, bool alignCorners, bool cubic)
    {
        if (alignCorners) return scale * dst;
        float src = (float)(scale * (dst + 0.5) - 0.5);
        return !cubic && src < 0 ? 0f : src;
    }

    private static float Cubic1(float x, float a) => ((a + 2) * x - (a + 3)) * x * x + 1;

    private static float Cubic2(float x, float a) => ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;

    private static string AsGiven(Dims d) => d.Count == 1 ? d[0].ToString() : d.ToString();

    /// <inheritdoc/>
    protected override string ExtraRepr() =>
        (ScaleFactor is { } f ? $"scale_factor={f}" : $"size={(SizeIsTuple ? Size!.Value.ToString() : AsGiven(Size!.Value))}") + $", mode={ModeName}";
}

/// <summary><c>torch.nn.UpsamplingNearest2d</c>: <see cref="Upsample"/> with mode nearest.</summary>
public sealed record UpsamplingNearest2d : Upsample
{
    /// <summary>Exactly one of <paramref name="size"/> and <paramref name="scaleFactor"/>.</summary>
    public UpsamplingNearest2d(Dims? size = null, ScaleFactor? scaleFactor = null) : base(size, scaleFactor, UpsampleMode.Nearest) { }
}

/// <summary><c>torch.nn.UpsamplingBilinear2d</c>: <see cref="Upsample"/> with mode bilinear and <c>align_corners=True</c>.</summary>
public sealed record UpsamplingBilinear2d : Upsample
{
    /// <summary>Exactly one of <paramref name="size"/> and <paramref name="scaleFactor"/>.</summary>
    public UpsamplingBilinear2d(Dims? size = null, ScaleFactor? scaleFactor = null) : base(size, scaleFactor, UpsampleMode.Bilinear, true) { }
}

/// <summary>
/// <c>torch.nn.PixelShuffle</c>: rearranges <c>(*, C·r², H, W)</c> into <c>(*, C, H·r, W·r)</c>,
/// <c>out[c, h·r + i, w·r + j] = in[c·r² + i·r + j, h, w]</c> (sub-pixel convolution's reshuffle).
/// Any number of leading dimensions, at least 3 dimensions in all.
/// </summary>
public sealed record PixelShuffle : Layer
{
    /// <summary>PyTorch's argument: the factor <c>r</c> each spatial size grows by.</summary>
    public PixelShuffle(int upscaleFactor) => UpscaleFactor = upscaleFactor;

    /// <summary>The factor <c>r</c>.</summary>
    public int UpscaleFactor
    {
        get;
        init => field = value >= 1 ? value : throw new ShapeException($"PixelShuffle: upscale_factor must be positive, got {value}");
    }

    /// <inheritdoc/>
    public override Shape OutputShape(Shape input)
    {
        int r = UpscaleFactor;
        if (input.Rank < 3)
            throw Error($"pixel_shuffle expects input to have at least 3 dimensions, but got input of size {input}");
        int c = input[-3];
        long rr = (long)r * r;
        if (c % rr != 0)
            throw Error($"pixel_shuffle expects its input's 'channel' dimension to be divisible by the square of upscale_factor ({rr}), but got input of size {input}");
        return input.Take(input.Rank - 3).Concat(new Shape((int)(c / rr),
            Extent((long)input[-2] * r, "the output height"), Extent((long)input[-1] * r, "the output width")));
    }

    /// <inheritdoc/>
    protected override Tensor Compute(Tensor input, Shape outputShape) =>
        PixelShuffling.Run(input, outputShape, UpscaleFactor, shuffle: true);

    /// <inheritdoc/>
    protected override string ExtraRepr() => $"upscale_factor={UpscaleFactor}";
}

/// <summary>
/// <c>torch.nn.PixelUnshuffle</c>: the inverse of <see cref="PixelShuffle"/>,
/// <c>(*, C, H·r, W·r)</c> to <c>(*, C·r², H, W)</c>.
/// </summary>
public sealed record PixelUnshuffle : Layer
{
    /// <summary>PyTorch's argument: the factor <c>r</c> each spatial size shrinks by.</summary>
    public PixelUnshuffle(int downscaleFactor) => DownscaleFactor = downscaleFactor;

    /// <summary>The factor <c>r</c>.</summary>
    public int DownscaleFactor
    {
        get;
        init => field = value >= 1 ? value : throw new ShapeException($"PixelUnshuffle: downscale_factor must be positive, got {value}");
    }

    /// <inheritdoc/>
    public override Shape OutputShape(Shape input)
    {
        int r = DownscaleFactor;
        if (input.Rank < 3)
            throw Error($"pixel_unshuffle expects input to have at least 3 dimensions, but got input of size {input}");
        if (input[-2] % r != 0)
            throw Error($"pixel_unshuffle expects height to be divisible by downscale_factor, but got input of size {input} (height {input[-2]}, downscale_factor {r})");
        if (input[-1] % r != 0)
            throw Error($"pixel_unshuffle expects width to be divisible by downscale_factor, but got input of size {input} (width {input[-1]}, downscale_factor {r})");
        return input.Take(input.Rank - 3).Concat(new Shape(Extent((long)input[-3] * r * r, "the output channels"), input[-2] / r, input[-1] / r));
    }

    /// <inheritdoc/>
    protected override Tensor Compute(Tensor input, Shape outputShape) =>
        PixelShuffling.Run(input, outputShape, DownscaleFactor, shuffle: false);

    /// <inheritdoc/>
    protected override string ExtraRepr() => $"downscale_factor={DownscaleFactor}";
}

/// <summary>The one loop behind both directions: small channels × large image ⇄ large channels × small image.</summary>
internal static class PixelShuffling
{
    public static Tensor Run(Tensor input, Shape outputShape, int r, bool shuffle)
    {
        // Name everything from the small-image side: (C·r², H, W) ⇄ (C, H·r, W·r).
        var big = shuffle ? outputShape : input.Shape;
        int c = big[-3], h = big[-2] / r, w = big[-1] / r;
        long lead = big.Take(big.Rank - 3).ElementCount;
        var src = input.Buffer;
        var y = TensorPool.Rent(input.Count);
        long block = (long)c * r * r * h * w;
        for (long b = 0; b < lead; b++)
        {
            long o = b * block;
            for (int ch = 0; ch < c; ch++)
                for (int hh = 0; hh < h; hh++)
                    for (int i = 0; i < r; i++)
                    {
                        // One row of the large image: (ch, hh·r + i, :).
                        long bigRow = o + ((long)ch * h * r + hh * r + i) * w * r;
                        for (int j = 0; j < r; j++)
                        {
                            long smallRow = o + (((long)ch * r * r + i * r + j) * h + hh) * w;
                            for (int ww = 0; ww < w; ww++)
                            {
                                if (shuffle) y[bigRow + ww * r + j] = src[smallRow + ww];
                                else y[smallRow + ww] = src[bigRow + ww * r + j];
                            }
                        }
                    }
        }
        return Tensor.Own(y, outputShape);
    }
}
