using FsCheck;
using FsCheck.Fluent;
using Functional.Kernels;

namespace Functional.Properties;

/// <summary>
/// A generated convolution: PyTorch's constructor arguments, the padding resolved independently
/// of the library (<see cref="PadLo"/>/<see cref="PadHi"/>), an input size every argument accepts,
/// and a seed for weights and data. <see cref="Batch"/> 0 means unbatched input.
/// </summary>
public sealed record ConvConfig(
    int Rank, int Batch, int InChannels, int OutChannels, int Groups,
    int[] Kernel, int[] Stride, int[] Dilation, Padding Padding, int[] PadLo, int[] PadHi,
    PaddingMode Mode, bool Bias, int[] Spatial, int Seed)
{
    /// <summary>The input shape: <c>(N, C, ...)</c>, or <c>(C, ...)</c> when unbatched.</summary>
    public Shape InputShape => Batch == 0 ? new Shape([InChannels, .. Spatial]) : new Shape([Batch, InChannels, .. Spatial]);

    /// <summary>PyTorch's output extent per spatial dimension, by the formula written out here (not the library's).</summary>
    public int[] OutputSpatial => Enumerable.Range(0, Rank)
        .Select(i => LayerGenerators.FloorDiv(Spatial[i] + PadLo[i] + PadHi[i] - Dilation[i] * (Kernel[i] - 1) - 1, Stride[i]) + 1)
        .ToArray();

    /// <summary>The output shape PyTorch gives.</summary>
    public Shape ExpectedOutputShape => Batch == 0 ? new Shape([OutChannels, .. OutputSpatial]) : new Shape([Batch, OutChannels, .. OutputSpatial]);

    /// <summary>Terms summed per output element (the scale of float rounding).</summary>
    public int Terms => InChannels / Groups * Kernel.Aggregate(1, (a, b) => a * b);

    /// <summary>The layer, weights from <paramref name="weights"/> or <see cref="Weights.Random"/>(seed).</summary>
    public ConvNd Build(Weights? weights = null, bool? bias = null, PaddingMode? mode = null) =>
        ConvNd.Load(Rank, weights ?? Weights.Random(Seed), InChannels, OutChannels, new Dims(Kernel), new Dims(Stride), Padding,
            new Dims(Dilation), Groups, bias ?? Bias, mode ?? Mode);

    /// <summary>A seeded standard-normal input; <paramref name="salt"/> gives independent ones.</summary>
    public Tensor Input(int salt = 0) => Tensor.RandomNormal(InputShape, Seed * 7919 + salt);

    public override string ToString() =>
        $"Conv{Rank}d(in={InChannels}, out={OutChannels}, k={S(Kernel)}, s={S(Stride)}, d={S(Dilation)}, padding={Padding} " +
        $"[lo {S(PadLo)} hi {S(PadHi)}], groups={Groups}, bias={Bias}, mode={Mode}) input {InputShape} seed {Seed}";

    private static string S(int[] a) => "(" + string.Join(", ", a) + ")";
}

/// <summary>
/// A generated transposed convolution: symmetric padding, output padding below stride or dilation,
/// and an input size giving an output of at least 1.
/// </summary>
public sealed record ConvTransposeConfig(
    int Rank, int Batch, int InChannels, int OutChannels, int Groups,
    int[] Kernel, int[] Stride, int[] Dilation, int[] Padding, int[] OutputPadding, bool Bias, int[] Spatial, int Seed)
{
    public Shape InputShape => Batch == 0 ? new Shape([InChannels, .. Spatial]) : new Shape([Batch, InChannels, .. Spatial]);

    /// <summary><c>(in − 1)·s − 2p + d(k − 1) + output_padding + 1</c>, written out here.</summary>
    public int[] OutputSpatial => Enumerable.Range(0, Rank)
        .Select(i => (Spatial[i] - 1) * Stride[i] - 2 * Padding[i] + Dilation[i] * (Kernel[i] - 1) + OutputPadding[i] + 1)
        .ToArray();

    public Shape ExpectedOutputShape => Batch == 0 ? new Shape([OutChannels, .. OutputSpatial]) : new Shape([Batch, OutChannels, .. OutputSpatial]);

    public ConvTransposeNd Build(Weights? weights = null) =>
        ConvTransposeNd.Load(Rank, weights ?? Weights.Random(Seed), InChannels, OutChannels, new Dims(Kernel), new Dims(Stride),
            new Dims(Padding), new Dims(OutputPadding), Groups, Bias, new Dims(Dilation));

    public Tensor Input(int salt = 0) => Tensor.RandomNormal(InputShape, Seed * 7919 + salt);

    public override string ToString() =>
        $"ConvTranspose{Rank}d(in={InChannels}, out={OutChannels}, k={S(Kernel)}, s={S(Stride)}, d={S(Dilation)}, p={S(Padding)}, " +
        $"op={S(OutputPadding)}, groups={Groups}, bias={Bias}) input {InputShape} seed {Seed}";

    private static string S(int[] a) => "(" + string.Join(", ", a) + ")";
}

/// <summary>Which sliding-window pool a <see cref="PoolConfig"/> builds.</summary>
public enum PoolKind { Max, Avg }

/// <summary>
/// A generated max or average pool: kernel 1..4, stride (null = the kernel) 1..3, padding up to
/// half the kernel, dilation (max only), ceil_mode, and an input size with output ≥ 1.
/// </summary>
public sealed record PoolConfig(
    PoolKind Kind, int Rank, int[] Lead, int[] Kernel, int[]? Stride, int[] Padding, int[] Dilation,
    bool CeilMode, bool CountIncludePad, int[] Spatial, int Seed)
{
    public Shape InputShape => new([.. Lead, .. Spatial]);

    /// <summary>The stride in effect (PyTorch's default is the kernel).</summary>
    public int[] EffectiveStride => Stride ?? Kernel;

    /// <summary>PyTorch's pooling_output_shape, written out here.</summary>
    public int[] OutputSpatial => Enumerable.Range(0, Rank)
        .Select(i => LayerGenerators.PoolExtent(Spatial[i], Kernel[i], EffectiveStride[i], Padding[i], Dilation[i], CeilMode))
        .ToArray();

    public Shape ExpectedOutputShape => new([.. Lead, .. OutputSpatial]);

    public PoolNd Build() => Kind switch
    {
        PoolKind.Max => Rank switch
        {
            1 => new MaxPool1d(new Dims(Kernel), S, new Dims(Padding), new Dims(Dilation), ceilMode: CeilMode),
            2 => new MaxPool2d(new Dims(Kernel), S, new Dims(Padding), new Dims(Dilation), ceilMode: CeilMode),
            _ => new MaxPool3d(new Dims(Kernel), S, new Dims(Padding), new Dims(Dilation), ceilMode: CeilMode),
        },
        _ => Rank switch
        {
            1 => new AvgPool1d(new Dims(Kernel), S, new Dims(Padding), CeilMode, CountIncludePad),
            2 => new AvgPool2d(new Dims(Kernel), S, new Dims(Padding), CeilMode, CountIncludePad),
            _ => new AvgPool3d(new Dims(Kernel), S, new Dims(Padding), CeilMode, CountIncludePad),
        },
    };

    /// <summary>The max pool of this window (dilation kept), whatever <see cref="Kind"/> is.</summary>
    public MaxPoolNd BuildMax() => (MaxPoolNd)(this with { Kind = PoolKind.Max }).Build();

    /// <summary>The average pool of this window (dilation must be 1).</summary>
    public AvgPoolNd BuildAvg() => (AvgPoolNd)(this with { Kind = PoolKind.Avg }).Build();

    private Dims? S => Stride is { } s ? new Dims(s) : (Dims?)null;

    public Tensor Input(int salt = 0) => Tensor.RandomNormal(InputShape, Seed * 7919 + salt);

    public override string ToString() =>
        $"{Kind}Pool{Rank}d(k={A(Kernel)}, s={(Stride is null ? "None" : A(Stride))}, p={A(Padding)}, d={A(Dilation)}, ceil={CeilMode}, " +
        $"count_include_pad={CountIncludePad}) input {InputShape} seed {Seed}";

    private static string A(int[] a) => "(" + string.Join(", ", a) + ")";
}

/// <summary>Generators for the convolution and pooling layer properties.</summary>
internal static class LayerGenerators
{
    public static int FloorDiv(int a, int b) => a >= 0 ? a / b : -((-a + b - 1) / b);

    /// <summary>
    /// PyTorch's pooling_output_shape: ⌊or⌈(in + 2p − d(k−1) − 1)/s⌉ + 1, and with ceil_mode the
    /// last window must start inside the input or the left padding.
    /// </summary>
    public static int PoolExtent(int input, int kernel, int stride, int pad, int dilation, bool ceilMode)
    {
        int span = input + 2 * pad - dilation * (kernel - 1) - 1;
        int output = (ceilMode ? -FloorDiv(-span, stride) : FloorDiv(span, stride)) + 1;
        if (ceilMode && (output - 1) * stride >= input + pad) output--;
        return output;
    }

    private static readonly int[] MaxExtraSmall = [6, 4, 2];

    /// <summary>
    /// Valid convolutions: rank 1..3 (or <paramref name="ranks"/>), batch 1..3 or unbatched,
    /// channels 1..6 with groups dividing both, kernel 1..4, stride 1..3, dilation 1..3, padding
    /// 0..3 per dimension / one int / same (stride 1) / valid, every padding mode, bias on or off.
    /// The input exceeds the smallest valid size by up to <paramref name="maxExtra"/>[rank − 1].
    /// </summary>
    public static Gen<ConvConfig> Convs(int[]? maxExtra = null, int minRank = 1, int maxRank = 3) =>
        from rank in Gen.Choose(minRank, maxRank)
        from batch in Gen.Elements(0, 1, 2, 3)
        from groups in Gen.Elements(1, 1, 1, 2, 3, 6)
        from a in Gen.Choose(1, 6 / groups)
        from b in Gen.Choose(1, 6 / groups)
        from kernel in Gen.Choose(1, 4).ArrayOf(rank)
        from stride in Gen.Frequency((2, Gen.Constant(1)), (3, Gen.Choose(1, 3))).ArrayOf(rank)
        from dilation in Gen.Frequency((2, Gen.Constant(1)), (2, Gen.Choose(1, 3))).ArrayOf(rank)
        from kind in Gen.Frequency((5, Gen.Constant(PaddingKind.Explicit)), (2, Gen.Constant(PaddingKind.Same)), (1, Gen.Constant(PaddingKind.Valid)))
        from pads in Gen.Choose(0, 3).ArrayOf(rank)
        from oneInt in Gen.Elements(false, true)
        from mode in Gen.Elements(PaddingMode.Zeros, PaddingMode.Zeros, PaddingMode.Reflect, PaddingMode.Replicate, PaddingMode.Circular)
        from bias in Gen.Elements(false, true)
        from extra in Gen.Choose(0, (maxExtra ?? MaxExtraSmall)[rank - 1]).ArrayOf(rank)
        from seed in Gen.Choose(0, 1 << 20)
        select MakeConv(rank, batch, groups, groups * a, groups * b, kernel, stride, dilation, kind, pads, oneInt, mode, bias, extra, seed);

    private static ConvConfig MakeConv(int rank, int batch, int groups, int cin, int cout, int[] kernel, int[] stride, int[] dilation,
        PaddingKind kind, int[] pads, bool oneInt, PaddingMode mode, bool bias, int[] extra, int seed)
    {
        if (kind == PaddingKind.Same) stride = Enumerable.Repeat(1, rank).ToArray();
        if (oneInt) pads = Enumerable.Repeat(pads[0], rank).ToArray();
        var lo = new int[rank];
        var hi = new int[rank];
        Padding padding;
        switch (kind)
        {
            case PaddingKind.Same:
                padding = Padding.Same;
                for (int i = 0; i < rank; i++)
                {
                    int total = dilation[i] * (kernel[i] - 1);
                    lo[i] = total / 2;
                    hi[i] = total - lo[i];
                }
                break;
            case PaddingKind.Valid:
                padding = Padding.Valid;
                break;
            default:
                padding = oneInt ? pads[0] : new Dims(pads);
                pads.CopyTo(lo, 0);
                pads.CopyTo(hi, 0);
                break;
        }
        var spatial = new int[rank];
        for (int i = 0; i < rank; i++)
        {
            int min = Math.Max(1, dilation[i] * (kernel[i] - 1) + 1 - lo[i] - hi[i]);
            if (mode == PaddingMode.Reflect) min = Math.Max(min, Math.Max(lo[i], hi[i]) + 1);
            if (mode == PaddingMode.Circular) min = Math.Max(min, Math.Max(lo[i], hi[i]));
            spatial[i] = min + extra[i];
        }
        return new ConvConfig(rank, batch, cin, cout, groups, kernel, stride, dilation, padding, lo, hi, mode, bias, spatial, seed);
    }

    /// <summary>Transposed convolutions with the same ranges; output padding below max(stride, dilation).</summary>
    public static Gen<ConvTransposeConfig> ConvTransposes { get; } =
        from rank in Gen.Choose(1, 3)
        from batch in Gen.Elements(0, 1, 2, 3)
        from groups in Gen.Elements(1, 1, 1, 2, 3, 6)
        from a in Gen.Choose(1, 6 / groups)
        from b in Gen.Choose(1, 6 / groups)
        from kernel in Gen.Choose(1, 4).ArrayOf(rank)
        from stride in Gen.Choose(1, 3).ArrayOf(rank)
        from dilation in Gen.Frequency((2, Gen.Constant(1)), (2, Gen.Choose(1, 3))).ArrayOf(rank)
        from pads in Gen.Choose(0, 3).ArrayOf(rank)
        from ops in Gen.Choose(0, 2).ArrayOf(rank)
        from bias in Gen.Elements(false, true)
        from sizes in Gen.Choose(1, 5).ArrayOf(rank)
        from seed in Gen.Choose(0, 1 << 20)
        select MakeTransposed(rank, batch, groups, groups * a, groups * b, kernel, stride, dilation, pads, ops, bias, sizes, seed);

    private static ConvTransposeConfig MakeTransposed(int rank, int batch, int groups, int cin, int cout, int[] kernel, int[] stride,
        int[] dilation, int[] pads, int[] ops, bool bias, int[] sizes, int seed)
    {
        for (int i = 0; i < rank; i++)
        {
            ops[i] %= Math.Max(stride[i], dilation[i]);
            // Raise the input until the output has at least one element.
            while ((sizes[i] - 1) * stride[i] - 2 * pads[i] + dilation[i] * (kernel[i] - 1) + ops[i] + 1 < 1) sizes[i]++;
        }
        return new ConvTransposeConfig(rank, batch, cin, cout, groups, kernel, stride, dilation, pads, ops, bias, sizes, seed);
    }

    /// <summary>
    /// Valid max/avg pools. <paramref name="dilated"/> allows dilation 2..3 (max pools only);
    /// <paramref name="padded"/> false keeps padding 0. Inputs exceed the smallest valid size by
    /// up to <paramref name="maxExtra"/>[rank − 1].
    /// </summary>
    public static Gen<PoolConfig> Pools(PoolKind kind, bool dilated = true, bool padded = true, int[]? maxExtra = null) =>
        from rank in Gen.Choose(1, 3)
        from batched in Gen.Elements(false, true)
        from lead in Gen.Choose(1, 3).ArrayOf(batched ? 2 : 1)
        from kernel in Gen.Choose(1, 4).ArrayOf(rank)
        from defaultStride in Gen.Frequency((1, Gen.Constant(true)), (3, Gen.Constant(false)))
        from stride in Gen.Choose(1, 3).ArrayOf(rank)
        from padFraction in Gen.Choose(0, 2).ArrayOf(rank)
        from dilation in Gen.Frequency((3, Gen.Constant(1)), (dilated ? 2 : 0, Gen.Choose(2, 3))).ArrayOf(rank)
        from ceil in Gen.Elements(false, true)
        from countIncludePad in Gen.Elements(false, true)
        from extra in Gen.Choose(0, (maxExtra ?? [8, 5, 3])[rank - 1]).ArrayOf(rank)
        from seed in Gen.Choose(0, 1 << 20)
        select MakePool(kind, rank, lead, kernel, defaultStride ? null : stride,
            padded ? padFraction.Select((f, i) => f * (kernel[i] / 2) / 2).ToArray() : new int[rank],
            dilation, ceil, countIncludePad, extra, seed);

    private static PoolConfig MakePool(PoolKind kind, int rank, int[] lead, int[] kernel, int[]? stride, int[] padding, int[] dilation,
        bool ceil, bool countIncludePad, int[] extra, int seed)
    {
        var spatial = new int[rank];
        for (int i = 0; i < rank; i++)
            spatial[i] = Math.Max(1, dilation[i] * (kernel[i] - 1) + 1 - 2 * padding[i]) + extra[i];
        return new PoolConfig(kind, rank, lead, kernel, stride, padding, dilation, ceil, countIncludePad, spatial, seed);
    }

    /// <summary>An input shape for a rank-<paramref name="rank"/> pool: unbatched or batched, spatial 1..<paramref name="maxExtent"/>.</summary>
    public static Gen<Shape> PoolInputs(int rank, int maxExtent = 7) =>
        from batched in Gen.Elements(false, true)
        from lead in Gen.Choose(1, 3).ArrayOf(batched ? 2 : 1)
        from spatial in Gen.Choose(1, maxExtent).ArrayOf(rank)
        select new Shape([.. lead, .. spatial]);

    /// <summary>Extends per-dimension values to 3-D with leading <paramref name="fill"/>s, as the kernels see them.</summary>
    public static Dim3 To3D(int[] v, int fill = 1) =>
        new(v.Length >= 3 ? v[^3] : fill, v.Length >= 2 ? v[^2] : fill, v[^1]);
}
