using System.Numerics.Tensors;

namespace Functional;

/// <summary>
/// Interop with .NET's <c>System.Numerics.Tensors</c> (<see cref="Tensor{T}"/>,
/// <see cref="ReadOnlyTensorSpan{T}"/>), which other .NET numeric code hands around.
/// <para>
/// Out, no copy: <see cref="AsTensorSpan"/> views this library's storage as a read-only tensor
/// span of the same shape, dense and row-major. It is a <c>ref struct</c>, so it cannot be stored
/// on the heap or outlive the method that took it; it must also not be used after the tensor is
/// disposed, since disposed storage is reused by later outputs (the same rule as
/// <see cref="Tensor.Span"/>).
/// </para>
/// <para>
/// In, one copy: a <see cref="Tensor{T}"/> or <see cref="TensorSpan{T}"/> can be written by whoever
/// holds it, and this library's tensors are immutable, so <see cref="FromTensorSpan"/> snapshots the
/// elements (strided or broadcast spans are gathered into row-major order). The copy is one pass
/// over the input, small next to any layer's work.
/// </para>
/// <para>
/// Name clash: <c>System.Numerics.Tensors</c> has a static class <c>Tensor</c> too, so a file
/// importing both namespaces gets CS0104 for a bare <c>Tensor</c>. Add
/// <c>using Tensor = Functional.Tensor;</c> to that file (or a <c>global using</c> once per
/// project); <c>Tensor&lt;float&gt;</c> stays .NET's.
/// </para>
/// </summary>
public static class TensorInterop
{
    /// <summary>
    /// This tensor's elements as a read-only, dense, row-major <see cref="ReadOnlyTensorSpan{T}"/>
    /// of the same shape, without copying (a rank-0 tensor is viewed with shape [1]). Valid until the
    /// tensor is disposed.
    /// </summary>
    public static ReadOnlyTensorSpan<float> AsTensorSpan(this Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        Span<nint> lengths = stackalloc nint[Math.Max(tensor.Rank, 1)];
        lengths[0] = 1;
        for (int i = 0; i < tensor.Rank; i++) lengths[i] = tensor.Shape.Dims[i];
        return new ReadOnlyTensorSpan<float>(tensor.Span, lengths, []);
    }

    /// <summary>An immutable copy of a tensor span's elements, in row-major order, with its shape.</summary>
    public static Tensor FromTensorSpan(ReadOnlyTensorSpan<float> values)
    {
        var dims = new int[values.Rank];
        for (int i = 0; i < dims.Length; i++)
            dims[i] = values.Lengths[i] <= int.MaxValue
                ? (int)values.Lengths[i]
                : throw new ShapeException($"FromTensorSpan: dimension {i} has {values.Lengths[i]} elements, more than a tensor here can hold");
        var shape = new Shape(dims);
        if (shape.ElementCount > Array.MaxLength) throw new ShapeException($"FromTensorSpan: a tensor of shape {shape} is too large");
        var data = TensorPool.Rent(shape);
        values.FlattenTo(data);
        return Tensor.Own(data, shape);
    }

    /// <summary>An immutable copy of a <see cref="Tensor{T}"/>'s elements, in row-major order, with its shape.</summary>
    public static Tensor FromTensor(Tensor<float> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        return FromTensorSpan(values.AsReadOnlyTensorSpan());
    }

    /// <summary>Runs <paramref name="layer"/> on a copy of <paramref name="input"/> (see <see cref="FromTensorSpan"/>).</summary>
    public static Tensor Forward(this Layer layer, ReadOnlyTensorSpan<float> input)
    {
        ArgumentNullException.ThrowIfNull(layer);
        return ForwardCopy(layer, FromTensorSpan(input));
    }

    /// <summary>Runs <paramref name="layer"/> on a copy of <paramref name="input"/> (see <see cref="FromTensor"/>).</summary>
    public static Tensor Forward(this Layer layer, Tensor<float> input)
    {
        ArgumentNullException.ThrowIfNull(layer);
        return ForwardCopy(layer, FromTensor(input));
    }

    /// <summary>Runs the layer on a copy only this call holds, then gives the copy back (unless the layer returned it).</summary>
    private static Tensor ForwardCopy(Layer layer, Tensor copy)
    {
        var y = layer.Forward(copy);
        if (!ReferenceEquals(y, copy)) copy.Dispose();
        return y;
    }
}
