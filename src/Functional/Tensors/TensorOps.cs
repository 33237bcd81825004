using System.Numerics.Tensors;

namespace Functional;

/// <summary>Tensor operations across several tensors: concatenation and broadcasting arithmetic, as PyTorch's.</summary>
public static class TensorOps
{
    /// <summary>The shape <c>torch.cat</c> gives: extents add along <paramref name="dim"/>, all others must agree.</summary>
    public static Shape ConcatShape(IReadOnlyList<Shape> shapes, int dim)
    {
        if (shapes.Count == 0) throw new ShapeException("cat: expected a non-empty list of tensors");
        var first = shapes[0];
        int axis = first.NormalizeAxis(dim);
        int total = 0;
        foreach (var t in shapes)
        {
            if (t.Rank != first.Rank)
                throw new ShapeException($"cat: tensors must have the same rank, got {first} and {t}");
            for (int i = 0; i < first.Rank; i++)
                if (i != axis && t[i] != first[i])
                    throw new ShapeException($"cat: sizes of tensors must match except in dimension {axis}: expected size {first[i]} but got size {t[i]} for tensor {t} in dimension {i}");
            total += t[axis];
        }
        return first.With(axis, total);
    }

    /// <summary>The shape <c>torch.flatten(x, start_dim, end_dim)</c> gives.</summary>
    public static Shape FlattenShape(Shape shape, int startDim, int endDim)
    {
        if (shape.Rank == 0) return new Shape(1);
        int s = shape.NormalizeAxis(startDim), e = shape.NormalizeAxis(endDim);
        if (s > e) throw new ShapeException($"flatten: start_dim {startDim} comes after end_dim {endDim} for shape {shape}");
        long merged = 1;
        for (int i = s; i <= e; i++) merged *= shape[i];
        return shape.Take(s).Concat(new Shape(checked((int)merged))).Concat(shape.Skip(e + 1));
    }

    /// <summary><c>torch.cat</c>: joins tensors along <paramref name="dim"/>; every other extent must agree.</summary>
    public static Tensor Concat(IReadOnlyList<Tensor> tensors, int dim)
    {
        var shape = ConcatShape(tensors.Select(t => t.Shape).ToList(), dim);
        var first = tensors[0].Shape;
        int axis = first.NormalizeAxis(dim);
        int total = shape[axis];
        long outer = first.Take(axis).ElementCount;
        long inner = first.Skip(axis + 1).ElementCount;
        var result = TensorPool.Rent(shape);
        int offset = 0;
        foreach (var t in tensors)
        {
            int chunk = (int)(t.Shape[axis] * inner);
            for (long o = 0; o < outer; o++)
                t.Span.Slice((int)(o * chunk), chunk).CopyTo(result.AsSpan((int)(o * total * inner) + offset, chunk));
            offset += chunk;
        }
        return Tensor.Own(result, shape);
    }

    /// <summary>PyTorch's broadcast shape of two shapes (trailing dimensions aligned; 1 stretches).</summary>
    public static Shape BroadcastShape(Shape a, Shape b)
    {
        int rank = Math.Max(a.Rank, b.Rank);
        var dims = new int[rank];
        for (int i = 0; i < rank; i++)
        {
            int da = i < rank - a.Rank ? 1 : a[i - (rank - a.Rank)];
            int db = i < rank - b.Rank ? 1 : b[i - (rank - b.Rank)];
            if (da != db && da != 1 && db != 1)
                throw new ShapeException($"The size of tensor a ({da}) must match the size of tensor b ({db}) at non-singleton dimension {i} (shapes {a} and {b})");
            dims[i] = da == 1 ? db : da;
        }
        return new Shape(dims);
    }

    /// <summary>Element-wise sum with broadcasting.</summary>
    public static Tensor Add(Tensor a, Tensor b) => Broadcast(a, b, TensorPrimitives.Add, TensorPrimitives.Add, (x, y, d) => TensorPrimitives.Add(y, x, d));

    /// <summary>Element-wise product with broadcasting.</summary>
    public static Tensor Multiply(Tensor a, Tensor b) => Broadcast(a, b, TensorPrimitives.Multiply, TensorPrimitives.Multiply, (x, y, d) => TensorPrimitives.Multiply(y, x, d));

    /// <summary>Element-wise difference <c>a − b</c> with broadcasting.</summary>
    public static Tensor Subtract(Tensor a, Tensor b) => Broadcast(a, b, TensorPrimitives.Subtract, TensorPrimitives.Subtract, TensorPrimitives.Subtract);

    /// <summary>Element-wise quotient <c>a / b</c> with broadcasting.</summary>
    public static Tensor Divide(Tensor a, Tensor b) => Broadcast(a, b, TensorPrimitives.Divide, TensorPrimitives.Divide, TensorPrimitives.Divide);

    /// <summary>Element-wise <paramref name="op"/> with broadcasting (<see cref="Arithmetic.Power"/> excepted).</summary>
    public static Tensor Apply(Arithmetic op, Tensor a, Tensor b) => op switch
    {
        Arithmetic.Add => Add(a, b),
        Arithmetic.Subtract => Subtract(a, b),
        Arithmetic.Multiply => Multiply(a, b),
        Arithmetic.Divide => Divide(a, b),
        _ => throw new ShapeException($"{op} of two tensors is not supported"),
    };

    private delegate void RowOp(ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> destination);
    private delegate void ScalarOp(ReadOnlySpan<float> x, float y, Span<float> destination);
    private delegate void ScalarFirstOp(float x, ReadOnlySpan<float> y, Span<float> destination);

    /// <summary>
    /// Applies an element-wise operation with broadcasting, a row (last dimension) at a time: a row
    /// of each side is either a full row or one value stretched along it (<paramref name="scalar"/>
    /// when the right side is stretched, <paramref name="scalarFirst"/> when the left one is).
    /// </summary>
    private static Tensor Broadcast(Tensor a, Tensor b, RowOp rows, ScalarOp scalar, ScalarFirstOp scalarFirst)
    {
        if (a.Shape == b.Shape)
        {
            var same = TensorPool.Rent(a.Count);
            rows(a.Span, b.Span, same);
            return Tensor.Own(same, a.Shape);
        }
        var shape = BroadcastShape(a.Shape, b.Shape);
        int rank = shape.Rank;
        int width = rank == 0 ? 1 : shape[rank - 1];
        var sa = Strides(a.Shape, shape);
        var sb = Strides(b.Shape, shape);
        var result = TensorPool.Rent(shape);
        if (width == 0 || result.Length == 0) return Tensor.Own(result, shape);
        int rowCount = result.Length / width;
        var index = new int[Math.Max(rank - 1, 0)];
        for (int r = 0; r < rowCount; r++)
        {
            long oa = 0, ob = 0;
            for (int i = 0; i < index.Length; i++) { oa += index[i] * sa[i]; ob += index[i] * sb[i]; }
            var dst = result.AsSpan(r * width, width);
            bool fullA = rank == 0 || sa[rank - 1] != 0 || width == 1, fullB = rank == 0 || sb[rank - 1] != 0 || width == 1;
            if (fullA && fullB) rows(a.Span.Slice((int)oa, width), b.Span.Slice((int)ob, width), dst);
            else if (fullA) scalar(a.Span.Slice((int)oa, width), b.Span[(int)ob], dst);
            else if (fullB) scalarFirst(a.Span[(int)oa], b.Span.Slice((int)ob, width), dst);
            else dst.Fill(Apply(a.Span[(int)oa], b.Span[(int)ob], scalar));
            for (int i = index.Length - 1; i >= 0 && ++index[i] == shape[i]; i--) index[i] = 0;
        }
        return Tensor.Own(result, shape);
    }

    private static float Apply(float x, float y, ScalarOp op)
    {
        Span<float> v = [x];
        op(v, y, v);
        return v[0];
    }

    /// <summary>Element strides of <paramref name="from"/> laid against <paramref name="to"/>: 0 where it is stretched.</summary>
    private static long[] Strides(Shape from, Shape to)
    {
        var strides = new long[to.Rank];
        long s = 1;
        for (int i = to.Rank - 1; i >= 0; i--)
        {
            int j = i - (to.Rank - from.Rank);
            int d = j >= 0 ? from[j] : 1;
            strides[i] = d == 1 ? 0 : s;
            s *= d;
        }
        return strides;
    }
}
