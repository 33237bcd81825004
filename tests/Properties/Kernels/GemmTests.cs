using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Functional.Kernels;

namespace Functional.Properties.Kernels;

/// <summary>
/// The packed SGEMM core against a naive triple loop, the SIMD micro-kernel of this process's
/// <see cref="Simd.Width"/> and the portable one (run the suite with FUNCTIONAL_SIMD_WIDTH=256 and
/// 512 to cover both SIMD tiles).
/// </summary>
public class GemmTests
{
    private static void Check(int m, int n, int k, int seed, bool fast)
    {
        var rng = new Random(seed);
        var a = ConvCases.Random(m * k, rng);
        var b = ConvCases.Random(k * n, rng);
        var c = new float[m * n];
        Array.Fill(c, float.NaN);
        Gemm.Multiply(m, n, k, a, b, c, fast);
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double s = 0, mag = 0;
                for (int t = 0; t < k; t++) { s += (double)a[i * k + t] * b[t * n + j]; mag += Math.Abs((double)a[i * k + t] * b[t * n + j]); }
                Assert.True(Math.Abs(c[i * n + j] - s) <= 1e-6 + 1e-5 * mag, $"m={m} n={n} k={k} fast={fast}: C[{i},{j}] = {c[i * n + j]}, expected {s}");
            }
    }

    [Property(MaxTest = 100)]
    public Property Small_products_match_naive() =>
        Prop.ForAll(Gen.Choose(1, 30).ToArbitrary(), Gen.Choose(1, 60).ToArbitrary(), Gen.Choose(0, 40).ToArbitrary(), (m, n, k) =>
        {
            Check(m, n, k, m * 1000 + n * 10 + k, fast: true);
            Check(m, n, k, m * 1000 + n * 10 + k, fast: false);
        });

    [Theory]
    [InlineData(4, 24, 1)]
    [InlineData(130, 250, 300)]
    [InlineData(7, 481, 513)]
    [InlineData(129, 24, 256)]
    [InlineData(8, 32, 1)]
    [InlineData(16, 64, 257)]
    [InlineData(137, 330, 70)]
    public void Blocking_edges_match_naive(int m, int n, int k)
    {
        Check(m, n, k, 7, fast: true);
        Check(m, n, k, 8, fast: false);
    }

    [Fact]
    public void Width_follows_the_override_and_the_machine()
    {
        string? forced = Environment.GetEnvironmentVariable(Simd.WidthVariable);
        bool avx2 = System.Runtime.Intrinsics.X86.Avx2.IsSupported && System.Runtime.Intrinsics.X86.Fma.IsSupported;
        bool avx512 = avx2 && System.Runtime.Intrinsics.X86.Avx512F.IsSupported && System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated;
        Assert.Contains(Simd.Width, new[] { 0, 256, 512 });
        Assert.Equal(avx2, Simd.Width >= 256);
        if (!avx512) Assert.NotEqual(512, Simd.Width);
        if (forced == "256" && avx2) Assert.Equal(256, Simd.Width);
        if (forced == "512" && avx512) Assert.Equal(512, Simd.Width);
        if (forced is null && avx512) Assert.Equal(Simd.WideFmaSpeedup >= 1.5 ? 512 : 256, Simd.Width);
        Assert.Equal(Simd.Width == 512 ? (8, 32) : (4, 24), (Gemm.MR, Gemm.NR));
    }
}
