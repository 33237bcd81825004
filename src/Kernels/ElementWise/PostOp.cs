using System.Numerics.Tensors;

namespace Functional.Kernels;

/// <summary>
/// An element-wise operation a kernel may apply to its output right after writing it (a
/// convolution's epilogue), so a following activation costs no second pass over memory. The same
/// code runs the stand-alone activation layers: fused or not, the numbers are the same.
/// </summary>
public enum PostOp : byte
{
    /// <summary>Nothing.</summary>
    None,

    /// <summary><c>max(x, 0)</c> (NaN stays NaN).</summary>
    Relu,

    /// <summary><c>min(max(x, 0), 6)</c>.</summary>
    Relu6,

    /// <summary><c>x · sigmoid(x)</c>.</summary>
    Silu,

    /// <summary><c>x · min(max(x + 3, 0), 6) / 6</c>.</summary>
    Hardswish,

    /// <summary>Exact GELU, <c>x · ½(1 + erf(x/√2))</c>.</summary>
    Gelu,
}

/// <summary>Runs <see cref="PostOp"/>s over spans.</summary>
public static class PostOps
{
    /// <summary>
    /// Writes <paramref name="op"/> of <paramref name="source"/> into <paramref name="destination"/>
    /// (same length; it may be the source itself).
    /// </summary>
    public static void Apply(PostOp op, ReadOnlySpan<float> source, Span<float> destination)
    {
        switch (op)
        {
            case PostOp.None:
                if (!source.Overlaps(destination)) source.CopyTo(destination);
                break;
            case PostOp.Relu:
                TensorPrimitives.Max(source, 0f, destination);
                break;
            case PostOp.Relu6:
                TensorPrimitives.Max(source, 0f, destination);
                TensorPrimitives.Min(destination, 6f, destination);
                break;
            case PostOp.Silu:
                Exponential.Silu(source, destination);
                break;
            case PostOp.Gelu:
                Erf.Gelu(source, destination);
                break;
            case PostOp.Hardswish:
                Hardswish(source, destination);
                break;
            default:
                throw new ArgumentException($"unknown post-op {op}", nameof(op));
        }
    }

    /// <summary>In chunks through a stack buffer, so the destination may be the source.</summary>
    private static void Hardswish(ReadOnlySpan<float> source, Span<float> destination)
    {
        Span<float> t = stackalloc float[512];
        for (int i = 0; i < source.Length; i += t.Length)
        {
            int n = Math.Min(t.Length, source.Length - i);
            var s = source.Slice(i, n);
            var d = destination.Slice(i, n);
            var r = t[..n];
            TensorPrimitives.Add(s, 3f, r);
            TensorPrimitives.Max(r, 0f, r);
            TensorPrimitives.Min(r, 6f, r);
            TensorPrimitives.Multiply(r, s, d);
            TensorPrimitives.Divide(d, 6f, d);
        }
    }
}
