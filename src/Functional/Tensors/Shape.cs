using System.Collections;
using System.Runtime.CompilerServices;

namespace Functional;

/// <summary>
/// An immutable tensor shape: the extent of each dimension, outermost first, as PyTorch's
/// <c>torch.Size</c>. Compares by value and prints like PyTorch's sizes: <c>[1, 16, 111]</c>.
/// </summary>
[CollectionBuilder(typeof(Shape), nameof(Create))]
public readonly struct Shape : IEquatable<Shape>, IReadOnlyList<int>
{
    private readonly int[]? dims;

    /// <summary>A shape with the given extents (each at least 0).</summary>
    public Shape(params int[] dims) : this(dims.AsSpan()) { }

    /// <summary>
    /// A shape with the given extents (each at least 0, at most <see cref="MaxElements"/> elements
    /// in all): a shape is always one a tensor can have, so its element count never overflows.
    /// </summary>
    public Shape(ReadOnlySpan<int> dims)
    {
        foreach (int d in dims)
            if (d < 0)
                throw new ShapeException($"A shape cannot have a negative extent: [{string.Join(", ", dims.ToArray())}].");
        if (ElementCountOf(dims) > MaxElements)
            throw new ShapeException($"A shape of {Product(dims)} elements is larger than the {MaxElements} a tensor can hold: [{string.Join(", ", dims.ToArray())}].");
        this.dims = dims.ToArray();
    }

    /// <summary>
    /// The most elements a tensor (and so a shape) can have: .NET's <see cref="Array.MaxLength"/>.
    /// Sizes computed on the way to a shape are <c>long</c> and checked against it before anything
    /// is allocated; a larger result is a <see cref="ShapeException"/>, never a wrapped or clamped size.
    /// </summary>
    public static int MaxElements => Array.MaxLength;

    /// <summary>
    /// The product of <paramref name="extents"/> (non-negative), or <see cref="long.MaxValue"/> when it
    /// is past <see cref="MaxElements"/>: checked, so a product that would wrap is "too large", never small.
    /// </summary>
    public static long ElementCountOf(ReadOnlySpan<int> extents)
    {
        if (extents.Contains(0)) return 0;
        long n = 1;
        foreach (int d in extents)
        {
            n *= d;
            if (n > MaxElements) return long.MaxValue;
        }
        return n;
    }

    /// <summary>The exact product, for messages (it may be far past <c>long</c>).</summary>
    private static System.Numerics.BigInteger Product(ReadOnlySpan<int> extents)
    {
        System.Numerics.BigInteger n = 1;
        foreach (int d in extents) n *= d;
        return n;
    }

    /// <summary>
    /// An extent computed in <c>long</c> (an output-size formula), as an <c>int</c>: a value past
    /// <see cref="MaxElements"/> is a <see cref="ShapeException"/> saying <paramref name="what"/> it is
    /// (name the layer there) and how large. Callers check their lower bound (size below 1) first.
    /// </summary>
    public static int Extent(long size, string what) =>
        size > MaxElements ? throw new ShapeException($"{what} is {size}, larger than the {MaxElements} elements a tensor can hold.")
        : size < int.MinValue ? throw new ShapeException($"{what} is {size}, out of range.")
        : (int)size;

    /// <summary>Collection-expression builder: <c>Shape s = [1, 3, 224, 224];</c></summary>
    public static Shape Create(ReadOnlySpan<int> dims) => new(dims);

    /// <summary>The scalar (rank-0) shape.</summary>
    public static Shape Scalar => new(ReadOnlySpan<int>.Empty);

    /// <summary>Number of dimensions.</summary>
    public int Rank => dims?.Length ?? 0;

    /// <summary>Number of dimensions (same as <see cref="Rank"/>).</summary>
    public int Count => Rank;

    /// <summary>Total element count (product of extents; 1 for a scalar).</summary>
    public long ElementCount
    {
        get
        {
            long n = 1;
            foreach (int d in Dims) n *= d; // at most MaxElements: checked when the shape was made
            return n;
        }
    }

    /// <summary>The extents as a read-only span.</summary>
    public ReadOnlySpan<int> Dims => dims ?? [];

    /// <summary>Extent of dimension <paramref name="index"/>; negative indices count from the end, as in PyTorch.</summary>
    public int this[int index] => Dims[NormalizeAxis(index)];

    /// <summary>Resolves a possibly negative axis to 0..Rank-1, as PyTorch's <c>dim</c> arguments.</summary>
    public int NormalizeAxis(int axis)
    {
        int r = Math.Max(Rank, 1);
        if (axis < -r || axis >= r || Rank == 0)
            throw new ShapeException($"Dimension out of range (expected to be in range of [{-r}, {r - 1}], but got {axis}) for shape {this}.");
        return axis < 0 ? axis + r : axis;
    }

    /// <summary>The extents after the first <paramref name="count"/> ones.</summary>
    public Shape Skip(int count) => new(Dims[count..]);

    /// <summary>The first <paramref name="count"/> extents.</summary>
    public Shape Take(int count) => new(Dims[..count]);

    /// <summary>This shape with <paramref name="extent"/> inserted at <paramref name="axis"/>.</summary>
    public Shape Insert(int axis, int extent)
    {
        var list = Dims.ToArray().ToList();
        list.Insert(axis, extent);
        return new(list.ToArray());
    }

    /// <summary>This shape with dimension <paramref name="axis"/> removed.</summary>
    public Shape RemoveAt(int axis)
    {
        var list = Dims.ToArray().ToList();
        list.RemoveAt(axis);
        return new(list.ToArray());
    }

    /// <summary>This shape with dimension <paramref name="axis"/> set to <paramref name="extent"/>.</summary>
    public Shape With(int axis, int extent)
    {
        var copy = Dims.ToArray();
        copy[NormalizeAxis(axis)] = extent;
        return new(copy);
    }

    /// <summary>Concatenation of two shapes' extents.</summary>
    public Shape Concat(Shape other) => new([.. Dims, .. other.Dims]);

    /// <summary>A copy of the extents.</summary>
    public int[] ToArray() => Dims.ToArray();

    /// <inheritdoc/>
    public bool Equals(Shape other) => Dims.SequenceEqual(other.Dims);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is Shape s && Equals(s);

    /// <inheritdoc/>
    public override int GetHashCode()
    {
        var h = new HashCode();
        foreach (int d in Dims) h.Add(d);
        return h.ToHashCode();
    }

    /// <summary>Value equality.</summary>
    public static bool operator ==(Shape a, Shape b) => a.Equals(b);

    /// <summary>Value inequality.</summary>
    public static bool operator !=(Shape a, Shape b) => !a.Equals(b);

    /// <summary>PyTorch-style: <c>[1, 16, 111]</c>.</summary>
    public override string ToString() => "[" + string.Join(", ", Dims.ToArray()) + "]";

    /// <inheritdoc/>
    public IEnumerator<int> GetEnumerator() => ((IEnumerable<int>)(dims ?? [])).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    int IReadOnlyList<int>.this[int index] => this[index];
}

/// <summary>
/// The one exception type for shape and argument problems: a wrong rank, a channel mismatch,
/// an invalid layer argument or an output size below 1. Messages name the layer, what it
/// expected and what it got.
/// </summary>
public sealed class ShapeException : ArgumentException
{
    /// <summary>Creates the exception with its message.</summary>
    public ShapeException(string message) : base(message) { }
}
