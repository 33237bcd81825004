using System.Collections.Immutable;
using Functional.Kernels;

namespace Functional;

/// <summary>
/// PyTorch's "int or tuple" size argument (<c>kernel_size=3</c>, <c>stride=(2, 1)</c>): converts
/// implicitly from <c>int</c>, <c>(int, int)</c>, <c>(int, int, int)</c> and <c>int[]</c>, compares by
/// value and prints as a Python tuple. A single int stands for every dimension until
/// <see cref="Expand"/> gives it a rank.
/// </summary>
public readonly struct Dims : IEquatable<Dims>
{
    private readonly ImmutableArray<int> values;

    /// <summary>Sizes, one per dimension (or one for all).</summary>
    public Dims(params int[] values) => this.values = [.. values];

    /// <summary>The sizes.</summary>
    public ReadOnlySpan<int> Values => values.IsDefault ? [] : values.AsSpan();

    /// <summary>Number of sizes held.</summary>
    public int Count => values.IsDefault ? 0 : values.Length;

    /// <summary>Size <paramref name="i"/>.</summary>
    public int this[int i] => values[i];

    /// <summary>One int for every dimension.</summary>
    public static implicit operator Dims(int value) => new(value);

    /// <summary>Two dimensions.</summary>
    public static implicit operator Dims((int, int) v) => new(v.Item1, v.Item2);

    /// <summary>Three dimensions.</summary>
    public static implicit operator Dims((int, int, int) v) => new(v.Item1, v.Item2, v.Item3);

    /// <summary>Any number of dimensions.</summary>
    public static implicit operator Dims(int[] v) => new(v);

    /// <summary>
    /// This value for <paramref name="rank"/> dimensions: a single int is repeated (PyTorch's
    /// <c>_ntuple</c>); otherwise the count must equal the rank. <paramref name="argument"/> and
    /// <paramref name="layer"/> name the argument in the error.
    /// </summary>
    public Dims Expand(int rank, string argument, string layer)
    {
        if (Count == 1 && rank != 1) return new(Enumerable.Repeat(values[0], rank).ToArray());
        if (Count != rank)
            throw new ShapeException($"{layer}: {argument} must be an int or a tuple of {rank} ints, got {this}");
        return this;
    }

    /// <summary>Whether every size equals <paramref name="value"/>.</summary>
    public bool All(int value)
    {
        foreach (int v in Values) if (v != value) return false;
        return true;
    }

    /// <summary>Extends to three dimensions with leading 1s (or <paramref name="fill"/>), for the kernels.</summary>
    internal Dim3 To3D(int fill = 1)
    {
        var v = Values;
        int r = v.Length;
        return new Dim3(r >= 3 ? v[r - 3] : fill, r >= 2 ? v[r - 2] : fill, r >= 1 ? v[r - 1] : fill);
    }

    /// <inheritdoc/>
    public bool Equals(Dims other) => Values.SequenceEqual(other.Values);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is Dims d && Equals(d);

    /// <inheritdoc/>
    public override int GetHashCode()
    {
        var h = new HashCode();
        foreach (int v in Values) h.Add(v);
        return h.ToHashCode();
    }

    /// <summary>Value equality.</summary>
    public static bool operator ==(Dims a, Dims b) => a.Equals(b);

    /// <summary>Value inequality.</summary>
    public static bool operator !=(Dims a, Dims b) => !a.Equals(b);

    /// <summary>Python tuple form: <c>(3, 3)</c>, <c>(3,)</c>.</summary>
    public override string ToString() => PyRepr.Tuple(Values);
}

/// <summary>The kind of a <see cref="Padding"/> argument.</summary>
public enum PaddingKind
{
    /// <summary>Explicit sizes per dimension, the same before and after.</summary>
    Explicit,
    /// <summary><c>"same"</c>: the output keeps the input's size (stride 1 only).</summary>
    Same,
    /// <summary><c>"valid"</c>: no padding.</summary>
    Valid,
}

/// <summary>
/// A convolution's <c>padding</c> argument as PyTorch accepts it: an int, a tuple,
/// <see cref="Same"/> or <see cref="Valid"/>. The user's spelling is kept for printing; the
/// resolved (before, after) pairs come from <see cref="Resolve"/>.
/// </summary>
public readonly struct Padding : IEquatable<Padding>
{
    private Padding(PaddingKind kind, Dims sizes)
    {
        Kind = kind;
        Sizes = sizes;
    }

    /// <summary>Explicit, same or valid.</summary>
    public PaddingKind Kind { get; }

    /// <summary>The explicit sizes (empty for same / valid).</summary>
    public Dims Sizes { get; }

    /// <summary><c>padding="same"</c>.</summary>
    public static Padding Same => new(PaddingKind.Same, default);

    /// <summary><c>padding="valid"</c>.</summary>
    public static Padding Valid => new(PaddingKind.Valid, default);

    /// <summary>Explicit sizes.</summary>
    public static implicit operator Padding(Dims sizes) => new(PaddingKind.Explicit, sizes);

    /// <summary>The same size everywhere.</summary>
    public static implicit operator Padding(int size) => new(PaddingKind.Explicit, size);

    /// <summary>Two dimensions.</summary>
    public static implicit operator Padding((int, int) v) => new(PaddingKind.Explicit, v);

    /// <summary>Three dimensions.</summary>
    public static implicit operator Padding((int, int, int) v) => new(PaddingKind.Explicit, v);

    /// <summary>
    /// Padding before and after each dimension. <c>"same"</c> pads <c>dilation·(kernel − 1)</c> in
    /// total, split as PyTorch does for even totals and odd ones alike: <c>before = total / 2</c>,
    /// <c>after = total − before</c> (so an even kernel pads one more after).
    /// </summary>
    public (Dims Before, Dims After) Resolve(Dims kernel, Dims dilation, string layer)
    {
        int rank = kernel.Count;
        switch (Kind)
        {
            case PaddingKind.Valid: return (new Dims(new int[rank]), new Dims(new int[rank]));
            case PaddingKind.Same:
                var lo = new int[rank];
                var hi = new int[rank];
                for (int i = 0; i < rank; i++)
                {
                    int total = dilation[i] * (kernel[i] - 1);
                    lo[i] = total / 2;
                    hi[i] = total - lo[i];
                }
                return (lo, hi);
            default:
                var p = Sizes.Expand(rank, "padding", layer);
                foreach (int v in p.Values)
                    if (v < 0) throw new ShapeException($"{layer}: padding must be non-negative, got {p}");
                return (p, p);
        }
    }

    /// <inheritdoc/>
    public bool Equals(Padding other) => Kind == other.Kind && Sizes == other.Sizes;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is Padding p && Equals(p);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Kind, Sizes);

    /// <summary>Value equality.</summary>
    public static bool operator ==(Padding a, Padding b) => a.Equals(b);

    /// <summary>Value inequality.</summary>
    public static bool operator !=(Padding a, Padding b) => !a.Equals(b);

    /// <summary>As PyTorch prints it: <c>(1, 1)</c>, <c>same</c>, <c>valid</c>.</summary>
    public override string ToString() => Kind switch
    {
        PaddingKind.Same => "same",
        PaddingKind.Valid => "valid",
        _ => Sizes.ToString(),
    };
}

/// <summary>How a convolution fills its padding: PyTorch's <c>padding_mode</c>.</summary>
public enum PaddingMode
{
    /// <summary><c>'zeros'</c>.</summary>
    Zeros,
    /// <summary><c>'reflect'</c>: mirror without repeating the edge (needs padding &lt; input size).</summary>
    Reflect,
    /// <summary><c>'replicate'</c>: repeat the edge value.</summary>
    Replicate,
    /// <summary><c>'circular'</c>: wrap around (needs padding ≤ input size).</summary>
    Circular,
}

/// <summary>
/// PyTorch's output-size formulas for sliding windows, in one place for convolutions,
/// transposed convolutions and pools of every rank.
/// </summary>
public static class WindowFormula
{
    /// <summary>
    /// Convolution and pooling: <c>⌊(in + before + after − dilation·(kernel − 1) − 1) / stride⌋ + 1</c>;
    /// with <paramref name="ceilMode"/> the division rounds up, and a last window that would start
    /// past <c>in + before</c> (entirely in the right padding) is dropped, as PyTorch's
    /// <c>pooling_output_shape</c>.
    /// </summary>
    /// <remarks>In <c>long</c> (exact for any int arguments): the caller checks the range (<see cref="Shape.Extent"/>).</remarks>
    public static long Output(int input, int kernel, int stride, int before, int after, int dilation = 1, bool ceilMode = false)
    {
        long span = (long)input + before + after - (long)dilation * ((long)kernel - 1) - 1;
        long output = (ceilMode ? FloorDiv(span + stride - 1, stride) : FloorDiv(span, stride)) + 1;
        if (ceilMode && (output - 1) * stride >= (long)input + before) output--;
        return output;
    }

    /// <summary>Transposed convolution: <c>(in − 1)·stride − before − after + dilation·(kernel − 1) + outputPadding + 1</c>.</summary>
    /// <remarks>In <c>long</c> (exact for any int arguments): the caller checks the range (<see cref="Shape.Extent"/>).</remarks>
    public static long TransposedOutput(int input, int kernel, int stride, int before, int after, int dilation, int outputPadding) =>
        ((long)input - 1) * stride - before - after + (long)dilation * ((long)kernel - 1) + outputPadding + 1;

    private static long FloorDiv(long a, long b) => a >= 0 ? a / b : -((-a + b - 1) / b);
}
