namespace Functional;

/// <summary>
/// Picking elements along a dimension: <c>torch.argmax</c> and <c>torch.topk</c>, e.g. the
/// predicted classes of a classifier's logits (<c>logits.Softmax(1).TopK(5, 1)</c>). NaN counts as
/// larger than every number, as in PyTorch; among equal values the lower index comes first.
/// </summary>
public static class Selection
{
    /// <summary>
    /// <c>torch.argmax(x, dim, keepdim)</c>: the index of the largest element along
    /// <paramref name="dim"/> (the first one when several are equal).
    /// </summary>
    public static IndexTensor ArgMax(this Tensor x, int dim, bool keepDim = false)
    {
        var (_, indices) = TopK(x, 1, dim);
        var shape = keepDim || x.Rank == 0 ? indices.Shape : indices.Shape.RemoveAt(Axis(x.Shape, dim, "argmax"));
        return indices.Reshape(shape);
    }

    /// <summary><c>torch.argmax(x)</c>: the flat (row-major) index of the largest element.</summary>
    public static long ArgMax(this Tensor x)
    {
        if (x.Count == 0) throw new ShapeException("argmax(): Expected reduction dim to be specified for input.numel() == 0.");
        var span = x.Span;
        int best = 0;
        for (int i = 1; i < span.Length; i++)
            if (Greater(span[i], span[best])) best = i;
        return best;
    }

    /// <summary>
    /// <c>torch.topk(x, k, dim, largest)</c> with <c>sorted=True</c>: the <paramref name="k"/> largest
    /// (or smallest) elements along <paramref name="dim"/>, in order, and their indices; the other
    /// dimensions keep their sizes and <paramref name="dim"/> becomes <paramref name="k"/>.
    /// </summary>
    public static (Tensor Values, IndexTensor Indices) TopK(this Tensor x, int k, int dim = -1, bool largest = true)
    {
        ArgumentNullException.ThrowIfNull(x);
        int axis = Axis(x.Shape, dim, "topk");
        int n = x.Rank == 0 ? 1 : x.Shape[axis];
        if (k < 0 || k > n) throw new ShapeException($"topk: k ({k}) must be in [0, {n}], the size of dimension {dim} of {x.Shape}");
        var outShape = x.Rank == 0 ? x.Shape : x.Shape.With(axis, k);
        int inner = x.Rank == 0 ? 1 : checked((int)x.Shape.Skip(axis + 1).ElementCount);
        int outer = n == 0 || inner == 0 ? 0 : x.Count / (n * inner);
        var values = new float[outShape.ElementCount];
        var indices = new long[values.Length];
        var order = new int[n];
        var src = x.Buffer;
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                int start = o * n * inner + i;
                for (int j = 0; j < n; j++) order[j] = j;
                Array.Sort(order, (a, b) =>
                {
                    float va = src[start + a * inner], vb = src[start + b * inner];
                    int c = largest ? CompareValues(vb, va) : CompareValues(va, vb);
                    return c != 0 ? c : a.CompareTo(b);
                });
                for (int j = 0; j < k; j++)
                {
                    int dst = (o * k + j) * inner + i;
                    values[dst] = src[start + order[j] * inner];
                    indices[dst] = order[j];
                }
            }
        return (Tensor.Own(values, outShape), IndexTensor.Own(indices, outShape));
    }

    private static int Axis(Shape shape, int dim, string who) => SoftmaxFunctions.Resolve(shape, dim, who);

    /// <summary>Orders by value, NaN above every number.</summary>
    private static int CompareValues(float a, float b) => Greater(a, b) ? 1 : Greater(b, a) ? -1 : 0;

    private static bool Greater(float a, float b) => float.IsNaN(a) ? !float.IsNaN(b) : a > b;
}
