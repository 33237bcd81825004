namespace Functional;

/// <summary>
/// <c>torch.nn.PixelShuffle</c>: rearranges <c>(*, C·r², H, W)</c> into <c>(*, C, H·r, W·r)</c>,
/// <c>out[c, h·r + i, w·r + j] = in[c·r² + i·r + j, h, w]</c> (sub-pixel convolution's reshuffle).
/// Any number of leading dimensions, at least 3 dimensions in all.
/// </summary>
public sealed record PixelShuffle : Layer
{
    /// <summary>PyTorch's argument: the factor <c>r</c> each spatial size grows by.</summary>
    public PixelShuffle(int upscaleFactor) => UpscaleFactor = upscaleFactor;

    /// <summary>The factor <c>r</c>.</summary>
    public int UpscaleFactor
    {
        get;
        init => field = value >= 1 ? value : throw new ShapeException($"PixelShuffle: upscale_factor must be positive, got {value}");
    }

    /// <inheritdoc/>
    public override Shape OutputShape(Shape input)
    {
        int r = UpscaleFactor;
        if (input.Rank < 3)
            throw Error($"pixel_shuffle expects input to have at least 3 dimensions, but got input of size {input}");
        int c = input[-3];
        if (c % (r * r) != 0)
            throw Error($"pixel_shuffle expects its input's 'channel' dimension to be divisible by the square of upscale_factor ({r * r}), but got input of size {input}");
        return input.Take(input.Rank - 3).Concat(new Shape(c / (r * r), input[-2] * r, input[-1] * r));
    }

    /// <inheritdoc/>
    protected override Tensor Compute(Tensor input, Shape outputShape) =>
        PixelShuffling.Run(input, outputShape, UpscaleFactor, shuffle: true);

    /// <inheritdoc/>
    protected override string ExtraRepr() => $"upscale_factor={UpscaleFactor}";
}

/// <summary>
/// <c>torch.nn.PixelUnshuffle</c>: the inverse of <see cref="PixelShuffle"/>,
/// <c>(*, C, H·r, W·r)</c> to <c>(*, C·r², H, W)</c>.
/// </summary>
public sealed record PixelUnshuffle : Layer
{
    /// <summary>PyTorch's argument: the factor <c>r</c> each spatial size shrinks by.</summary>
    public PixelUnshuffle(int downscaleFactor) => DownscaleFactor = downscaleFactor;

    /// <summary>The factor <c>r</c>.</summary>
    public int DownscaleFactor
    {
        get;
        init => field = value >= 1 ? value : throw new ShapeException($"PixelUnshuffle: downscale_factor must be positive, got {value}");
    }

    /// <inheritdoc/>
    public override Shape OutputShape(Shape input)
    {
        int r = DownscaleFactor;
        if (input.Rank < 3)
            throw Error($"pixel_unshuffle expects input to have at least 3 dimensions, but got input of size {input}");
        if (input[-2] % r != 0)
            throw Error($"pixel_unshuffle expects height to be divisible by downscale_factor, but got input of size {input} (height {input[-2]}, downscale_factor {r})");
        if (input[-1] % r != 0)
            throw Error($"pixel_unshuffle expects width to be divisible by downscale_factor, but got input of size {input} (width {input[-1]}, downscale_factor {r})");
        return input.Take(input.Rank - 3).Concat(new Shape(input[-3] * r * r, input[-2] / r, input[-1] / r));
    }

    /// <inheritdoc/>
    protected override Tensor Compute(Tensor input, Shape outputShape) =>
        PixelShuffling.Run(input, outputShape, DownscaleFactor, shuffle: false);

    /// <inheritdoc/>
    protected override string ExtraRepr() => $"downscale_factor={DownscaleFactor}";
}

/// <summary>The one loop behind both directions: small channels × large image ⇄ large channels × small image.</summary>
internal static class PixelShuffling
{
    public static Tensor Run(Tensor input, Shape outputShape, int r, bool shuffle)
    {
        // Name everything from the small-image side: (C·r², H, W) ⇄ (C, H·r, W·r).
        var big = shuffle ? outputShape : input.Shape;
        int c = big[-3], h = big[-2] / r, w = big[-1] / r;
        long lead = big.Take(big.Rank - 3).ElementCount;
        var src = input.Buffer;
        var y = TensorPool.Rent(input.Count);
        long block = (long)c * r * r * h * w;
        for (long b = 0; b < lead; b++)
        {
            long o = b * block;
            for (int ch = 0; ch < c; ch++)
                for (int hh = 0; hh < h; hh++)
                    for (int i = 0; i < r; i++)
                    {
                        // One row of the large image: (ch, hh·r + i, :).
                        long bigRow = o + ((long)ch * h * r + hh * r + i) * w * r;
                        for (int j = 0; j < r; j++)
                        {
                            long smallRow = o + (((long)ch * r * r + i * r + j) * h + hh) * w;
                            for (int ww = 0; ww < w; ww++)
                            {
                                if (shuffle) y[bigRow + ww * r + j] = src[smallRow + ww];
                                else y[smallRow + ww] = src[bigRow + ww * r + j];
                            }
                        }
                    }
        }
        return Tensor.Own(y, outputShape);
    }
}
