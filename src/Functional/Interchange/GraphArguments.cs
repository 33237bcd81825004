using System.Collections.Immutable;

namespace Functional;

/// <summary>
/// A Python slice in a graph argument (<c>x.shape[-2:]</c>, <c>x[:, 0]</c>), written
/// <c>{"slice": [start, stop, step]}</c>; each bound is null (omitted), a number or a
/// <see cref="NodeRef"/>.
/// </summary>
public sealed record GraphSlice(object? Start, object? Stop, object? Step);

/// <summary>Python's <c>...</c> in an indexing argument, written <c>{"ellipsis": true}</c>.</summary>
public sealed record GraphEllipsis
{
    /// <summary>The one value.</summary>
    public static GraphEllipsis Instance { get; } = new();

    private GraphEllipsis() { }
}

/// <summary>
/// A dict in a graph argument or output (segmentation models return <c>{"out": ...}</c>), written
/// <c>{"dict": {key: value}}</c>; entries keep Python's insertion order.
/// </summary>
public sealed record GraphDict(ImmutableArray<KeyValuePair<string, object?>> Items)
{
    /// <summary>Entries compared by key and value, in order.</summary>
    public bool Equals(GraphDict? other) => other is not null && Items.SequenceEqual(other.Items);

    /// <inheritdoc/>
    public override int GetHashCode() => Items.Length;
}
