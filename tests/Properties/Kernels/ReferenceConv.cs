using Functional.Kernels;

namespace Functional.Properties.Kernels;

/// <summary>
/// Plain, obviously-correct convolution loops straight from the definitions, accumulating in
/// double. Each also returns, per output element, the sum of |terms| (bias included) so tests can
/// scale their tolerance to the magnitude that float rounding is relative to.
/// </summary>
internal static class ReferenceConv
{
    /// <summary>out[n, oc, o] = bias[oc] + Σ_{ic in group, k} in[n, g·Cg + ic, o·stride - padLo + k·dilation]·w[oc, ic, k].</summary>
    public static (double[] Value, double[] Magnitude) Forward(ConvPlan p, float[] input, float[] weight, float[]? bias)
    {
        int cg = p.InChannels / p.Groups, ocg = p.OutChannels / p.Groups;
        var (I, O, K, S, Dl, Pd) = (p.Input, p.Output, p.Kernel, p.Stride, p.Dilation, p.PadLo);
        var value = new double[p.Batch * p.OutChannels * O.D * O.H * O.W];
        var magnitude = new double[value.Length];
        int idx = 0;
        for (int n = 0; n < p.Batch; n++)
        for (int oc = 0; oc < p.OutChannels; oc++)
        for (int od = 0; od < O.D; od++)
        for (int oh = 0; oh < O.H; oh++)
        for (int ow = 0; ow < O.W; ow++, idx++)
        {
            double s = bias is null ? 0 : bias[oc];
            double m = Math.Abs(s);
            int g = oc / ocg;
            for (int ic = 0; ic < cg; ic++)
            for (int kd = 0; kd < K.D; kd++)
            for (int kh = 0; kh < K.H; kh++)
            for (int kw = 0; kw < K.W; kw++)
            {
                int id = od * S.D - Pd.D + kd * Dl.D, ih = oh * S.H - Pd.H + kh * Dl.H, iw = ow * S.W - Pd.W + kw * Dl.W;
                if (id < 0 || id >= I.D || ih < 0 || ih >= I.H || iw < 0 || iw >= I.W) continue;
                int c = g * cg + ic;
                double x = input[(((n * p.InChannels + c) * I.D + id) * I.H + ih) * I.W + iw];
                double w = weight[(((oc * cg + ic) * K.D + kd) * K.H + kh) * K.W + kw];
                s += x * w;
                m += Math.Abs(x * w);
            }
            value[idx] = s;
            magnitude[idx] = m;
        }
        return (value, magnitude);
    }

    /// <summary>For every input i and tap k: o = i·stride - padLo + k·dilation; if in range, out[o] += in[i]·w[k]; plus bias.</summary>
    public static (double[] Value, double[] Magnitude) Transposed(ConvPlan p, float[] input, float[] weight, float[]? bias)
    {
        int icg = p.InChannels / p.Groups, ocg = p.OutChannels / p.Groups;
        var (I, O, K, S, Dl, Pd) = (p.Input, p.Output, p.Kernel, p.Stride, p.Dilation, p.PadLo);
        int outVol = O.D * O.H * O.W;
        var value = new double[p.Batch * p.OutChannels * outVol];
        var magnitude = new double[value.Length];
        for (int n = 0; n < p.Batch; n++)
        for (int oc = 0; oc < p.OutChannels; oc++)
        for (int o = 0; o < outVol; o++)
        {
            double b = bias is null ? 0 : bias[oc];
            value[(n * p.OutChannels + oc) * outVol + o] = b;
            magnitude[(n * p.OutChannels + oc) * outVol + o] = Math.Abs(b);
        }
        for (int n = 0; n < p.Batch; n++)
        for (int c = 0; c < p.InChannels; c++)
        for (int id = 0; id < I.D; id++)
        for (int ih = 0; ih < I.H; ih++)
        for (int iw = 0; iw < I.W; iw++)
        {
            double x = input[(((n * p.InChannels + c) * I.D + id) * I.H + ih) * I.W + iw];
            int g = c / icg;
            for (int j = 0; j < ocg; j++)
            for (int kd = 0; kd < K.D; kd++)
            for (int kh = 0; kh < K.H; kh++)
            for (int kw = 0; kw < K.W; kw++)
            {
                int od = id * S.D - Pd.D + kd * Dl.D, oh = ih * S.H - Pd.H + kh * Dl.H, ow = iw * S.W - Pd.W + kw * Dl.W;
                if (od < 0 || od >= O.D || oh < 0 || oh >= O.H || ow < 0 || ow >= O.W) continue;
                double w = weight[(((c * ocg + j) * K.D + kd) * K.H + kh) * K.W + kw];
                int at = (((n * p.OutChannels + g * ocg + j) * O.D + od) * O.H + oh) * O.W + ow;
                value[at] += x * w;
                magnitude[at] += Math.Abs(x * w);
            }
        }
        return (value, magnitude);
    }

    /// <summary>PyTorch's forward output extent (may be below 1 for impossible geometries).</summary>
    public static int ForwardExtent(int input, int kernel, int stride, int dilation, int padLo, int padHi)
        => (input + padLo + padHi - dilation * (kernel - 1) - 1) / stride + 1;

    /// <summary>PyTorch's ConvTranspose output extent.</summary>
    public static int TransposedExtent(int input, int kernel, int stride, int dilation, int padLo, int padHi, int outputPadding)
        => (input - 1) * stride - padLo - padHi + dilation * (kernel - 1) + outputPadding + 1;
}
