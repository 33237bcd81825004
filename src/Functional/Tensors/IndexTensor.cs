namespace Functional;

/// <summary>
/// An immutable int64 tensor, as PyTorch's <c>LongTensor</c>: the indices a max pool returns
/// (flat positions within each input plane) and a max unpool consumes.
/// </summary>
public sealed class IndexTensor
{
    private readonly long[] data;

    private IndexTensor(long[] data, Shape shape)
    {
        if (data.LongLength != shape.ElementCount)
            throw new ShapeException($"Index tensor data has {data.LongLength} elements but shape {shape} needs {shape.ElementCount}.");
        this.data = data;
        Shape = shape;
    }

    internal static IndexTensor Own(long[] data, Shape shape) => new(data, shape);

    /// <summary>An index tensor holding a copy of <paramref name="values"/>.</summary>
    public static IndexTensor FromSpan(ReadOnlySpan<long> values, Shape shape) => new(values.ToArray(), shape);

    /// <summary>The shape.</summary>
    public Shape Shape { get; }

    /// <summary>The indices in row-major order, read-only.</summary>
    public ReadOnlySpan<long> Span => data;

    /// <summary>The same indices with another shape (no copy).</summary>
    public IndexTensor Reshape(Shape shape) => new(data, shape);

    /// <summary>A copy of the indices.</summary>
    public long[] ToArray() => (long[])data.Clone();

    /// <summary>Whether both have the same shape and the same indices.</summary>
    public bool SameAs(IndexTensor other) => Shape == other.Shape && data.AsSpan().SequenceEqual(other.data);

    /// <inheritdoc/>
    public override string ToString() =>
        $"tensor([{string.Join(", ", data.Take(8))}{(data.Length > 8 ? ", ..." : "")}], shape={Shape}, dtype=int64)";
}
