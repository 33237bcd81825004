using System.Collections.Immutable;
using System.Numerics.Tensors;
using Functional.Kernels;

namespace Functional;

/// <summary>torchvision's <c>InterpolationMode</c> for <see cref="Resize"/> on tensors.</summary>
public enum InterpolationMode
{
    /// <summary><c>nearest</c>: PyTorch's <c>F.interpolate(mode='nearest')</c>.</summary>
    Nearest,
    /// <summary><c>bilinear</c> (torchvision's default).</summary>
    Bilinear,
    /// <summary><c>bicubic</c>: Keys' cubic, A = −0.75 without antialias, −0.5 (PIL's) with it.</summary>
    Bicubic,
}

/// <summary>How interleaved 8-bit pixels are laid out in memory (one row after another, any row stride).</summary>
public enum PixelFormat
{
    /// <summary>R, G, B bytes per pixel.</summary>
    Rgb24,
    /// <summary>B, G, R bytes per pixel (OpenCV, Windows bitmaps).</summary>
    Bgr24,
    /// <summary>R, G, B, A bytes per pixel; alpha is dropped (as PIL's <c>convert("RGB")</c>).</summary>
    Rgba32,
    /// <summary>B, G, R, A bytes per pixel; alpha is dropped.</summary>
    Bgra32,
}

/// <summary>
/// torchvision's <c>transforms.Resize</c> on a tensor <c>(C, H, W)</c> or <c>(N, C, H, W)</c>
/// (<c>torchvision.transforms.functional.resize</c>, 0.14): with an int <c>size</c> the shorter
/// side becomes <c>size</c> and the longer <c>⌊size·long/short⌋</c>, capped at
/// <c>max_size</c> (the shorter then shrinks to <c>⌊max_size·short/long⌋</c>); with (h, w) the output
/// is exactly that. An image already of the output size passes through unchanged.
/// <para>
/// Without antialias this is <see cref="Upsample"/> with <c>align_corners=False</c>. With
/// <c>antialias=True</c> (bilinear or bicubic) it is PyTorch's <c>_upsample_bilinear2d_aa</c> /
/// <c>_upsample_bicubic2d_aa</c>, PIL's filter: when shrinking by <c>s</c> the filter is widened
/// by <c>s</c>, so every input pixel contributes; weights are normalised to sum 1. Both go through
/// the same separable resampling kernel.
/// </para>
/// </summary>
public sealed record Resize : Layer
{
    /// <summary>torchvision's arguments and defaults.</summary>
    public Resize(Dims size, InterpolationMode interpolation = InterpolationMode.Bilinear, int? maxSize = null, bool? antialias = null)
    {
        Size = size;
        Interpolation = interpolation;
        MaxSize = maxSize;
        Antialias = antialias;
    }

    /// <summary>An int (the shorter side) or (height, width).</summary>
    public Dims Size
    {
        get;
        init
        {
            if (value.Count is not (1 or 2)) throw new ShapeException($"Resize: size must be an int or a 1 or 2 element tuple/list, got {value}");
            foreach (int v in value.Values)
                if (v < 1) throw new ShapeException($"Resize: size must be positive, got {value}");
            field = value;
        }
    }

    /// <summary>The interpolation.</summary>
    public InterpolationMode Interpolation { get; init; }

    /// <summary>Largest allowed longer side when <see cref="Size"/> is an int; must exceed it.</summary>
    public int? MaxSize { get; init; }

    /// <summary>PIL-style antialiasing (bilinear and bicubic only); null means False for tensors in torchvision 0.14.</summary>
    public bool? Antialias { get; init; }

    private string ModeName => Interpolation.ToString().ToLowerInvariant();

    private void Validate()
    {
        if (MaxSize is { } m && Size.Count != 1)
            throw new ShapeException($"Resize: max_size should only be passed if size specifies the length of the smaller edge, got size={Size}");
        if (MaxSize is { } mx && mx <= Size[0])
            throw new ShapeException($"Resize: max_size = {mx} must be strictly greater than the requested size for the smaller edge size = {Size[0]}");
        if (Antialias == true && Interpolation == InterpolationMode.Nearest)
            throw new ShapeException("Resize: Antialias option is supported for bilinear and bicubic interpolation modes only");
    }

    /// <summary>torchvision's <c>_compute_resized_output_size</c>: (height, width) for an image of <paramref name="h"/>×<paramref name="w"/>.</summary>
    public (int Height, int Width) OutputSize(int h, int w)
    {
        Validate();
        if (Size.Count == 2) return (Size[0], Size[1]);
        int small = Math.Min(h, w), large = Math.Max(h, w);
        if (small < 1) throw new ShapeException($"Resize: cannot resize an image of size {h}×{w}");
        int requested = Size[0];
        // Python: int(requested * long / short), a float division truncated.
        int newShort = requested, newLong = (int)((long)requested * large / (double)small);
        if (MaxSize is { } max && newLong > max)
            (newShort, newLong) = ((int)((long)max * newShort / (double)newLong), max);
        return w <= h ? (newLong, newShort) : (newShort, newLong);
    }

    /// <inheritdoc/>
    public override Shape OutputShape(Shape input)
    {
        if (input.Rank is not (3 or 4))
            throw Error($"expected an image tensor (C, H, W) or a batch (N, C, H, W), got input of size {input}");
        var (h, w) = OutputSize(input[-2], input[-1]);
        if (h < 1 || w < 1) throw Error($"the output size {h}×{w} for an image of {input[-2]}×{input[-1]} must be positive");
        return input.With(-2, h).With(-1, w);
    }

    /// <inheritdoc/>
    protected override Tensor Compute(Tensor input, Shape outputShape)
    {
        // torchvision returns the image itself when it already has the output size.
        if (outputShape == input.Shape) return input.Reshape(outputShape);
        var batched = input.Rank == 4 ? input : input.Unsqueeze(0);
        int oh = outputShape[-2], ow = outputShape[-1];
        Tensor y;
        if (Antialias == true)
        {
            int planes = checked(batched.Shape[0] * batched.Shape[1]), h = batched.Shape[2], w = batched.Shape[3];
            bool cubic = Interpolation == InterpolationMode.Bicubic;
            var output = TensorPool.Rent(outputShape);
            Resample.Run(new Resample.Plan(planes, 1, h, w, 1, oh, ow), batched.Buffer, output,
                new Resample.Axis([0], [1f], 1), AntialiasTable(h, oh, cubic), AntialiasTable(w, ow, cubic));
            y = Tensor.Own(output, outputShape);
        }
        else
        {
            var mode = Interpolation switch
            {
                InterpolationMode.Nearest => UpsampleMode.Nearest,
                InterpolationMode.Bicubic => UpsampleMode.Bicubic,
                _ => UpsampleMode.Bilinear,
            };
            using var scaled = new Upsample((oh, ow), mode: mode, alignCorners: mode == UpsampleMode.Nearest ? null : false).Forward(batched);
            y = scaled.Reshape(outputShape);
        }
        if (!ReferenceEquals(batched, input)) batched.Dispose();
        return y;
    }

    /// <summary>
    /// PyTorch's <c>_compute_indices_weights_aa</c> (PIL's resampling filter) for one axis, every
    /// output padded with zero-weight taps to the widest support so one table shape serves all:
    /// <code>
    ///   scale = in/out;  support = (taps/2)·max(scale, 1);  center = scale·(i + ½)
    ///   xmin = max(⌊center − support + ½⌋, 0);  xsize = min(⌊center + support + ½⌋, in) − xmin
    ///   w_j = filter((j + xmin − center + ½) / max(scale, 1)),  normalised to sum 1
    /// </code>
    /// in float, as PyTorch computes it for float tensors.
    /// </summary>
    internal static Resample.Axis AntialiasTable(int inSize, int outSize, bool cubic)
    {
        float scale = (float)inSize / outSize;
        float support = (float)((cubic ? 2.0 : 1.0) * (scale >= 1f ? scale : 1f));
        float invScale = scale >= 1f ? (float)(1.0 / scale) : 1f;
        int taps = (int)MathF.Ceiling(support) * 2 + 1;
        var index = new int[outSize * taps];
        var weight = new float[outSize * taps];
        for (int i = 0; i < outSize; i++)
        {
            float center = (float)(scale * (i + 0.5));
            int xmin = Math.Max((int)(center - support + 0.5), 0);
            int xsize = Math.Min((int)(center + support + 0.5), inSize) - xmin;
            var w = weight.AsSpan(i * taps, taps);
            float total = 0f;
            for (int j = 0; j < xsize; j++)
            {
                // (j + xmin − center) is float, + 0.5 and the scaling are double, the filter's argument float.
                float x = (float)(((float)(j + xmin) - center + 0.5) * invScale);
                w[j] = cubic ? CubicFilter(x) : LinearFilter(x);
                total += w[j];
            }
            for (int j = 0; j < taps; j++)
            {
                if (j < xsize && total != 0f) w[j] /= total;
                // Padding taps read a valid pixel with weight 0: adding 0·x leaves each sum unchanged.
                index[i * taps + j] = Math.Min(xmin + Math.Min(j, Math.Max(xsize - 1, 0)), inSize - 1);
            }
        }
        return new Resample.Axis(index, weight, taps);
    }

    private static float LinearFilter(float x)
    {
        if (x < 0f) x = -x;
        return x < 1f ? (float)(1.0 - x) : 0f;
    }

    /// <summary>PIL's bicubic filter with a = −0.5, evaluated in double as PyTorch's <c>#define a -0.5</c> makes it.</summary>
    private static float CubicFilter(float x)
    {
        const double a = -0.5;
        if (x < 0f) x = -x;
        if (x < 1f) return (float)(((a + 2.0) * x - (a + 3.0)) * x * x + 1);
        if (x < 2f) return (float)((((x - 5) * x + 8) * x - 4) * a);
        return 0f;
    }

    /// <inheritdoc/>
    protected override string ExtraRepr() =>
        $"size={(Size.Count == 1 ? Size[0].ToString() : Size.ToString())}, interpolation={ModeName}, max_size={MaxSize?.ToString() ?? "None"}, antialias={(Antialias is { } a ? PyRepr.Bool(a) : "None")}";
}

/// <summary>
/// torchvision's <c>transforms.CenterCrop</c> on a tensor <c>(..., H, W)</c>: the (h, w) window at
/// <c>top = round((H − h)/2)</c>, <c>left = round((W − w)/2)</c> (Python's round: halves to even).
/// A crop larger than the image pads it with zeros first, <c>⌊(h − H)/2⌋</c> above and the rest below
/// (likewise left and right).
/// </summary>
public sealed record CenterCrop : Layer
{
    /// <summary>An int (square crop) or (height, width).</summary>
    public CenterCrop(Dims size) => Size = size;

    /// <summary>The crop size, (height, width).</summary>
    public Dims Size
    {
        get;
        init
        {
            if (value.Count is not (1 or 2)) throw new ShapeException($"CenterCrop: size must be an int or a 1 or 2 element tuple/list, got {value}");
            var s = value.Count == 1 ? new Dims(value[0], value[0]) : value;
            foreach (int v in s.Values)
                if (v < 1) throw new ShapeException($"CenterCrop: size must be positive, got {value}");
            field = s;
        }
    }

    /// <inheritdoc/>
    public override Shape OutputShape(Shape input)
    {
        if (input.Rank < 2)
            throw Error($"expected a tensor image (..., H, W), got input of size {input}");
        return input.With(-2, Size[0]).With(-1, Size[1]);
    }

    /// <summary>Where the crop starts along an axis of <paramref name="size"/> (negative: zero padding first).</summary>
    private static int Offset(int size, int crop) =>
        crop > size ? -((crop - size) / 2) : (int)Math.Round((size - crop) / 2.0, MidpointRounding.ToEven);

    /// <inheritdoc/>
    protected override Tensor Compute(Tensor input, Shape outputShape)
    {
        int h = input.Shape[-2], w = input.Shape[-1], ch = Size[0], cw = Size[1];
        int top = Offset(h, ch), left = Offset(w, cw);
        long planes = input.Shape.Take(input.Rank - 2).ElementCount;
        var y = TensorPool.Rent(outputShape);
        var x = input.Span;
        // Columns of the crop that fall inside the image (the rest is padding).
        int c0 = Math.Max(0, -left), c1 = Math.Min(cw, w - left);
        for (long p = 0; p < planes; p++)
            for (int r = 0; r < ch; r++)
            {
                var row = y.AsSpan(checked((int)((p * ch + r) * cw)), cw);
                int sr = top + r;
                if (sr < 0 || sr >= h || c1 <= c0) { row.Clear(); continue; }
                row[..c0].Clear();
                row[c1..].Clear();
                x.Slice(checked((int)((p * h + sr) * w + left + c0)), c1 - c0).CopyTo(row[c0..c1]);
            }
        return Tensor.Own(y, outputShape);
    }

    /// <inheritdoc/>
    protected override string ExtraRepr() => $"size={PyRepr.Tuple(Size.Values)}";
}

/// <summary>
/// torchvision's <c>transforms.Normalize</c> on a float tensor <c>(..., C, H, W)</c>:
/// <c>(x − mean[c]) / std[c]</c> per channel, subtracted then divided in float32 as torchvision's
/// <c>tensor.sub_(mean).div_(std)</c>. One mean and std broadcast to every channel.
/// </summary>
public sealed record Normalize : Layer
{
    /// <summary>Per-channel mean and standard deviation, as given (printed as Python floats).</summary>
    public Normalize(double[] mean, double[] std)
    {
        Mean = [.. mean];
        Std = [.. std];
    }

    /// <summary>The per-channel means.</summary>
    public ImmutableArray<double> Mean
    {
        get;
        init => field = value.IsDefaultOrEmpty ? throw new ShapeException("Normalize: mean must have at least one value") : value;
    }

    /// <summary>The per-channel standard deviations (none may be 0 in float32).</summary>
    public ImmutableArray<double> Std
    {
        get;
        init
        {
            if (value.IsDefaultOrEmpty) throw new ShapeException("Normalize: std must have at least one value");
            if (value.Any(s => (float)s == 0f)) throw new ShapeException("Normalize: std evaluated to zero after conversion to torch.float32, leading to division by zero.");
            field = value;
        }
    }

    /// <inheritdoc/>
    public override Shape OutputShape(Shape input)
    {
        if (input.Rank < 3)
            throw Error($"Expected tensor to be a tensor image of size (..., C, H, W). Got tensor.size() = {input}");
        int c = input[-3];
        foreach (var (name, values) in new[] { ("mean", Mean), ("std", Std) })
            if (values.Length != 1 && values.Length != c)
                throw Error($"{name} has {values.Length} values but the input has {c} channels (dimension -3 of {input})");
        return input;
    }

    /// <inheritdoc/>
    protected override Tensor Compute(Tensor input, Shape outputShape)
    {
        int c = input.Shape[-3];
        int plane = checked((int)input.Shape.Skip(input.Rank - 2).ElementCount);
        long planes = input.Shape.Take(input.Rank - 2).ElementCount;
        var y = TensorPool.Rent(outputShape);
        var x = input.Span;
        for (long p = 0; p < planes; p++)
        {
            int ch = (int)(p % c);
            float m = (float)Mean[Mean.Length == 1 ? 0 : ch], s = (float)Std[Std.Length == 1 ? 0 : ch];
            var dst = y.AsSpan(checked((int)(p * plane)), plane);
            TensorPrimitives.Subtract(x.Slice((int)(p * plane), plane), m, dst);
            TensorPrimitives.Divide(dst, s, dst);
        }
        return Tensor.Own(y, outputShape);
    }

    /// <summary>Structural equality over mean and std.</summary>
    public bool Equals(Normalize? other) => other is not null && Mean.SequenceEqual(other.Mean) && Std.SequenceEqual(other.Std);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Mean.Length, Std.Length);

    /// <inheritdoc/>
    protected override string ExtraRepr() =>
        $"mean=[{string.Join(", ", Mean.Select(v => PyRepr.Float(v)))}], std=[{string.Join(", ", Std.Select(v => PyRepr.Float(v)))}]";
}

/// <summary>
/// torchvision's <c>transforms.ToTensor</c> for a float image in height × width × channels order
/// (a NumPy-style array): <c>(H, W, C)</c> becomes <c>(C, H, W)</c>, <c>(H, W)</c> becomes
/// <c>(1, H, W)</c>; values unchanged. For 8-bit pixels (scaled to [0, 1]) use
/// <see cref="FromPixels"/>; for a float buffer with a row stride, <see cref="FromHwc"/>.
/// </summary>
public sealed record ToTensor : Layer
{
    /// <inheritdoc/>
    public override Shape OutputShape(Shape input) => input.Rank switch
    {
        2 => [1, input[0], input[1]],
        3 => [input[2], input[0], input[1]],
        _ => throw Error($"expected an image of shape (H, W, C) or (H, W), got input of size {input}"),
    };

    /// <inheritdoc/>
    protected override Tensor Compute(Tensor input, Shape outputShape)
    {
        int c = outputShape[0], h = outputShape[1], w = outputShape[2];
        return Tensor.Own(Planar(input.Span, h, w, c, w * c), outputShape);
    }

    /// <summary>
    /// An image tensor <c>(3, H, W)</c>, RGB, in [0, 1] from 8-bit interleaved pixels, as torchvision's
    /// <c>to_tensor</c> of an <c>H×W×3</c> uint8 array (each byte / 255 in float32). Rows are
    /// <paramref name="rowStride"/> bytes apart (0: tightly packed); BGR orders are swapped to RGB
    /// and alpha is dropped. Copies once; the pixels are not kept.
    /// </summary>
    public static Tensor FromPixels(ReadOnlySpan<byte> pixels, int width, int height, PixelFormat format, int rowStride = 0)
    {
        int bpp = format is PixelFormat.Rgba32 or PixelFormat.Bgra32 ? 4 : 3;
        bool bgr = format is PixelFormat.Bgr24 or PixelFormat.Bgra32;
        int stride = CheckLayout(pixels.Length, width, height, bpp, rowStride, "FromPixels", "bytes");
        var y = TensorPool.Rent(checked(3 * width * height));
        long plane = (long)width * height;
        for (int r = 0; r < height; r++)
        {
            var row = pixels.Slice(r * stride, width * bpp);
            for (int c = 0; c < 3; c++)
            {
                int source = bgr ? 2 - c : c;
                var dst = y.AsSpan((int)(c * plane + (long)r * width), width);
                for (int x = 0; x < width; x++) dst[x] = row[x * bpp + source] / 255f;
            }
        }
        return Tensor.Own(y, [3, height, width]);
    }

    /// <summary>
    /// An image tensor <c>(C, H, W)</c> from float pixels in height × width × channels order, rows
    /// <paramref name="rowStride"/> floats apart (0: tightly packed); values unchanged. Copies once.
    /// </summary>
    public static Tensor FromHwc(ReadOnlySpan<float> values, int width, int height, int channels, int rowStride = 0)
    {
        if (channels < 1) throw new ShapeException($"ToTensor.FromHwc: channels must be positive, got {channels}");
        int stride = CheckLayout(values.Length, width, height, channels, rowStride, "FromHwc", "floats");
        return Tensor.Own(Planar(values, height, width, channels, stride), [channels, height, width]);
    }

    /// <summary>Interleaved rows (<paramref name="stride"/> apart) to channel planes.</summary>
    private static float[] Planar(ReadOnlySpan<float> hwc, int h, int w, int c, int stride)
    {
        var y = TensorPool.Rent(checked(c * w * h));
        long plane = (long)w * h;
        for (int r = 0; r < h; r++)
        {
            var row = hwc.Slice(r * stride, w * c);
            for (int ch = 0; ch < c; ch++)
            {
                var dst = y.AsSpan((int)(ch * plane + (long)r * w), w);
                for (int x = 0; x < w; x++) dst[x] = row[x * c + ch];
            }
        }
        return y;
    }

    /// <summary>The row stride in elements, after checking that the buffer holds the image.</summary>
    private static int CheckLayout(int length, int width, int height, int perPixel, int rowStride, string who, string unit)
    {
        if (width < 1 || height < 1) throw new ShapeException($"ToTensor.{who}: width and height must be positive, got {width}×{height}");
        long row = (long)width * perPixel;
        long stride = rowStride == 0 ? row : rowStride;
        if (stride < row) throw new ShapeException($"ToTensor.{who}: row stride {rowStride} is less than a row of {width} pixels ({row} {unit})");
        long needed = (height - 1) * stride + row;
        if (needed > int.MaxValue / 4) throw new ShapeException($"ToTensor.{who}: an image of {width}×{height} is too large");
        if (length < needed)
            throw new ShapeException($"ToTensor.{who}: {width}×{height} pixels with a row stride of {stride} need {needed} {unit}, got {length}");
        return (int)stride;
    }
}
