namespace Functional;

/// <summary>Padding of a tensor's trailing dimensions, as <c>torch.nn.functional.pad</c>.</summary>
public static class Pad
{
    /// <summary>
    /// Pads the last <c>before.Count</c> dimensions of <paramref name="x"/> by
    /// <paramref name="before"/>/<paramref name="after"/> elements (a negative size crops). The
    /// dimensions are given outermost first (unlike <c>F.pad</c>'s last-dimension-first list).
    /// <paramref name="value"/> fills <see cref="PaddingMode.Zeros"/> padding.
    /// </summary>
    public static Tensor Apply(Tensor x, Dims before, Dims after, PaddingMode mode, float value = 0f)
    {
        int rank = before.Count;
        if (after.Count != rank || rank == 0 || rank > 3)
            throw new ShapeException($"pad: before {before} and after {after} must give the same 1 to 3 dimensions");
        if (x.Rank < rank)
            throw new ShapeException($"pad: {rank}-d padding needs an input of at least rank {rank}, got {x.Shape}");
        int lead = x.Rank - rank;
        var outDims = x.Shape.ToArray();
        for (int i = 0; i < rank; i++)
        {
            int n = x.Shape[lead + i], lo = before[i], hi = after[i];
            string what = $"padding ({lo}, {hi}) at dimension {lead + i} of input {x.Shape}";
            if (mode == PaddingMode.Reflect && (lo >= n || hi >= n))
                throw new ShapeException($"pad: reflect padding size should be less than the corresponding input dimension, but got: {what}");
            if (mode == PaddingMode.Circular && (lo > n || hi > n))
                throw new ShapeException($"pad: circular padding size should be at most the corresponding input dimension, but got: {what}");
            if (mode == PaddingMode.Replicate && n == 0 && lo + hi > 0)
                throw new ShapeException($"pad: replicate padding needs a non-empty dimension, but got: {what}");
            outDims[lead + i] = n + lo + hi;
            if (outDims[lead + i] < 0)
                throw new ShapeException($"pad: the padded size of dimension {lead + i} would be {outDims[lead + i]}: {what}");
        }
        var outShape = new Shape(outDims);
        var inner = x.Shape.Skip(lead).ToArray();
        var outInner = outShape.Skip(lead).ToArray();
        // Work in 3-D (D, H, W) with leading 1s so one loop serves every rank.
        int id = rank >= 3 ? inner[^3] : 1, ih = rank >= 2 ? inner[^2] : 1, iw = inner[^1];
        int od = rank >= 3 ? outInner[^3] : 1, oh = rank >= 2 ? outInner[^2] : 1, ow = outInner[^1];
        int ld = rank >= 3 ? before[^3] : 0, lh = rank >= 2 ? before[^2] : 0, lw = before[^1];
        long planes = x.Shape.Take(lead).ElementCount;

        var result = TensorPool.Rent(outShape);
        var src = x.Span;
        var wMap = Map(ow, iw, lw, mode);
        var hMap = Map(oh, ih, lh, mode);
        var dMap = Map(od, id, ld, mode);
        for (long p = 0; p < planes; p++)
            for (int d = 0; d < od; d++)
                for (int h = 0; h < oh; h++)
                {
                    var row = result.AsSpan((int)(((p * od + d) * oh + h) * ow), ow);
                    int sd = dMap[d], sh = hMap[h];
                    if (sd < 0 || sh < 0) { row.Fill(value); continue; }
                    var srcRow = src.Slice((int)(((p * id + sd) * ih + sh) * iw), iw);
                    for (int w = 0; w < ow; w++)
                    {
                        int sw = wMap[w];
                        row[w] = sw < 0 ? value : srcRow[sw];
                    }
                }
        return Tensor.Own(result, outShape);
    }

    /// <summary>For each output index, the source index along one dimension, or −1 for a constant.</summary>
    private static int[] Map(int outSize, int inSize, int before, PaddingMode mode)
    {
        var map = new int[outSize];
        for (int o = 0; o < outSize; o++)
        {
            int i = o - before;
            map[o] = (i >= 0 && i < inSize) ? i : mode switch
            {
                PaddingMode.Zeros => -1,
                PaddingMode.Reflect => i < 0 ? -i : 2 * (inSize - 1) - i,
                PaddingMode.Replicate => Math.Clamp(i, 0, inSize - 1),
                _ => ((i % inSize) + inSize) % inSize,
            };
        }
        return map;
    }
}
