using System.Numerics.Tensors;

namespace Functional.Kernels;

/// <summary>
/// Separable-table resampling of <c>(planes, D, H, W)</c> to <c>(planes, OD, OH, OW)</c>: each
/// output element is a weighted sum of source taps, one table of (index, weight) taps per axis.
/// Nearest, linear and cubic interpolation are all this with 1, 2 or 4 taps.
/// <para>
/// The sum is nested as PyTorch's generic upsample kernel nests it, innermost axis first:
/// <c>Σ_d (Σ_h (Σ_w x·w_w)·w_h)·w_d</c>, each sum starting from its first product, so rounding
/// matches term for term.
/// </para>
/// </summary>
public static class Resample
{
    /// <summary>Sizes: planes (batch × channels), input (D, H, W) and output (OD, OH, OW).</summary>
    public readonly record struct Plan(int Planes, int D, int H, int W, int OD, int OH, int OW);

    /// <summary>The taps of one axis: <c>Taps</c> consecutive (index, weight) pairs per output index.</summary>
    public readonly record struct Axis(int[] Index, float[] Weight, int Taps);

    /// <summary>Resamples <paramref name="src"/> into <paramref name="dst"/> with the per-axis tables (D, H, W).</summary>
    public static void Run(Plan p, float[] src, float[] dst, Axis d, Axis h, Axis w)
    {
        long inPlane = (long)p.D * p.H * p.W, outPlane = (long)p.OD * p.OH * p.OW;
        long cost = outPlane * d.Taps * h.Taps * w.Taps;
        Parallelism.For(p.Planes, cost, (start, end) =>
        {
            var accH = new float[p.OW];
            var accD = new float[p.OW];
            var row = new float[p.OW];
            for (int plane = start; plane < end; plane++)
            {
                var x = src.AsSpan((int)(plane * inPlane), (int)inPlane);
                var y = dst.AsSpan((int)(plane * outPlane), (int)outPlane);
                for (int od = 0; od < p.OD; od++)
                    for (int oh = 0; oh < p.OH; oh++)
                    {
                        var outRow = y.Slice((od * p.OH + oh) * p.OW, p.OW);
                        for (int jd = 0; jd < d.Taps; jd++)
                        {
                            int sd = d.Index[od * d.Taps + jd];
                            float wd = d.Weight[od * d.Taps + jd];
                            for (int jh = 0; jh < h.Taps; jh++)
                            {
                                int sh = h.Index[oh * h.Taps + jh];
                                float wh = h.Weight[oh * h.Taps + jh];
                                var srcRow = x.Slice((sd * p.H + sh) * p.W, p.W);
                                // Single taps on the outer axes weigh 1: interpolate straight into the output.
                                bool direct = d.Taps == 1 && h.Taps == 1;
                                Interpolate(srcRow, w, direct ? outRow : row);
                                if (direct) continue;
                                if (jh == 0) TensorPrimitives.Multiply(row, wh, accH);
                                else MultiplyAccumulate(row, wh, accH);
                            }
                            if (d.Taps == 1 && h.Taps == 1) continue;
                            if (d.Taps == 1) TensorPrimitives.Multiply(accH, wd, outRow);
                            else if (jd == 0) TensorPrimitives.Multiply(accH, wd, accD);
                            else MultiplyAccumulate(accH, wd, accD);
                        }
                        if (d.Taps > 1) accD.CopyTo(outRow);
                    }
            }
        });
    }

    /// <summary>One output row from one source row along the innermost axis.</summary>
    private static void Interpolate(ReadOnlySpan<float> srcRow, Axis w, Span<float> outRow)
    {
        var idx = w.Index;
        var wt = w.Weight;
        switch (w.Taps)
        {
            case 1:
                // Nearest: a gather; the weight is 1.
                for (int o = 0; o < outRow.Length; o++) outRow[o] = srcRow[idx[o]];
                break;
            case 2:
                for (int o = 0; o < outRow.Length; o++)
                    outRow[o] = srcRow[idx[2 * o]] * wt[2 * o] + srcRow[idx[2 * o + 1]] * wt[2 * o + 1];
                break;
            default:
                int t = w.Taps;
                for (int o = 0; o < outRow.Length; o++)
                {
                    float s = srcRow[idx[t * o]] * wt[t * o];
                    for (int j = 1; j < t; j++) s += srcRow[idx[t * o + j]] * wt[t * o + j];
                    outRow[o] = s;
                }
                break;
        }
    }

    /// <summary><c>acc += row·weight</c>, multiply then add (unfused).</summary>
    private static void MultiplyAccumulate(ReadOnlySpan<float> row, float weight, Span<float> acc)
    {
        for (int i = 0; i < acc.Length; i++) acc[i] += row[i] * weight;
    }
}
