namespace Functional.ParityTests;

/// <summary>
/// ToTensor from 8-bit pixels against PyTorch: the "totensor_hwc" case's input holds bytes / 255
/// (as <c>F.to_tensor</c> of a uint8 array makes them) and its output is torchvision's C×H×W
/// tensor, so the same pixels, laid out as RGB, BGR, RGBA or BGRA bytes with padded rows, must
/// give exactly that output.
/// </summary>
public class PreprocessTests
{
    [Theory]
    [InlineData(PixelFormat.Rgb24, 0)]
    [InlineData(PixelFormat.Rgb24, 7)]
    [InlineData(PixelFormat.Bgr24, 5)]
    [InlineData(PixelFormat.Rgba32, 0)]
    [InlineData(PixelFormat.Bgra32, 3)]
    public void FromPixels_matches_torchvision_to_tensor(PixelFormat format, int rowPadding)
    {
        using var file = SafeTensors.Open(Path.Combine(ParityTests.CasesFolder, "preprocess", "totensor_hwc.safetensors"));
        using var hwc = file.ReadFloat("input");
        using var expected = file.ReadFloat("output");
        int h = hwc.Shape[0], w = hwc.Shape[1];
        int bpp = format is PixelFormat.Rgba32 or PixelFormat.Bgra32 ? 4 : 3;
        bool bgr = format is PixelFormat.Bgr24 or PixelFormat.Bgra32;
        int stride = w * bpp + rowPadding;
        // Padding bytes and alpha hold values that must not show up in the output.
        var pixels = Enumerable.Repeat((byte)0xAB, h * stride).ToArray();
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                for (int c = 0; c < 3; c++)
                {
                    float v = hwc[y, x, c] * 255f;
                    Assert.Equal(MathF.Round(v), v, 3e-4f);
                    pixels[y * stride + x * bpp + (bgr ? 2 - c : c)] = (byte)MathF.Round(v);
                }
        using var actual = ToTensor.FromPixels(pixels, w, h, format, rowPadding == 0 ? 0 : stride);
        Assert.Equal(expected.Shape, actual.Shape);
        Assert.Equal(expected.ToArray(), actual.ToArray());
    }

    [Fact]
    public void FromHwc_with_a_row_stride_matches_the_layer()
    {
        using var file = SafeTensors.Open(Path.Combine(ParityTests.CasesFolder, "preprocess", "totensor_hwc.safetensors"));
        using var hwc = file.ReadFloat("input");
        using var expected = file.ReadFloat("output");
        int h = hwc.Shape[0], w = hwc.Shape[1], c = hwc.Shape[2], stride = w * c + 2;
        var padded = new float[h * stride];
        for (int y = 0; y < h; y++) hwc.Span.Slice(y * w * c, w * c).CopyTo(padded.AsSpan(y * stride));
        using var actual = ToTensor.FromHwc(padded, w, h, c, stride);
        Assert.Equal(expected.ToArray(), actual.ToArray());
    }

    [Fact]
    public void FromPixels_names_what_is_wrong_with_the_buffer()
    {
        var e = Assert.Throws<ShapeException>(() => ToTensor.FromPixels(new byte[10], 2, 2, PixelFormat.Rgb24));
        Assert.Contains("need 12 bytes, got 10", e.Message);
        e = Assert.Throws<ShapeException>(() => ToTensor.FromPixels(new byte[100], 4, 2, PixelFormat.Rgba32, rowStride: 8));
        Assert.Contains("row stride 8 is less than a row of 4 pixels (16 bytes)", e.Message);
    }
}
