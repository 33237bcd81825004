using Functional;

/// <summary>
/// 8-bit RGB pixels read from a binary PPM (P6) or an uncompressed 24/32-bit BMP: just enough
/// decoding for a sample. Apps use their image library and hand its pixel rows to
/// <see cref="ToTensor.FromPixels"/> (see the README: ImageSharp's <c>CopyPixelDataTo</c>,
/// SkiaSharp's <c>SKBitmap.GetPixelSpan</c>).
/// </summary>
public sealed record Pixels(byte[] Data, int Width, int Height, PixelFormat Format, int Stride)
{
    /// <summary>Reads a .ppm or .bmp file.</summary>
    public static Pixels Load(string path)
    {
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length > 2 && bytes[0] == 'P' && bytes[1] == '6') return Ppm(bytes);
        if (bytes.Length > 54 && bytes[0] == 'B' && bytes[1] == 'M') return Bmp(bytes);
        throw new InvalidDataException($"{path}: not a binary PPM (P6) or BMP file");
    }

    private static Pixels Ppm(byte[] b)
    {
        // Header: "P6", width, height, maxval, separated by whitespace (and # comments), then one whitespace byte.
        int pos = 2;
        int Next()
        {
            while (char.IsWhiteSpace((char)b[pos]) || b[pos] == '#')
                if (b[pos] == '#') while (b[pos] != '\n') pos++; else pos++;
            int v = 0;
            while (char.IsDigit((char)b[pos])) v = v * 10 + (b[pos++] - '0');
            return v;
        }
        int w = Next(), h = Next(), max = Next();
        if (max != 255) throw new InvalidDataException($"PPM with maxval {max}: only 8-bit (255) is read here");
        pos++;
        return new(b[pos..(pos + w * h * 3)], w, h, PixelFormat.Rgb24, w * 3);
    }

    private static Pixels Bmp(byte[] b)
    {
        int offset = BitConverter.ToInt32(b, 10), w = BitConverter.ToInt32(b, 18), h = BitConverter.ToInt32(b, 22);
        int bits = BitConverter.ToInt16(b, 28), compression = BitConverter.ToInt32(b, 30);
        if (bits is not (24 or 32) || compression is not (0 or 3))
            throw new InvalidDataException($"BMP with {bits} bits per pixel, compression {compression}: only uncompressed 24/32-bit is read here");
        int stride = (w * bits / 8 + 3) & ~3, rows = Math.Abs(h);
        var data = new byte[stride * rows];
        // Positive height: rows stored bottom-up.
        for (int r = 0; r < rows; r++)
            Array.Copy(b, offset + (h > 0 ? rows - 1 - r : r) * stride, data, r * stride, stride);
        return new(data, w, rows, bits == 24 ? PixelFormat.Bgr24 : PixelFormat.Bgra32, stride);
    }
}
