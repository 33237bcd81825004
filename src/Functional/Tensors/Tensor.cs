using System.Globalization;
using System.Numerics.Tensors;
using System.Text;

namespace Functional;

/// <summary>
/// An immutable, contiguous float32 tensor in row-major (PyTorch's default) layout.
/// No caller can change its elements: storage is private, read through <see cref="Span"/>,
/// and every operation returns a new tensor (reshapes share the storage, which is safe
/// precisely because nothing writes to it).
/// <para>
/// Disposing is optional and only a matter of speed: <see cref="Dispose"/> hands the storage
/// back (once no view shares it) so the next output of the same size is written into warm
/// memory, as libtorch's allocator does. Containers such as <see cref="Sequential"/> dispose
/// the intermediates they alone hold; a tensor never disposed is collected by the GC as usual.
/// </para>
/// </summary>
public sealed class Tensor : IDisposable
{
    /// <summary>The array and how many tensors (a tensor and its views) still use it.</summary>
    private sealed class Storage(float[] array)
    {
        internal readonly float[] Array = array;
        private int users = 1;

        internal Storage Share()
        {
            Interlocked.Increment(ref users);
            return this;
        }

        /// <summary>Tensors (this one's owner and its views) still using the array.</summary>
        internal int Users => Volatile.Read(ref users);

        internal void Release()
        {
            if (Interlocked.Decrement(ref users) == 0) TensorPool.Return(Array);
        }
    }

    private Storage? storage;

    private Tensor(float[] data, Shape shape)
    {
        if (data.LongLength != shape.ElementCount)
            throw new ShapeException($"Tensor data has {data.LongLength} elements but shape {shape} needs {shape.ElementCount}.");
        storage = new Storage(data);
        Shape = shape;
    }

    /// <summary>A view: the same storage under another shape of the same element count.</summary>
    private Tensor(Storage shared, Shape shape)
    {
        storage = shared.Share();
        Shape = shape;
    }

    private float[] data => (storage ?? throw new ObjectDisposedException(nameof(Tensor), $"This tensor of shape {Shape} was disposed.")).Array;

    private Tensor View(Shape shape) => new(storage ?? throw new ObjectDisposedException(nameof(Tensor), $"This tensor of shape {Shape} was disposed."), shape);

    /// <summary>Wraps a buffer the caller just filled and will never touch again (no copy).</summary>
    internal static Tensor Own(float[] data, Shape shape) => new(data, shape);

    /// <summary>The buffer itself, for kernels that only read it.</summary>
    internal float[] Buffer => data;

    /// <summary>Whether no view shares this tensor's storage (so its owner may write over it).</summary>
    internal bool HasSoleStorage => storage is { Users: 1 };

    /// <summary>Whether <see cref="Dispose"/> has been called on this tensor.</summary>
    public bool IsDisposed => storage is null;

    /// <summary>
    /// Gives the storage back for reuse by later outputs (after the last view sharing it is
    /// disposed too). The tensor cannot be read afterwards (<see cref="ObjectDisposedException"/>),
    /// and spans or memory taken from it earlier must not be used. Calling it twice does nothing.
    /// </summary>
    public void Dispose() => Interlocked.Exchange(ref storage, null)?.Release();

    /// <summary>The shape.</summary>
    public Shape Shape { get; }

    /// <summary>Number of dimensions.</summary>
    public int Rank => Shape.Rank;

    /// <summary>Number of elements.</summary>
    public int Count => data.Length;

    /// <summary>The elements in row-major order, read-only.</summary>
    public ReadOnlySpan<float> Span => data;

    /// <summary>The elements in row-major order, read-only.</summary>
    public ReadOnlyMemory<float> Memory => data;

    // ---- factories ----

    /// <summary>A tensor of zeros.</summary>
    public static Tensor Zeros(Shape shape) => new(new float[checked((int)shape.ElementCount)], shape);

    /// <summary>A tensor of ones.</summary>
    public static Tensor Ones(Shape shape) => Full(shape, 1f);

    /// <summary>A tensor filled with <paramref name="value"/>.</summary>
    public static Tensor Full(Shape shape, float value)
    {
        var d = TensorPool.Rent(shape);
        d.AsSpan().Fill(value);
        return new(d, shape);
    }

    /// <summary>A rank-0 tensor holding one value.</summary>
    public static Tensor Scalar(float value) => new([value], Shape.Scalar);

    /// <summary><c>torch.arange(start, end, step)</c> as a 1-D tensor.</summary>
    public static Tensor Arange(float start, float end, float step = 1f)
    {
        if (step == 0 || float.IsNaN(step)) throw new ArgumentException("arange: step must be non-zero.", nameof(step));
        int n = Math.Max(0, (int)Math.Ceiling((end - start) / (double)step));
        var d = new float[n];
        for (int i = 0; i < n; i++) d[i] = start + i * step;
        return new(d, [n]);
    }

    /// <summary><c>torch.arange(end)</c>: 0, 1, …, end-1.</summary>
    public static Tensor Arange(int end) => Arange(0, end);

    /// <summary>A tensor holding a copy of <paramref name="values"/> with the given shape.</summary>
    public static Tensor FromSpan(ReadOnlySpan<float> values, Shape shape)
    {
        if (values.Length != shape.ElementCount)
            throw new ShapeException($"Cannot make a tensor of shape {shape} ({shape.ElementCount} elements) from {values.Length} values.");
        return new(values.ToArray(), shape);
    }

    /// <summary>A tensor holding a copy of <paramref name="values"/> with the given shape.</summary>
    public static Tensor FromArray(float[] values, Shape shape) => FromSpan(values, shape);

    /// <summary>A 1-D tensor holding a copy of <paramref name="values"/>.</summary>
    public static Tensor FromArray(params float[] values) => FromSpan(values, [values.Length]);

    /// <summary>Seeded standard-normal samples (Box–Muller), scaled and shifted.</summary>
    public static Tensor RandomNormal(Shape shape, int seed, float mean = 0f, float std = 1f)
    {
        var rng = new Random(seed);
        var d = GC.AllocateUninitializedArray<float>(checked((int)shape.ElementCount));
        for (int i = 0; i < d.Length; i += 2)
        {
            double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
            double r = Math.Sqrt(-2.0 * Math.Log(u1));
            d[i] = (float)(mean + std * r * Math.Cos(2 * Math.PI * u2));
            if (i + 1 < d.Length) d[i + 1] = (float)(mean + std * r * Math.Sin(2 * Math.PI * u2));
        }
        return new(d, shape);
    }

    /// <summary>Seeded uniform samples in [<paramref name="low"/>, <paramref name="high"/>).</summary>
    public static Tensor RandomUniform(Shape shape, int seed, float low = 0f, float high = 1f)
    {
        var rng = new Random(seed);
        var d = GC.AllocateUninitializedArray<float>(checked((int)shape.ElementCount));
        for (int i = 0; i < d.Length; i++) d[i] = (float)(low + (high - low) * rng.NextDouble());
        return new(d, shape);
    }

    // ---- views ----

    /// <summary>
    /// The same elements with another shape (a view: no copy). One extent may be -1 and is
    /// inferred, as in PyTorch's <c>reshape</c>.
    /// </summary>
    public Tensor Reshape(params int[] shape) => View(TensorFunctions.ReshapeShape(Shape, shape));

    /// <summary>The same elements with another shape (a view: no copy).</summary>
    public Tensor Reshape(Shape shape) => Reshape(shape.ToArray());

    /// <summary>Inserts a size-1 dimension at <paramref name="dim"/> (negative counts from the end, as PyTorch).</summary>
    public Tensor Unsqueeze(int dim)
    {
        int axis = dim < 0 ? dim + Rank + 1 : dim;
        if (axis < 0 || axis > Rank)
            throw new ShapeException($"unsqueeze: dimension {dim} out of range for a tensor of rank {Rank}.");
        return View(Shape.Insert(axis, 1));
    }

    /// <summary>Removes every size-1 dimension.</summary>
    public Tensor Squeeze() => View(new Shape(Shape.ToArray().Where(d => d != 1).ToArray()));

    /// <summary>Removes dimension <paramref name="dim"/> if it has size 1 (else returns this tensor, as PyTorch).</summary>
    public Tensor Squeeze(int dim)
    {
        int axis = Shape.NormalizeAxis(dim);
        return Shape[axis] == 1 ? View(Shape.RemoveAt(axis)) : this;
    }

    /// <summary>Merges dimensions <paramref name="startDim"/>..<paramref name="endDim"/> into one, as <c>torch.flatten</c>.</summary>
    public Tensor Flatten(int startDim = 0, int endDim = -1) => View(TensorOps.FlattenShape(Shape, startDim, endDim));

    // ---- element access ----

    /// <summary>The element at a full index (negative indices count from the end).</summary>
    public float this[params int[] index] => data[FlatIndex(index)];

    private int FlatIndex(int[] index)
    {
        if (index.Length != Rank)
            throw new ShapeException($"Index of length {index.Length} for a tensor of shape {Shape}.");
        long flat = 0;
        for (int i = 0; i < Rank; i++)
        {
            int n = Shape.Dims[i], k = index[i] < 0 ? index[i] + n : index[i];
            if (k < 0 || k >= n)
                throw new IndexOutOfRangeException($"index {index[i]} is out of bounds for dimension {i} with size {n}");
            flat = flat * n + k;
        }
        return (int)flat;
    }

    /// <summary>The value of a one-element tensor.</summary>
    public float ToScalar()
    {
        if (Count != 1) throw new ShapeException($"ToScalar() needs a tensor with one element; this one has shape {Shape}.");
        return data[0];
    }

    /// <summary>A copy of the elements in row-major order.</summary>
    public float[] ToArray() => (float[])data.Clone();

    // ---- element-wise arithmetic (TensorPrimitives) ----

    /// <summary>
    /// A tensor of the same shape with the element-wise operation <paramref name="op"/> applied.
    /// Large tensors go through in cache-sized blocks on <see cref="Functional.Kernels.Parallelism.Threads"/>
    /// threads, so <paramref name="op"/> must treat each element on its own (a multi-pass operation
    /// then stays in L1/L2). Block boundaries do not depend on the thread count.
    /// </summary>
    public Tensor Map(SpanAction op) => new(MapInto(TensorPool.Rent(Count), op), Shape);

    /// <summary>Writes <paramref name="op"/> of this tensor's elements into <paramref name="destination"/> (which may be its own storage).</summary>
    private float[] MapInto(float[] destination, SpanAction op)
    {
        var source = data;
        Blocks(destination.Length, (offset, length) => op(source.AsSpan(offset, length), destination.AsSpan(offset, length)));
        return destination;
    }

    /// <summary>
    /// <see cref="Map"/> written over this tensor's own storage, for a caller that alone holds this
    /// tensor (<see cref="HasSoleStorage"/>) and disposes it right after: returns a tensor over the
    /// same storage. <paramref name="op"/> must allow its source and destination to be the same span.
    /// </summary>
    internal Tensor MapInPlace(SpanAction op)
    {
        MapInto(data, op);
        return View(Shape);
    }

    /// <summary>This tensor plus <paramref name="other"/> (same shape), written over this tensor's storage; see <see cref="MapInPlace"/>.</summary>
    internal Tensor AddInPlace(Tensor other)
    {
        ZipInto(other, "add", TensorPrimitives.Add, data);
        return View(Shape);
    }

    private const int Block = 16384;

    /// <summary>Runs <paramref name="body"/> over [0, count) in blocks of <see cref="Block"/>, in parallel when there are several.</summary>
    private static void Blocks(int count, Action<int, int> body)
    {
        // Some TensorPrimitives operations (Sigmoid, …) refuse empty spans; a zero-size tensor maps to itself.
        if (count == 0) return;
        if (count <= Block) { body(0, count); return; }
        int blocks = (count + Block - 1) / Block;
        Functional.Kernels.Parallelism.For(blocks, 4L * Block, (first, end) =>
        {
            for (int b = first; b < end; b++) body(b * Block, Math.Min(Block, count - b * Block));
        });
    }

    /// <summary>An element-wise operation writing <c>destination</c> from <c>source</c> (same length).</summary>
    public delegate void SpanAction(ReadOnlySpan<float> source, Span<float> destination);

    private Tensor Zip(Tensor other, string name, ZipAction op) => new(ZipInto(other, name, op, TensorPool.Rent(Count)), Shape);

    /// <summary>Writes <paramref name="op"/> of this tensor and <paramref name="other"/> (same shape) into <paramref name="destination"/> (which may be this tensor's storage).</summary>
    private float[] ZipInto(Tensor other, string name, ZipAction op, float[] destination)
    {
        if (other.Shape != Shape)
            throw new ShapeException($"{name}: shapes {Shape} and {other.Shape} differ.");
        var (x, y) = (data, other.data);
        Blocks(destination.Length, (offset, length) => op(x.AsSpan(offset, length), y.AsSpan(offset, length), destination.AsSpan(offset, length)));
        return destination;
    }

    private delegate void ZipAction(ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> destination);

    /// <summary>Element-wise sum of two tensors of the same shape.</summary>
    public Tensor Add(Tensor other) => Zip(other, "add", TensorPrimitives.Add);

    /// <summary>Element-wise difference of two tensors of the same shape.</summary>
    public Tensor Subtract(Tensor other) => Zip(other, "subtract", TensorPrimitives.Subtract);

    /// <summary>Element-wise product of two tensors of the same shape.</summary>
    public Tensor Multiply(Tensor other) => Zip(other, "multiply", TensorPrimitives.Multiply);

    /// <summary>Adds a scalar to every element.</summary>
    public Tensor Add(float value) => Map((x, d) => TensorPrimitives.Add(x, value, d));

    /// <summary>Multiplies every element by a scalar.</summary>
    public Tensor Multiply(float value) => Map((x, d) => TensorPrimitives.Multiply(x, value, d));

    /// <summary>Element-wise sum.</summary>
    public static Tensor operator +(Tensor a, Tensor b) => a.Add(b);

    /// <summary>Element-wise difference.</summary>
    public static Tensor operator -(Tensor a, Tensor b) => a.Subtract(b);

    /// <summary>Element-wise product.</summary>
    public static Tensor operator *(Tensor a, Tensor b) => a.Multiply(b);

    /// <summary>Scales every element.</summary>
    public static Tensor operator *(float s, Tensor a) => a.Multiply(s);

    /// <summary>Scales every element.</summary>
    public static Tensor operator *(Tensor a, float s) => a.Multiply(s);

    /// <summary>Sum of all elements (accumulated in double so large tensors stay accurate).</summary>
    public double Sum()
    {
        double s = 0;
        const int block = 4096;
        for (int i = 0; i < data.Length; i += block)
            s += TensorPrimitives.Sum(data.AsSpan(i, Math.Min(block, data.Length - i)));
        return s;
    }

    /// <summary>Dot product of the flattened elements (double accumulation), <c>&lt;a, b&gt;</c>.</summary>
    public double Dot(Tensor other)
    {
        if (other.Count != Count) throw new ShapeException($"dot: element counts {Count} and {other.Count} differ.");
        double s = 0;
        const int block = 4096;
        for (int i = 0; i < data.Length; i += block)
        {
            int n = Math.Min(block, data.Length - i);
            s += TensorPrimitives.Dot(data.AsSpan(i, n), other.data.AsSpan(i, n));
        }
        return s;
    }

    /// <summary>Largest element (NaN if any element is NaN).</summary>
    public float Max() => Count == 0 ? throw new InvalidOperationException("max of an empty tensor") : TensorPrimitives.Max(data);

    /// <summary>Smallest element (NaN if any element is NaN).</summary>
    public float Min() => Count == 0 ? throw new InvalidOperationException("min of an empty tensor") : TensorPrimitives.Min(data);

    // ---- comparison ----

    /// <summary>Largest <c>|this - other|</c> over all elements; NaN where exactly one side is NaN gives +∞.</summary>
    public float MaxAbsDiff(Tensor other)
    {
        if (other.Shape != Shape) throw new ShapeException($"MaxAbsDiff: shapes {Shape} and {other.Shape} differ.");
        float m = 0;
        for (int i = 0; i < data.Length; i++)
        {
            float a = data[i], b = other.data[i];
            if (float.IsNaN(a) || float.IsNaN(b)) { if (float.IsNaN(a) != float.IsNaN(b)) return float.PositiveInfinity; continue; }
            if (a == b) continue; // equal infinities
            m = Math.Max(m, Math.Abs(a - b));
        }
        return m;
    }

    /// <summary>
    /// <c>torch.allclose</c>: same shape and <c>|this - other| ≤ atol + rtol·|other|</c> element-wise;
    /// NaNs compare equal only when <paramref name="equalNaN"/>.
    /// </summary>
    public bool AllClose(Tensor other, float atol = 1e-8f, float rtol = 1e-5f, bool equalNaN = false) =>
        other.Shape == Shape && FirstMismatch(other, atol, rtol, equalNaN) < 0;

    /// <summary>Index of the first element outside the tolerance, or -1.</summary>
    public int FirstMismatch(Tensor other, float atol, float rtol, bool equalNaN = true)
    {
        for (int i = 0; i < data.Length; i++)
        {
            float a = data[i], b = other.data[i];
            if (float.IsNaN(a) || float.IsNaN(b)) { if (!(equalNaN && float.IsNaN(a) && float.IsNaN(b))) return i; continue; }
            if (a == b) continue;
            // As torch.isclose: an infinity is close only to itself (else rtol·|∞| would admit anything).
            if (float.IsInfinity(a) || float.IsInfinity(b)) return i;
            if (!(Math.Abs(a - b) <= atol + rtol * Math.Abs(b))) return i;
        }
        return -1;
    }

    // ---- printing ----

    /// <summary>PyTorch-like preview: nested brackets, 4 decimals, long dimensions clipped with "...", then shape and dtype.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder("tensor(");
        bool summarize = Count > 1000;
        if (Rank == 0) sb.Append(Format(data[0]));
        else AppendDim(sb, 0, 0, summarize, "tensor(".Length);
        sb.Append($", shape={Shape}, dtype=float32)");
        return sb.ToString();
    }

    private void AppendDim(StringBuilder sb, int dim, long offset, bool summarize, int indent)
    {
        int n = Shape.Dims[dim];
        long stride = 1;
        for (int i = dim + 1; i < Rank; i++) stride *= Shape.Dims[i];
        sb.Append('[');
        for (int i = 0; i < n; i++)
        {
            if (summarize && n > 6 && i == 3)
            {
                sb.Append(dim == Rank - 1 ? "..., " : "...," + Environment.NewLine + new string(' ', indent + dim + 1));
                i = n - 3;
            }
            if (dim == Rank - 1) sb.Append(Format(data[offset + i]));
            else AppendDim(sb, dim + 1, offset + i * stride, summarize, indent);
            if (i < n - 1) sb.Append(dim == Rank - 1 ? ", " : "," + Environment.NewLine + new string(' ', indent + dim + 1));
        }
        sb.Append(']');
    }

    private static string Format(float v) => v.ToString("0.0000", CultureInfo.InvariantCulture);
}
