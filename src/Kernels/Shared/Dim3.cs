namespace Functional.Kernels;

/// <summary>
/// Three spatial extents (depth, height, width). Kernels treat every convolution and pool
/// as 3-D: a 1-D problem is <c>(1, 1, W)</c>, a 2-D one <c>(1, H, W)</c>, so one loop nest
/// serves all three ranks.
/// </summary>
public readonly record struct Dim3(int D, int H, int W)
{
    /// <summary>D·H·W.</summary>
    public long Volume => (long)D * H * W;

    /// <summary>The same value in every dimension.</summary>
    public static Dim3 All(int value) => new(value, value, value);

    /// <inheritdoc/>
    public override string ToString() => $"({D}, {H}, {W})";
}
