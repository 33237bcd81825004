using System.Numerics.Tensors;
using Functional.Kernels;

namespace Functional;

/// <summary>One entry of a PyTorch index expression <c>x[...]</c>: an int, a slice, <c>None</c> or <c>...</c>.</summary>
public abstract record IndexItem
{
    /// <summary>An int index: picks one position and removes the dimension (negative counts from the end).</summary>
    public sealed record At(long Index) : IndexItem;

    /// <summary>A slice <c>start:stop:step</c> with Python's meaning (null: from the start, to the end, step 1).</summary>
    public sealed record Slice(long? Start, long? Stop, long? Step) : IndexItem;

    /// <summary><c>None</c>: a new dimension of size 1.</summary>
    public sealed record NewAxis : IndexItem;

    /// <summary><c>...</c>: as many full slices as the other entries leave dimensions.</summary>
    public sealed record Ellipsis : IndexItem;
}

/// <summary>
/// Tensor functions PyTorch models call in <c>forward</c> beyond the layers: dimension
/// reordering and indexing, reductions, broadcasting arithmetic, matrix products. Each has a
/// shape function beside it, so a traced graph infers shapes through the same formulas.
/// Views in PyTorch (<c>permute</c>, slices, <c>expand</c>) are copies here: tensors are
/// immutable and contiguous.
/// </summary>
public static class TensorFunctions
{
    /// <summary>
    /// The shape <c>x.reshape(shape)</c> gives for an input of shape <paramref name="input"/>: one
    /// extent may be −1 and is inferred; the element count must not change.
    /// </summary>
    public static Shape ReshapeShape(Shape input, IReadOnlyList<int> shape)
    {
        long count = input.ElementCount;
        var dims = shape.ToArray();
        int infer = Array.IndexOf(dims, -1);
        if (Array.LastIndexOf(dims, -1) != infer) throw new ShapeException($"reshape: only one dimension can be inferred in [{string.Join(", ", dims)}]");
        if (infer >= 0)
        {
            var others = (int[])dims.Clone();
            others[infer] = 1;
            if (others.Any(d => d < 0)) throw new ShapeException($"reshape: invalid extent in [{string.Join(", ", dims)}].");
            long known = Shape.ElementCountOf(others); // past MaxElements, it divides no tensor's size
            if (known == 0 || count % known != 0)
                throw new ShapeException($"shape '[{string.Join(", ", dims)}]' is invalid for input of size {count}");
            dims[infer] = (int)(count / known);
        }
        var s = new Shape(dims);
        if (s.ElementCount != count)
            throw new ShapeException($"shape '{s}' is invalid for input of size {count}");
        return s;
    }

    // ---- strided gathers: permute, transpose, expand and indexing share one copy loop ----

    /// <summary>Row-major element strides of <paramref name="shape"/>.</summary>
    private static long[] Strides(Shape shape)
    {
        var s = new long[shape.Rank];
        long n = 1;
        for (int i = shape.Rank - 1; i >= 0; i--) { s[i] = n; n *= shape[i]; }
        return s;
    }

    /// <summary>Copies the elements at <c>offset + Σ index[i]·strides[i]</c> for every index of <paramref name="shape"/>.</summary>
    private static Tensor Gather(Tensor x, Shape shape, long offset, long[] strides)
    {
        var result = TensorPool.Rent(shape);
        if (result.Length == 0) return Tensor.Own(result, shape);
        var src = x.Span;
        int rank = shape.Rank;
        if (rank == 0) { result[0] = src[(int)offset]; return Tensor.Own(result, shape); }
        int width = shape[rank - 1];
        long step = strides[rank - 1];
        var index = new int[rank - 1];
        for (int r = 0, rows = result.Length / width; r < rows; r++)
        {
            long o = offset;
            for (int i = 0; i < index.Length; i++) o += index[i] * strides[i];
            var dst = result.AsSpan(r * width, width);
            if (step == 1) src.Slice((int)o, width).CopyTo(dst);
            else for (int j = 0; j < width; j++) dst[j] = src[(int)(o + j * step)];
            for (int i = index.Length - 1; i >= 0 && ++index[i] == shape[i]; i--) index[i] = 0;
        }
        return Tensor.Own(result, shape);
    }

    /// <summary>The dimensions <paramref name="dims"/> resolved (negative from the end), checked to be a permutation.</summary>
    private static int[] Permutation(Shape shape, IReadOnlyList<int> dims)
    {
        if (dims.Count != shape.Rank)
            throw new ShapeException($"permute: number of dims don't match: the input {shape} has {shape.Rank} dimensions but {dims.Count} were given ([{string.Join(", ", dims)}])");
        var axes = dims.Select(shape.NormalizeAxis).ToArray();
        if (axes.Distinct().Count() != axes.Length) throw new ShapeException($"permute: repeated dim in [{string.Join(", ", dims)}]");
        return axes;
    }

    /// <summary>The shape <c>x.permute(dims)</c> gives.</summary>
    public static Shape PermuteShape(Shape shape, IReadOnlyList<int> dims) => new(Permutation(shape, dims).Select(a => shape[a]).ToArray());

    /// <summary><c>x.permute(dims)</c>: dimension i of the result is dimension <c>dims[i]</c> of <paramref name="x"/>.</summary>
    public static Tensor Permute(this Tensor x, params int[] dims)
    {
        var axes = Permutation(x.Shape, dims);
        if (axes.Select((a, i) => a == i).All(b => b)) return x.Reshape(x.Shape);
        var s = Strides(x.Shape);
        return Gather(x, PermuteShape(x.Shape, dims), 0, axes.Select(a => s[a]).ToArray());
    }

    private static int[] Swap(int rank, Shape shape, int dim0, int dim1)
    {
        var dims = Enumerable.Range(0, rank).ToArray();
        if (rank == 0) return dims;
        (dims[shape.NormalizeAxis(dim0)], dims[shape.NormalizeAxis(dim1)]) = (dims[shape.NormalizeAxis(dim1)], dims[shape.NormalizeAxis(dim0)]);
        return dims;
    }

    /// <summary>The shape <c>x.transpose(dim0, dim1)</c> gives.</summary>
    public static Shape TransposeShape(Shape shape, int dim0, int dim1) => PermuteShape(shape, Swap(shape.Rank, shape, dim0, dim1));

    /// <summary><c>x.transpose(dim0, dim1)</c>: swaps two dimensions.</summary>
    public static Tensor Transpose(this Tensor x, int dim0, int dim1) => x.Permute(Swap(x.Rank, x.Shape, dim0, dim1));

    /// <summary>The shape <c>x.expand(sizes)</c> gives: −1 keeps a dimension, size-1 dimensions stretch, new ones lead.</summary>
    public static Shape ExpandShape(Shape shape, IReadOnlyList<int> sizes)
    {
        if (sizes.Count < shape.Rank)
            throw new ShapeException($"expand: the number of sizes provided ({sizes.Count}) must be greater or equal to the number of dimensions in the tensor ({shape.Rank}), shape {shape}");
        var dims = new int[sizes.Count];
        int lead = sizes.Count - shape.Rank;
        for (int i = 0; i < dims.Length; i++)
        {
            int have = i < lead ? 1 : shape[i - lead];
            int want = sizes[i];
            if (i < lead && want < 0) throw new ShapeException($"expand: -1 is not allowed in a leading, non-existing dimension ({i}) for shape {shape}");
            dims[i] = want == -1 ? have : want;
            if (have != 1 && dims[i] != have)
                throw new ShapeException($"expand: the expanded size of the tensor ({want}) must match the existing size ({have}) at non-singleton dimension {i}; target sizes [{string.Join(", ", sizes)}], tensor shape {shape}");
        }
        return new Shape(dims);
    }

    /// <summary><c>x.expand(sizes)</c>: size-1 dimensions repeated to <paramref name="sizes"/> (−1 keeps one).</summary>
    public static Tensor Expand(this Tensor x, params int[] sizes)
    {
        var shape = ExpandShape(x.Shape, sizes);
        if (shape == x.Shape) return x.Reshape(shape);
        var s = Strides(x.Shape);
        int lead = shape.Rank - x.Rank;
        return Gather(x, shape, 0, Enumerable.Range(0, shape.Rank).Select(i => i < lead || x.Shape[i - lead] == 1 ? 0L : s[i - lead]).ToArray());
    }

    /// <summary>The result shape, first element and strides of <c>x[items]</c>.</summary>
    private static (Shape Shape, long Offset, long[] Strides) IndexPlan(Shape shape, IReadOnlyList<IndexItem> items)
    {
        int consumed = items.Count(i => i is IndexItem.At or IndexItem.Slice);
        int ellipses = items.Count(i => i is IndexItem.Ellipsis);
        if (ellipses > 1) throw new ShapeException("index: an index can only have a single ellipsis ('...')");
        if (consumed > shape.Rank) throw new ShapeException($"index: too many indices for a tensor of dimension {shape.Rank} (shape {shape}, {consumed} indices)");
        var src = Strides(shape);
        var dims = new List<int>();
        var strides = new List<long>();
        long offset = 0;
        int d = 0;
        foreach (var item in items.Concat(ellipses == 0 ? [new IndexItem.Ellipsis()] : []))
        {
            switch (item)
            {
                case IndexItem.At at:
                    {
                        int n = shape[d];
                        long k = at.Index < 0 ? at.Index + n : at.Index;
                        if (k < 0 || k >= n) throw new ShapeException($"index {at.Index} is out of bounds for dimension {d} with size {n} (shape {shape})");
                        offset += k * src[d++];
                        break;
                    }
                case IndexItem.Slice sl:
                    {
                        int n = shape[d];
                        long step = sl.Step ?? 1;
                        if (step <= 0) throw new ShapeException($"index: slice step must be positive, got {step}");
                        long start = Clamp(sl.Start ?? 0, n), stop = Clamp(sl.Stop ?? n, n);
                        dims.Add((int)(stop > start ? (stop - start + step - 1) / step : 0));
                        strides.Add(src[d] * step);
                        offset += start * src[d++];
                        break;
                    }
                case IndexItem.NewAxis:
                    dims.Add(1);
                    strides.Add(0);
                    break;
                default:
                    for (int fill = shape.Rank - consumed; fill > 0; fill--)
                    {
                        dims.Add(shape[d]);
                        strides.Add(src[d++]);
                    }
                    break;
            }
        }
        return (new Shape(dims.ToArray()), offset, strides.ToArray());

        static long Clamp(long v, int n) => Math.Clamp(v < 0 ? v + n : v, 0, n);
    }

    /// <summary>The shape <c>x[items]</c> gives.</summary>
    public static Shape IndexShape(Shape shape, IReadOnlyList<IndexItem> items) => IndexPlan(shape, items).Shape;

    /// <summary>
    /// <c>x[items]</c> with ints, slices (positive steps), <c>None</c> and <c>...</c>, as PyTorch's
    /// basic indexing: <c>x[:, 0]</c>, <c>x[..., None]</c>, <c>x[0, 1:, ::2]</c>.
    /// </summary>
    public static Tensor Index(this Tensor x, params IndexItem[] items)
    {
        var (shape, offset, strides) = IndexPlan(x.Shape, items);
        return Gather(x, shape, offset, strides);
    }

    /// <summary>The sizes <c>torch.split(x, size, dim)</c> (one int: equal parts, the last smaller) or explicit sizes give along <paramref name="dim"/>.</summary>
    public static int[] SplitSizes(Shape shape, IReadOnlyList<int> sizes, int dim, bool equalParts)
    {
        int n = shape[dim];
        if (!equalParts)
        {
            if (sizes.Any(s => s < 0) || sizes.Sum() != n)
                throw new ShapeException($"split: split_with_sizes expects split_size_or_sections [{string.Join(", ", sizes)}] to sum exactly to {n} (input tensor's size at dimension {dim}), shape {shape}");
            return [.. sizes];
        }
        int size = sizes[0];
        if (size <= 0 && n > 0) throw new ShapeException($"split: split_size must be positive, got {size} for shape {shape}");
        if (n == 0) return [0];
        return Enumerable.Range(0, (n + size - 1) / size).Select(i => Math.Min(size, n - i * size)).ToArray();
    }

    /// <summary>The sizes <c>torch.chunk(x, chunks, dim)</c> gives: parts of ⌈n / chunks⌉, fewer when they run out.</summary>
    public static int[] ChunkSizes(Shape shape, int chunks, int dim)
    {
        if (chunks <= 0) throw new ShapeException($"chunk: chunks must be greater than 0, got {chunks}");
        int n = shape[dim];
        int size = (n + chunks - 1) / chunks;
        return size == 0 ? Enumerable.Repeat(0, chunks).ToArray() : SplitSizes(shape, [size], dim, true);
    }

    /// <summary>The slices of <paramref name="x"/> along <paramref name="dim"/> of the given sizes (chunk, split).</summary>
    public static IReadOnlyList<Tensor> SplitBySizes(this Tensor x, IReadOnlyList<int> sizes, int dim) =>
        SliceItems(x.Shape, sizes, dim).Select(items => x.Index(items)).ToList();

    /// <summary>The shapes of <see cref="SplitBySizes"/>.</summary>
    public static IReadOnlyList<Shape> SplitShapes(Shape shape, IReadOnlyList<int> sizes, int dim) =>
        SliceItems(shape, sizes, dim).Select(items => IndexShape(shape, items)).ToList();

    private static IEnumerable<IndexItem[]> SliceItems(Shape shape, IReadOnlyList<int> sizes, int dim)
    {
        int axis = shape.NormalizeAxis(dim), start = 0;
        foreach (int s in sizes)
        {
            var items = Enumerable.Repeat<IndexItem>(new IndexItem.Slice(null, null, null), axis).Append(new IndexItem.Slice(start, start + s, 1)).ToArray();
            start += s;
            yield return items;
        }
    }

    /// <summary>The shape <c>torch.stack</c> gives: the common shape with a new dimension at <paramref name="dim"/>.</summary>
    public static Shape StackShape(IReadOnlyList<Shape> shapes, int dim)
    {
        if (shapes.Count == 0) throw new ShapeException("stack: expects a non-empty list of tensors");
        if (shapes.Any(s => s != shapes[0])) throw new ShapeException($"stack: expects each tensor to be equal size, got {string.Join(", ", shapes)}");
        int axis = dim < 0 ? dim + shapes[0].Rank + 1 : dim;
        if (axis < 0 || axis > shapes[0].Rank) throw new ShapeException($"stack: dimension {dim} out of range for tensors of shape {shapes[0]}");
        return shapes[0].Insert(axis, shapes.Count);
    }

    /// <summary><c>torch.stack</c>: joins tensors of one shape along a new dimension.</summary>
    public static Tensor Stack(IReadOnlyList<Tensor> tensors, int dim)
    {
        var shape = StackShape(tensors.Select(t => t.Shape).ToList(), dim);
        int axis = dim < 0 ? dim + tensors[0].Rank + 1 : dim;
        var parts = tensors.Select(t => t.Unsqueeze(axis)).ToList();
        var joined = TensorOps.Concat(parts, axis);
        foreach (var p in parts) p.Dispose();
        return joined.Reshape(shape);
    }

    // ---- reductions ----

    /// <summary>A reduction over some dimensions (<c>sum</c>, <c>mean</c>, <c>amax</c>).</summary>
    public enum Reduction
    {
        /// <summary><c>torch.sum</c>.</summary>
        Sum,
        /// <summary><c>torch.mean</c>.</summary>
        Mean,
        /// <summary><c>torch.amax</c>.</summary>
        Max,
    }

    /// <summary>Resolved reduced axes: all when <paramref name="dims"/> is null or empty (PyTorch's <c>dim=None</c> / <c>[]</c>).</summary>
    private static bool[] ReducedAxes(Shape shape, IReadOnlyList<int>? dims)
    {
        var reduced = new bool[shape.Rank];
        if (dims is null || dims.Count == 0) { Array.Fill(reduced, true); return reduced; }
        foreach (int d in dims)
        {
            int a = shape.NormalizeAxis(d);
            if (reduced[a]) throw new ShapeException($"reduction: dim {a} appears multiple times in the list of dims [{string.Join(", ", dims)}]");
            reduced[a] = true;
        }
        return reduced;
    }

    /// <summary>The shape a reduction over <paramref name="dims"/> gives (all dims when null or empty).</summary>
    public static Shape ReduceShape(Shape shape, IReadOnlyList<int>? dims, bool keepDim)
    {
        var reduced = ReducedAxes(shape, dims);
        return new Shape(Enumerable.Range(0, shape.Rank).Where(i => keepDim || !reduced[i]).Select(i => reduced[i] ? 1 : shape[i]).ToArray());
    }

    /// <summary>
    /// <c>x.sum(dims, keepdim)</c>, <c>x.mean(dims, keepdim)</c>, <c>x.amax(dims, keepdim)</c>: the reduced
    /// dimensions are moved last (a copy unless they already are) and each row is reduced at once.
    /// </summary>
    public static Tensor Reduce(this Tensor x, Reduction kind, IReadOnlyList<int>? dims = null, bool keepDim = false)
    {
        var shape = ReduceShape(x.Shape, dims, keepDim);
        var reduced = ReducedAxes(x.Shape, dims);
        var order = Enumerable.Range(0, x.Rank).Where(i => !reduced[i]).Concat(Enumerable.Range(0, x.Rank).Where(i => reduced[i])).ToArray();
        var moved = x.Permute(order);
        long width = 1;
        for (int i = 0; i < x.Rank; i++) if (reduced[i]) width *= x.Shape[i];
        var result = TensorPool.Rent(shape);
        if (kind == Reduction.Max && width == 0 && result.Length > 0)
            throw new ShapeException($"amax: expected reduction dims of non-zero size, got input {x.Shape}");
        var src = moved.Span;
        for (int r = 0; r < result.Length; r++)
        {
            var row = src.Slice((int)(r * width), (int)width);
            result[r] = kind switch
            {
                Reduction.Sum => TensorPrimitives.Sum(row),
                Reduction.Mean => TensorPrimitives.Sum(row) / width,
                _ => TensorPrimitives.Max(row),
            };
        }
        moved.Dispose();
        return Tensor.Own(result, shape);
    }

    // ---- element-wise arithmetic ----

    /// <summary>Element-wise with a scalar: <c>x op s</c>, or <c>s op x</c> when <paramref name="scalarFirst"/> (<c>1 - x</c>, <c>2 / x</c>).</summary>
    public static Tensor Arithmetic(this Tensor x, Arithmetic op, float s, bool scalarFirst = false) => x.Map(ScalarOp(op, s, scalarFirst));

    /// <summary><see cref="Arithmetic(Tensor, Functional.Arithmetic, float, bool)"/> written over the storage of an intermediate its caller alone holds.</summary>
    internal static Tensor ArithmeticInPlace(this Tensor x, Arithmetic op, float s, bool scalarFirst) => x.MapInPlace(ScalarOp(op, s, scalarFirst));

    private static Tensor.SpanAction ScalarOp(Arithmetic op, float s, bool scalarFirst) => (op, scalarFirst) switch
    {
        (Functional.Arithmetic.Add, _) => (x, d) => TensorPrimitives.Add(x, s, d),
        (Functional.Arithmetic.Multiply, _) => (x, d) => TensorPrimitives.Multiply(x, s, d),
        (Functional.Arithmetic.Subtract, false) => (x, d) => TensorPrimitives.Subtract(x, s, d),
        (Functional.Arithmetic.Subtract, true) => (x, d) => TensorPrimitives.Subtract(s, x, d),
        (Functional.Arithmetic.Divide, false) => (x, d) => TensorPrimitives.Divide(x, s, d),
        (Functional.Arithmetic.Divide, true) => (x, d) => TensorPrimitives.Divide(s, x, d),
        (Functional.Arithmetic.Power, false) => PowerOp(s),
        _ => (x, d) => { for (int i = 0; i < x.Length; i++) d[i] = MathF.Pow(s, x[i]); },
    };

    /// <summary><c>x ** p</c> as PyTorch computes it: 2 and 3 by multiplication, ±0.5 by (reciprocal) square root.</summary>
    private static Tensor.SpanAction PowerOp(float p) => p switch
    {
        1f => (x, d) => x.CopyTo(d),
        2f => (x, d) => TensorPrimitives.Multiply(x, x, d),
        3f => (x, d) => { for (int i = 0; i < x.Length; i++) d[i] = x[i] * x[i] * x[i]; },
        0.5f => (x, d) => TensorPrimitives.Sqrt(x, d),
        -0.5f => (x, d) => { TensorPrimitives.Sqrt(x, d); TensorPrimitives.Divide(1f, d, d); },
        -1f => (x, d) => TensorPrimitives.Divide(1f, x, d),
        _ => (x, d) => { for (int i = 0; i < x.Length; i++) d[i] = MathF.Pow(x[i], p); },
    };

    /// <summary>Element-wise <c>√x</c>.</summary>
    public static Tensor Sqrt(this Tensor x) => x.Arithmetic(Functional.Arithmetic.Power, 0.5f);

    /// <summary>Element-wise <c>1 / √x</c> (<c>torch.rsqrt</c>).</summary>
    public static Tensor Rsqrt(this Tensor x) => x.Arithmetic(Functional.Arithmetic.Power, -0.5f);

    /// <summary>Element-wise <c>−x</c>.</summary>
    public static Tensor Neg(this Tensor x) => x.Map((s, d) => TensorPrimitives.Negate(s, d));

    /// <summary>Element-wise <c>eˣ</c>.</summary>
    public static Tensor Exp(this Tensor x) => x.Map((s, d) => Exponential.Exp(s, d));

    /// <summary>Element-wise <c>|x|</c>.</summary>
    public static Tensor Abs(this Tensor x) => x.Map((s, d) => TensorPrimitives.Abs(s, d));

    /// <summary><c>torch.clamp(x, min, max)</c> (either bound may be null).</summary>
    public static Tensor Clamp(this Tensor x, float? min, float? max) => x.Map((s, d) =>
    {
        if (min is null && max is null) { s.CopyTo(d); return; }
        for (int i = 0; i < s.Length; i++)
        {
            float v = s[i];
            if (min is { } lo) v = float.IsNaN(v) ? v : Math.Max(v, lo);
            if (max is { } hi) v = float.IsNaN(v) ? v : Math.Min(v, hi);
            d[i] = v;
        }
    });

    // ---- matrix products ----

    /// <summary>The shape <c>torch.matmul(a, b)</c> gives (1-D operands promoted and their dimension removed, batch dimensions broadcast).</summary>
    public static Shape MatMulShape(Shape a, Shape b)
    {
        if (a.Rank == 0 || b.Rank == 0) throw new ShapeException($"matmul: both arguments need at least 1 dimension, got {a} and {b}");
        var (pa, pb) = (a.Rank == 1 ? new Shape(1, a[0]) : a, b.Rank == 1 ? new Shape(b[0], 1) : b);
        if (pa[-1] != pb[-2]) throw new ShapeException($"matmul: mat1 and mat2 shapes cannot be multiplied ({pa[-2]}x{pa[-1]} and {pb[-2]}x{pb[-1]}), shapes {a} and {b}");
        var batch = TensorOps.BroadcastShape(pa.Take(pa.Rank - 2), pb.Take(pb.Rank - 2));
        var dims = batch.ToList();
        if (a.Rank > 1) dims.Add(pa[-2]);
        if (b.Rank > 1) dims.Add(pb[-1]);
        return new Shape(dims.ToArray());
    }

    /// <summary><c>torch.matmul</c> / <c>@</c>: matrix products over broadcast batch dimensions, on the kernel library's GEMM.</summary>
    public static Tensor MatMul(this Tensor a, Tensor b)
    {
        var shape = MatMulShape(a.Shape, b.Shape);
        var (pa, pb) = (a.Rank == 1 ? new Shape(1, a.Shape[0]) : a.Shape, b.Rank == 1 ? new Shape(b.Shape[0], 1) : b.Shape);
        int m = pa[-2], k = pa[-1], n = pb[-1];
        var batch = TensorOps.BroadcastShape(pa.Take(pa.Rank - 2), pb.Take(pb.Rank - 2));
        // Each operand laid out over the full batch (a copy only where a batch dimension is broadcast).
        using var ea = a.Reshape(pa).Expand(batch.Concat(new Shape(m, k)).ToArray());
        using var eb = b.Reshape(pb).Expand(batch.Concat(new Shape(k, n)).ToArray());
        var y = TensorPool.Rent(shape);
        if (k == 0) { y.AsSpan().Clear(); return Tensor.Own(y, shape); }
        var one = new Dim3(1, 1, 1);
        // C[m × n] = A[m × k] · B[k × n] is a 1×1 convolution with m output channels (weight A),
        // k input channels and n positions (image B), as Linear runs its GEMM.
        var plan = new ConvPlan(1, 1, k, m, new Dim3(1, 1, n), new Dim3(1, 1, n), one, one, one, new Dim3(0, 0, 0));
        for (long i = 0, count = batch.ElementCount; i < count && m * n > 0; i++)
            Convolution.Forward(plan, eb.Span.Slice((int)(i * k * n), k * n), ea.Span.Slice((int)(i * m * k), m * k), [], y.AsSpan((int)(i * m * n), m * n));
        return Tensor.Own(y, shape);
    }
}

/// <summary>The arithmetic <see cref="TensorFunctions.Arithmetic(Tensor, Arithmetic, float, bool)"/> and <see cref="TensorOps"/> apply.</summary>
public enum Arithmetic
{
    /// <summary><c>a + b</c>.</summary>
    Add,
    /// <summary><c>a − b</c>.</summary>
    Subtract,
    /// <summary><c>a · b</c>.</summary>
    Multiply,
    /// <summary><c>a / b</c>.</summary>
    Divide,
    /// <summary><c>a ** b</c>.</summary>
    Power,
}
